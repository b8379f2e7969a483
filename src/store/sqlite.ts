// SqliteStore: the only module that talks to better-sqlite3. Each method is one statement or
// one transaction, named after what it means in the domain.
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { migrate } from './migrate.js';
import type { MailAttachment } from '../core/reminder.js';
import type { MaterialDecision } from '../core/types.js';

export interface MessageRecord {
  messageId: string | null;
  sha256: string;
  rawPath: string;
  size: number;
  receivedAt: Date;
  dateHeader: string | null;
  fromAddress: string | null;
  fromName: string | null;
  subject: string;
  kind: 'submission' | 'not_submission' | 'failed';
  reason: string;
  unit: string | null;
  unitConfirmed: boolean;
  reply: string;
}

export interface SourceRef {
  mailbox: string;
  uidvalidity: number;
  uid: number;
}

export interface OutboxMail {
  dedupeKey: string;
  kind: 'receipt' | 'reminder' | 'summary';
  to: string;
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
  mailMessageId: string;
  /** Files sent with the mail (the weekly summary's CSV); none for receipts. */
  attachments?: MailAttachment[];
}

export interface OutboxRow extends OutboxMail {
  id: number;
  attempts: number;
}

export interface MaterialRow {
  id: number;
  messageId: string | null;
  receivedAt: string;
  fromAddress: string | null;
  subject: string;
  unit: string | null;
  item: string | null;
  kind: 'file' | 'link';
  filename: string;
  sha256: string | null;
  size: number | null;
  path: string | null;
  accessCode: string | null;
  confirmed: boolean;
  status: 'credited' | 'review' | 'rejected';
  reason: string;
}

export class SqliteStore {
  readonly db: Db;
  private readonly statements = new Map<string, Statement>();

