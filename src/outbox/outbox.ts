// Sends what the outbox table holds: each row is claimed, sent, then marked. A refused send
// is retried with backoff; a 5xx is recorded as failed for the office to see.
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { OUTBOX_MAX_ATTEMPTS, OUTBOX_RETRY_MAX_MS, OUTBOX_RETRY_MIN_MS } from '../core/limits.js';
import type { SqliteStore } from '../store/sqlite.js';
import { SendError, type MailSender } from './senders.js';

export interface FlushResult {
  sent: number;
  retry: number;
  failed: number;
}

export class Outbox {
  private running: Promise<FlushResult> | null = null;

  constructor(
    private readonly deps: { store: SqliteStore; sender: MailSender; clock: Clock; log: Logger },
    /** Sends per minute: providers block bursts (40 reminders at once). 0 = no pacing. */
    private readonly perMinute = 0,
  ) {}

  /** Sends everything due. Concurrent calls share one run, so a row is never sent twice. */
  flush(): Promise<FlushResult> {
    this.running ??= this.run().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async run(): Promise<FlushResult> {
    const { store, sender, clock, log } = this.deps;
    const result: FlushResult = { sent: 0, retry: 0, failed: 0 };
    for (;;) {
      const rows = store.claimDue(clock.now(), 10);
      if (rows.length === 0) return result;
      for (const row of rows) {
        try {
          await sender.send(row);
          store.markSent(row.id, clock.now());
          result.sent++;
          log.info({ event: 'outbox.sent', id: row.id, kind: row.kind, to: row.to }, 'mail sent');
        } catch (err) {
          const msg = (err as Error).message;
          const permanent = err instanceof SendError && err.permanent;
          if (permanent || row.attempts >= OUTBOX_MAX_ATTEMPTS) {
            store.markFailed(row.id, msg);
            result.failed++;
            log.error(
              { event: 'outbox.failed', id: row.id, to: row.to, err: msg },
              'mail given up',
            );
          } else {
            const delay = Math.min(
              OUTBOX_RETRY_MIN_MS * 2 ** (row.attempts - 1),
              OUTBOX_RETRY_MAX_MS,
            );
            store.markRetry(row.id, msg, new Date(clock.now().getTime() + delay));
            result.retry++;
            log.warn(
              { event: 'outbox.retry', id: row.id, to: row.to, err: msg, inMs: delay },
              'mail will be retried',
            );
          }
        }
        if (this.perMinute > 0) await new Promise((r) => setTimeout(r, 60_000 / this.perMinute));
      }
    }
  }
}
