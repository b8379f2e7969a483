// The folder source: .eml files dropped by an operator (or the demo). Files are read, never
// changed or deleted; the content hash makes a second pass over the same folder a no-op.
import { createReadStream, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Intake, IntakeResult } from './pipeline.js';

export function listEmlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listEmlFiles(p));
    else if (entry.isFile() && /\.eml$/i.test(entry.name)) out.push(p);
  }
  return out.sort();
}

export async function ingestFolder(
  dir: string,
  intake: Intake,
): Promise<{ file: string; result: IntakeResult }[]> {
  const results: { file: string; result: IntakeResult }[] = [];
  for (const file of listEmlFiles(dir)) {
    const result = await intake.ingest({
      source: createReadStream(file),
      fallbackReceivedAt: statSync(file).mtime,
    });
    results.push({ file, result });
  }
  return results;
}
