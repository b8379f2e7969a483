// Reads for the status matrix and the reminders, on the store's better-sqlite3 handle
// (`store.db`). Kept apart from SqliteStore so the status work needs no change to it; like
// SqliteStore, these are the only places that know the table layout.
import type { Database, Statement } from 'better-sqlite3';
import type { SubmissionRow } from '../core/status.js';

// One row per (message, unit, item): a message with five photos for 7.2 is one submission of
// 7.2, not five. Rejected material never counts; material awaiting review counts (the unit
// did send it; the receipt said so), with `confirmed` telling whether the sender is known.
// received_at is ISO UTC text of one fixed format, so comparing it as text is comparing time.
const SUBMISSIONS_SQL = `
  SELECT m.unit AS unit, m.item AS item, g.received_at AS receivedAt, MAX(m.confirmed) AS confirmed
  FROM materials m JOIN messages g ON g.id = m.message
  WHERE m.status != 'rejected' AND m.unit IS NOT NULL AND m.item IS NOT NULL
    AND g.received_at <= @until AND (@unit IS NULL OR m.unit = @unit)
  GROUP BY m.message, m.unit, m.item`;

const statements = new WeakMap<Database, Statement>();

/**
 * Every submission received by `until` (default: all), optionally of one unit. Raw rows
 * (arrays, not objects) keep 200,000 rows to a few tens of milliseconds.
 */
export function loadSubmissions(
  db: Database,
  opts: { until?: Date; unit?: string } = {},
): SubmissionRow[] {
  let stmt = statements.get(db);
  if (!stmt) {
    stmt = db.prepare(SUBMISSIONS_SQL).raw(true);
    statements.set(db, stmt);
  }
  // '9' sorts after every ISO timestamp: "no upper bound" without a second statement.
  const until = opts.until ? opts.until.toISOString() : '9';
  const rows = stmt.all({ until, unit: opts.unit ?? null }) as [string, string, string, number][];
  const out: SubmissionRow[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    out[i] = { unit: r[0], item: r[1], receivedAt: new Date(r[2]), confirmed: r[3] === 1 };
  }
  return out;
}

/** Dedupe keys of the outbox rows already queued for a period (reminders and the summary),
 * so a dry run can tell "would send" from "already sent this week". The range on the unique
 * key's index keeps this fast however many receipts the outbox holds. */
export function queuedKeysForPeriod(db: Database, period: string): Set<string> {
  const rows = db
    .prepare(
      `SELECT dedupe_key FROM outbox
       WHERE (dedupe_key >= 'reminder:' AND dedupe_key < 'reminder;' AND dedupe_key LIKE '%:' || @period)
          OR dedupe_key = 'summary:' || @period`,
    )
    .pluck()
    .all({ period }) as string[];
  return new Set(rows);
}
