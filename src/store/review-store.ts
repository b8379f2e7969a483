// Store access for the review queue (migrations/003_review.sql) on the store's better-sqlite3
// handle (`store.db`): what waits for a decision, the decisions (the audit) and the addresses
// they taught. Kept apart from SqliteStore so the review work needs no change to it; like
// SqliteStore, this is one of the few places that know the table layout.
import type { Database, Statement } from 'better-sqlite3';
import type { MessageRecord } from './sqlite.js';

export interface LearnedAddress {
  address: string;
  unit: string;
  learnedAt: string;
  learnedBy: string;
  decision: number;
}

/** A material with the message it came in, as the review needs it. */
export interface ReviewMaterial {
  id: number;
  message: number;
  kind: 'file' | 'link';
  filename: string;
  size: number | null;
  accessCode: string | null;
  unit: string | null;
  item: string | null;
  confirmed: boolean;
  status: 'credited' | 'review' | 'rejected';
  reason: string;
}

/** A recorded message as review reads it back: its row id, and the time as stored (ISO). */
export interface ReviewMessage extends Omit<MessageRecord, 'size' | 'receivedAt' | 'dateHeader'> {
  id: number;
  receivedAt: string;
}

/** The fields of a material a decision may change. */
export type MaterialChange = Pick<
  ReviewMaterial,
  'unit' | 'item' | 'confirmed' | 'status' | 'reason'
>;

export interface DecisionRecord {
  decidedAt: Date;
  decidedBy: string;
  action: 'assign' | 'confirm_sender' | 'reject';
  message: number;
  material: number | null;
  before: unknown;
  after: unknown;
  note: string | null;
}

export interface DecisionRow extends Omit<DecisionRecord, 'decidedAt'> {
  id: number;
  decidedAt: string;
  receipts: string[];
}

const MATERIAL_COLS = `id, message, kind, filename, size, access_code, unit, item, confirmed, status, reason`;
const MESSAGE_COLS = `id, sha256, message_id, raw_path, received_at, from_address, from_name, subject, kind,
  reason, unit, unit_confirmed, reply`;

function toMaterial(r: Record<string, unknown>): ReviewMaterial {
  return {
    id: r.id as number,
    message: r.message as number,
    kind: r.kind as ReviewMaterial['kind'],
    filename: r.filename as string,
    size: r.size as number | null,
    accessCode: r.access_code as string | null,
    unit: r.unit as string | null,
    item: r.item as string | null,
    confirmed: r.confirmed === 1,
    status: r.status as ReviewMaterial['status'],
    reason: r.reason as string,
  };
}

function toMessage(r: Record<string, unknown>): ReviewMessage {
  return {
    id: r.id as number,
    sha256: r.sha256 as string,
    messageId: r.message_id as string | null,
    rawPath: r.raw_path as string,
    receivedAt: r.received_at as string,
    fromAddress: r.from_address as string | null,
    fromName: r.from_name as string | null,
    subject: r.subject as string,
    kind: r.kind as ReviewMessage['kind'],
    reason: r.reason as string,
    unit: r.unit as string | null,
    unitConfirmed: r.unit_confirmed === 1,
    reply: r.reply as string,
  };
}

export class ReviewStore {
  constructor(readonly db: Database) {}

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // --- what waits --------------------------------------------------------------------------

  /** Materials waiting for a decision, oldest mail first. */
  pendingMaterials(): ReviewMaterial[] {
    const rows = this.db
      .prepare(
        `SELECT m.${MATERIAL_COLS.split(', ').join(', m.')} FROM materials m
         JOIN messages g ON g.id = m.message
         WHERE m.status = 'review' ORDER BY g.received_at, m.id`,
      )
      .all() as Record<string, unknown>[];
    return rows.map(toMaterial);
  }

  /** Messages that could not be read and that no clerk has set aside yet. */
  pendingFailedMessages(): ReviewMessage[] {
    const rows = this.db
      .prepare(
        `SELECT ${MESSAGE_COLS} FROM messages g
         WHERE g.kind = 'failed'
           AND NOT EXISTS (SELECT 1 FROM review_decisions d WHERE d.message = g.id AND d.material IS NULL)
         ORDER BY g.received_at, g.id`,
      )
      .all() as Record<string, unknown>[];
    return rows.map(toMessage);
  }

  material(id: number): ReviewMaterial | undefined {
    const r = this.db.prepare(`SELECT ${MATERIAL_COLS} FROM materials WHERE id = ?`).get(id) as
      Record<string, unknown> | undefined;
    return r ? toMaterial(r) : undefined;
  }

  message(id: number): ReviewMessage | undefined {
    const r = this.db.prepare(`SELECT ${MESSAGE_COLS} FROM messages WHERE id = ?`).get(id) as
      Record<string, unknown> | undefined;
    return r ? toMessage(r) : undefined;
  }

  messagesByIds(ids: readonly number[]): Map<number, ReviewMessage> {
    const out = new Map<number, ReviewMessage>();
    const stmt = this.db.prepare(`SELECT ${MESSAGE_COLS} FROM messages WHERE id = ?`);
    for (const id of new Set(ids)) {
      const r = stmt.get(id) as Record<string, unknown> | undefined;
      if (r) out.set(id, toMessage(r));
    }
    return out;
  }

