// File sizes as clerks and senders read them.
import { MB } from './limits.js';

/** "200.0 MB" from 1 MB up, else "20 KB" (rounded up, so nothing shows as 0). */
export function formatSize(bytes: number): string {
  return bytes >= MB
    ? `${(bytes / MB).toFixed(1)} MB`
    : `${Math.max(1, Math.ceil(bytes / 1024))} KB`;
}
