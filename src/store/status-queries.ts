// Reads for the status matrix and the reminders, on the store's better-sqlite3 handle
// (`store.db`). Kept apart from SqliteStore so the status work needs no change to it; like
// SqliteStore, these are the only places that know the table layout.
import type { Database, Statement } from 'better-sqlite3';
import type { SubmissionColumns, SubmissionRow } from '../core/status.js';

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

// SUBMISSIONS_SQL for the status matrix of a province. The messages received by @until are
// read in time order from their received_at index and each one's countable materials from
// materials_counting (migration 005): index pages only, and nothing after @until is touched.
// CROSS JOIN keeps that order whatever the planner would guess on a database never ANALYZEd;
// grouping in that order needs no sort. What crosses into JS is one row of four JSON arrays
// (units, items, epoch ms, confirmed): better-sqlite3 spends ~1 µs on each row it hands over
// and JSON.parse a fraction of that, and a province has 50,000-200,000 submissions.
// received_at becomes epoch ms in SQL (its one fixed format reads as the same instant there as
// in JS), so no Date and no date text is made per submission.
export const SUBMISSION_COLUMNS_SQL = `
  SELECT json_group_array(unit), json_group_array(item),
    '[' || coalesce(group_concat(coalesce(at, 'null')), '') || ']',
    '[' || coalesce(group_concat(confirmed), '') || ']'
  FROM (
    SELECT m.unit AS unit, m.item AS item, MAX(m.confirmed) AS confirmed,
      CAST(round(unixepoch(g.received_at, 'subsec') * 1000) AS INTEGER) AS at
    FROM messages g CROSS JOIN materials m ON m.message = g.id
    WHERE g.received_at <= @until
      AND m.status != 'rejected' AND m.unit IS NOT NULL AND m.item IS NOT NULL
    GROUP BY g.received_at, g.id, m.unit, m.item)`;

const columnStatements = new WeakMap<Database, Statement>();

/**
 * loadSubmissions(db, { until }) as columns, for statusMatrixFromColumns(): the same
 * submissions, without an object or a Date apiece.
 */
export function loadSubmissionColumns(db: Database, until: Date): SubmissionColumns {
  let stmt = columnStatements.get(db);
  if (!stmt) {
    stmt = db.prepare(SUBMISSION_COLUMNS_SQL).raw(true);
    columnStatements.set(db, stmt);
  }
  const row = stmt.get({ until: until.toISOString() }) as [string, string, string, string];
  const receivedAt = JSON.parse(row[2]) as (number | null)[];
  // null: a received_at SQLite cannot read (the store writes none): NaN, the invalid Date's time.
  for (let j = 0; j < receivedAt.length; j++) if (receivedAt[j] === null) receivedAt[j] = NaN;
  return {
    unit: JSON.parse(row[0]) as string[],
    item: JSON.parse(row[1]) as string[],
    receivedAt: receivedAt as number[],
    confirmed: JSON.parse(row[3]) as number[],
  };
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