  constructor(file: string) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.db = new Database(file);
    // Owner-only: the database holds who sent what. SQLite gives -wal/-shm the same mode.
    chmodSync(file, 0o600);
    this.db.pragma('journal_mode = WAL');
    // FULL: a message acknowledged with a receipt must survive a power cut.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    migrate(this.db);
  }

  close(): void {
    this.db.close();
  }

  /** A consistent copy while the daemon keeps writing (SQLite's online backup). */
  async backup(to: string): Promise<void> {
    await this.db.backup(to);
    chmodSync(to, 0o600);
  }

  /** 'ok', or what SQLite found wrong. */
  integrityCheck(): string {
    return (this.db.pragma('integrity_check', { simple: true }) as string) ?? 'unknown';
  }

  /** A prepared statement, prepared once per SQL text: preparing costs more than running the
   * small statements intake runs for every message. */
  private sql(text: string): Statement {
    let stmt = this.statements.get(text);
    if (!stmt) {
      stmt = this.db.prepare(text);
      this.statements.set(text, stmt);
    }
    return stmt;
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Highest UID already processed in this mailbox generation, 0 if none. */
  lastUid(mailbox: string, uidvalidity: number): number {
    const row = this.sql(
      'SELECT MAX(uid) AS m FROM message_sources WHERE mailbox = ? AND uidvalidity = ?',
    ).get(mailbox, uidvalidity) as { m: number | null };
    return row.m ?? 0;
  }

  hasSource(ref: SourceRef): boolean {
    return !!this.sql(
      'SELECT 1 FROM message_sources WHERE mailbox = ? AND uidvalidity = ? AND uid = ?',
    ).get(ref.mailbox, ref.uidvalidity, ref.uid);
  }

  /** The message already recorded with these bytes or this Message-ID. */
  findMessage(sha256: string, messageId: string | null): number | null {
    const row = this.sql(
      'SELECT id FROM messages WHERE sha256 = ? OR (message_id IS NOT NULL AND message_id = ?) LIMIT 1',
    ).get(sha256, messageId) as { id: number } | undefined;
    return row?.id ?? null;
  }

  recordSource(
    ref: SourceRef,
    message: number | null,
    status: 'recorded' | 'duplicate' | 'failed',
    error: string | null,
  ): void {
    this.sql(
      `INSERT OR IGNORE INTO message_sources (mailbox, uidvalidity, uid, message, status, error, processed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(ref.mailbox, ref.uidvalidity, ref.uid, message, status, error, new Date().toISOString());
  }

  insertMessage(m: MessageRecord): number {
    const r = this.sql(
      `INSERT INTO messages (message_id, sha256, raw_path, size, received_at, date_header, from_address,
           from_name, subject, kind, reason, unit, unit_confirmed, reply, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      m.messageId,
      m.sha256,
      m.rawPath,
      m.size,
      m.receivedAt.toISOString(),
      m.dateHeader,
      m.fromAddress,
      m.fromName,
      m.subject,
      m.kind,
      m.reason,
      m.unit,
      m.unitConfirmed ? 1 : 0,
      m.reply,
      new Date().toISOString(),
    );
    return Number(r.lastInsertRowid);
  }

  insertMaterials(
    message: number,
    materials: MaterialDecision[],
    relPath: (abs: string) => string,
  ): void {
    const stmt = this.sql(
      `INSERT INTO materials (message, kind, filename, sha256, size, path, content_type, access_code, unit, item,
         confirmed, status, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const m of materials) {
      stmt.run(
        message,
        m.kind,
        m.filename,
        m.sha256,
        m.size,
        m.path ? relPath(m.path) : null,
        m.contentType,
        m.accessCode,
        m.unit,
        m.item,
        m.confirmed ? 1 : 0,
        m.status,
        m.reason,
      );
    }
  }

  /** Item codes a unit has sent anything for (credited or awaiting review, not rejected). */
  submittedItems(unit: string): Set<string> {
    const rows = this.sql(
      `SELECT DISTINCT item FROM materials WHERE unit = ? AND item IS NOT NULL AND status != 'rejected'`,
    ).all(unit) as { item: string }[];
    return new Set(rows.map((r) => r.item));
  }

  /**
   * Records that our mail with this Message-ID bounced and marks its recipient as failing.
   * Returns the outbox row it matched, or null for a Message-ID we never sent.
   */
  recordBounce(
    mailMessageId: string,
    message: number,
    at: Date,
    reason: string,
  ): { outbox: number; to: string } | null {
    const row = this.sql('SELECT id, to_address FROM outbox WHERE mail_message_id = ?').get(
      mailMessageId,
    ) as { id: number; to_address: string } | undefined;
    if (!row) return null;
    const added = this.sql(
      'INSERT OR IGNORE INTO bounces (outbox, message, address, at) VALUES (?, ?, ?, ?)',
    ).run(row.id, message, row.to_address, at.toISOString()).changes;
    if (added) {
      this.sql(
        `INSERT INTO failing_addresses (address, since, bounces, last_reason) VALUES (?, ?, 1, ?)
           ON CONFLICT(address) DO UPDATE SET bounces = bounces + 1, last_reason = excluded.last_reason`,
      ).run(row.to_address, at.toISOString(), reason);
    }
    return { outbox: row.id, to: row.to_address };
  }

  /** Addresses our mail cannot reach: a permanent SMTP refusal or a bounce, with the last why. */
  undeliverable(): { address: string; reason: string }[] {
    return this.sql(
      `SELECT address, reason FROM (
           SELECT to_address AS address, last_error AS reason, MAX(id) AS k FROM outbox
             WHERE status = 'failed' GROUP BY to_address
           UNION ALL
           SELECT address, last_reason AS reason, 0 AS k FROM failing_addresses
         ) GROUP BY address ORDER BY address`,
    ).all() as { address: string; reason: string }[];
  }

  isFailing(address: string): boolean {
    return !!this.sql('SELECT 1 FROM failing_addresses WHERE address = ?').get(
      address.toLowerCase(),
    );
  }

  /** Receipts queued to an address since a time, for the per-sender cap. */
  receiptsSince(to: string, since: Date): number {
    const row = this.sql(
      `SELECT COUNT(*) AS n FROM outbox WHERE kind = 'receipt' AND to_address = ? AND created_at >= ?`,
    ).get(to.toLowerCase(), since.toISOString()) as { n: number };
    return row.n;
  }

  /** Queues a mail; false when a mail with the same dedupe key exists already. */
  enqueue(mail: OutboxMail, message: number | null, now: Date): boolean {
    const r = this.sql(
      `INSERT OR IGNORE INTO outbox (dedupe_key, kind, message, to_address, subject, text, html, headers,
           attachments, mail_message_id, status, next_attempt_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
    ).run(
      mail.dedupeKey,
      mail.kind,
      message,
      mail.to.toLowerCase(),
      mail.subject,
      mail.text,
      mail.html,
      JSON.stringify(mail.headers),
      JSON.stringify(mail.attachments ?? []),
      mail.mailMessageId,
      now.toISOString(),
      now.toISOString(),
    );
    return r.changes === 1;
  }

  /** Marks due rows as 'sending' and returns them; one caller at a time gets each row. */
  claimDue(now: Date, limit: number): OutboxRow[] {
    return this.transaction(() => {
      const rows = this.sql(
        `SELECT id, dedupe_key, kind, to_address, subject, text, html, headers, attachments, mail_message_id, attempts
           FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?`,
      ).all(now.toISOString(), limit) as {
        id: number;
        dedupe_key: string;
        kind: OutboxMail['kind'];
        to_address: string;
        subject: string;
        text: string;
        html: string;
        headers: string;
        attachments: string;
        mail_message_id: string;
        attempts: number;
      }[];
      const mark = this.sql(
        `UPDATE outbox SET status = 'sending', attempts = attempts + 1 WHERE id = ?`,
      );
      for (const r of rows) mark.run(r.id);
      return rows.map((r) => ({
        id: r.id,
        dedupeKey: r.dedupe_key,
        kind: r.kind,
        to: r.to_address,
        subject: r.subject,
        text: r.text,
        html: r.html,
        headers: JSON.parse(r.headers) as Record<string, string>,
        attachments: JSON.parse(r.attachments) as MailAttachment[],
        mailMessageId: r.mail_message_id,
        attempts: r.attempts + 1,
      }));
    });
  }

  markSent(id: number, at: Date): void {
    this.sql(`UPDATE outbox SET status = 'sent', sent_at = ?, last_error = NULL WHERE id = ?`).run(
      at.toISOString(),
      id,
    );
  }

  markRetry(id: number, error: string, next: Date): void {
    this.sql(
      `UPDATE outbox SET status = 'pending', last_error = ?, next_attempt_at = ? WHERE id = ?`,
    ).run(error, next.toISOString(), id);
  }

  markFailed(id: number, error: string): void {
    this.sql(`UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ?`).run(error, id);
  }

  /**
   * Rows left 'sending' by a crash. Sent or not is unknown; they are tried again with the
   * same Message-ID, so a rare double is recognisable as one mail by the recipient's client.
   */
  requeueInterrupted(): number {
    return this.sql(`UPDATE outbox SET status = 'pending' WHERE status = 'sending'`).run().changes;
  }

  outboxCounts(): Record<string, number> {
    const rows = this.sql('SELECT status, COUNT(*) AS n FROM outbox GROUP BY status').all() as {
      status: string;
      n: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  materials(): MaterialRow[] {
    const rows = this.sql(
      `SELECT m.id, g.message_id, g.received_at, g.from_address, g.subject, m.unit, m.item, m.kind, m.filename,
           m.sha256, m.size, m.path, m.access_code, m.confirmed, m.status, m.reason
         FROM materials m JOIN messages g ON g.id = m.message ORDER BY g.received_at, m.id`,
    ).all() as Record<string, unknown>[];
    return rows.map((r) => ({
      id: r.id as number,
      messageId: r.message_id as string | null,
      receivedAt: r.received_at as string,
      fromAddress: r.from_address as string | null,
      subject: r.subject as string,
      unit: r.unit as string | null,
      item: r.item as string | null,
      kind: r.kind as 'file' | 'link',
      filename: r.filename as string,
      sha256: r.sha256 as string | null,
      size: r.size as number | null,
      path: r.path as string | null,
      accessCode: r.access_code as string | null,
      confirmed: r.confirmed === 1,
      status: r.status as MaterialRow['status'],
      reason: r.reason as string,
    }));
  }

  messageCounts(): Record<string, number> {
    const rows = this.sql('SELECT kind, COUNT(*) AS n FROM messages GROUP BY kind').all() as {
      kind: string;
      n: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.kind, r.n]));
  }
}