  materialsOf(message: number): ReviewMaterial[] {
    const rows = this.db
      .prepare(`SELECT ${MATERIAL_COLS} FROM materials WHERE message = ? ORDER BY id`)
      .all(message) as Record<string, unknown>[];
    return rows.map(toMaterial);
  }

  /** Materials still waiting that came from this sender address (any message). */
  pendingFrom(address: string): ReviewMaterial[] {
    const rows = this.db
      .prepare(
        `SELECT m.${MATERIAL_COLS.split(', ').join(', m.')} FROM materials m
         JOIN messages g ON g.id = m.message
         WHERE m.status = 'review' AND g.from_address = ? ORDER BY g.received_at, m.id`,
      )
      .all(address.toLowerCase()) as Record<string, unknown>[];
    return rows.map(toMaterial);
  }

  // --- changes -----------------------------------------------------------------------------

  updateMaterial(id: number, c: MaterialChange): void {
    this.db
      .prepare(
        `UPDATE materials SET unit = ?, item = ?, confirmed = ?, status = ?, reason = ? WHERE id = ?`,
      )
      .run(c.unit, c.item, c.confirmed ? 1 : 0, c.status, c.reason, id);
  }

  updateMessageUnit(id: number, unit: string | null, confirmed: boolean): void {
    this.db
      .prepare(`UPDATE messages SET unit = ?, unit_confirmed = ? WHERE id = ?`)
      .run(unit, confirmed ? 1 : 0, id);
  }

  recordDecision(d: DecisionRecord): number {
    const r = this.db
      .prepare(
        `INSERT INTO review_decisions (decided_at, decided_by, action, message, material, before, after, note)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        d.decidedAt.toISOString(),
        d.decidedBy,
        d.action,
        d.message,
        d.material,
        JSON.stringify(d.before),
        JSON.stringify(d.after),
        d.note,
      );
    return Number(r.lastInsertRowid);
  }

  setDecisionReceipts(id: number, keys: string[]): void {
    this.db
      .prepare(`UPDATE review_decisions SET receipts = ? WHERE id = ?`)
      .run(keys.length ? JSON.stringify(keys) : null, id);
  }

  decisions(): DecisionRow[] {
    const rows = this.db
      .prepare(
        `SELECT id, decided_at, decided_by, action, message, material, before, after, note, receipts
         FROM review_decisions ORDER BY id`,
      )
      .all() as Record<string, unknown>[];
    return rows.map((r) => ({
      id: r.id as number,
      decidedAt: r.decided_at as string,
      decidedBy: r.decided_by as string,
      action: r.action as DecisionRow['action'],
      message: r.message as number,
      material: r.material as number | null,
      before: JSON.parse(r.before as string) as unknown,
      after: JSON.parse(r.after as string) as unknown,
      note: r.note as string | null,
      receipts: r.receipts ? (JSON.parse(r.receipts as string) as string[]) : [],
    }));
  }

  /** The clerk's reason for each rejected material of a message (latest decision wins). */
  rejectNotes(message: number): Map<number, string> {
    const rows = this.db
      .prepare(
        `SELECT after, note FROM review_decisions WHERE message = ? AND action = 'reject' ORDER BY id`,
      )
      .all(message) as { after: string; note: string | null }[];
    const out = new Map<number, string>();
    for (const r of rows) {
      const after = JSON.parse(r.after) as { materials?: { id: number }[] };
      for (const m of after.materials ?? []) out.set(m.id, r.note ?? '');
    }
    return out;
  }

  // --- learned addresses -------------------------------------------------------------------

  learnedAddresses(): LearnedAddress[] {
    const rows = this.db
      .prepare(
        `SELECT address, unit, learned_at, learned_by, decision FROM learned_addresses ORDER BY unit, address`,
      )
      .all() as Record<string, unknown>[];
    return rows.map((r) => ({
      address: r.address as string,
      unit: r.unit as string,
      learnedAt: r.learned_at as string,
      learnedBy: r.learned_by as string,
      decision: r.decision as number,
    }));
  }

  learnedUnit(address: string): string | null {
    const r = this.db
      .prepare(`SELECT unit FROM learned_addresses WHERE address = ?`)
      .get(address.toLowerCase()) as { unit: string } | undefined;
    return r?.unit ?? null;
  }

  /** Inserts or moves an address to a unit (a later decision overrides an earlier one). */
  learnAddress(address: string, unit: string, at: Date, by: string, decision: number): void {
    this.db
      .prepare(
        `INSERT INTO learned_addresses (address, unit, learned_at, learned_by, decision) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(address) DO UPDATE SET unit = excluded.unit, learned_at = excluded.learned_at,
           learned_by = excluded.learned_by, decision = excluded.decision`,
      )
      .run(address.toLowerCase(), unit, at.toISOString(), by, decision);
  }

  /**
   * Changes whenever an address is learned or moved: the daemon's classifier compares it
   * before each message and rebuilds its lookups only when it differs. One indexed
   * aggregate: cheap next to parsing a message.
   */
  learnedSignature(): string {
    this.signatureStmt ??= this.db.prepare(
      `SELECT COUNT(*) AS n, COALESCE(MAX(decision), 0) AS d FROM learned_addresses`,
    );
    const r = this.signatureStmt.get() as { n: number; d: number };
    return `${r.n}:${r.d}`;
  }

  private signatureStmt: Statement | undefined;
}
