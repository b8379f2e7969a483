// The intake use case: raw bytes in; a recorded message, its materials and a queued receipt out.
// Order of steps (why nothing is lost or done twice after a crash):
//   1. raw bytes → raw/<sha>.eml (temp + rename): the evidence is on disk before any decision;
//   2. parse → attachments to files/<sha> (temp + rename; content-addressed, so a retry after
//      a crash rewrites the same names);
//   3. ONE transaction: message row, materials, the (mailbox, UIDVALIDITY, UID) row and the
//      receipt's outbox row. Either all of it exists or none, and the UID row is what makes
//      the next run skip the message. (Steps 1-2 of several messages may run at once; a
//      catch-up then records them in UID order, several in one transaction: see imap.ts.)
//   4. the outbox sends later, from its table, with retries.
import { closeSync, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Classifier } from '../core/classify.js';
import type { Clock } from '../core/clock.js';
import { domainOf, ourMessageIdsIn } from '../core/autoreply.js';
import { MB } from '../core/limits.js';
import { oneLine, receiptHeaders, receiptText } from '../core/receipt.js';
import type { MessageDecision, ParsedMail } from '../core/types.js';
import type { Config } from '../config/types.js';
import type { DataFolder, StoredFile } from '../store/files.js';
import type { SourceRef, SqliteStore } from '../store/sqlite.js';
import type { ParseOptions } from './mime.js';

/** Parses a stored raw message (from `bytes` when given: the file's content, in memory);
 * in-process by default, a worker pool can stand in. */
export type Parser = (rawPath: string, opts: ParseOptions, bytes?: Buffer) => Promise<ParsedMail>;

export interface Arrival {
  /** The raw message: streamed, or whole when it is small (a batch FETCH hands it over whole). */
  source: Readable | Buffer;
  /** Where it came from on the IMAP server; absent for files. */
  ref?: SourceRef;
  /** IMAP INTERNALDATE: the time that counts for "on time". */
  receivedAt?: Date;
  /** Used when there is no INTERNALDATE and no Date header (a file's mtime). */
  fallbackReceivedAt?: Date;
}

/** An arrival whose raw bytes are stored and whose parse is done (Intake.prepare). */
export interface Prepared {
  /** The arrival without its source stream, which is consumed (and its bytes let go). */
  arrival: Omit<Arrival, 'source'>;
  raw: StoredFile;
  /** null: bytes already recorded (not parsed again), or the parse failed (`error`). */
  mail: ParsedMail | null;
  error?: Error;
}

export interface IntakeResult {
  status: 'recorded' | 'duplicate' | 'failed';
  message: number | null;
  kind?: MessageDecision['kind'];
  reason: string;
}

export interface IntakeOptions {
  /** false for backfill of old mail: record, but send no receipts. */
  sendReceipts: boolean;
}

export class Intake {
  constructor(
    private readonly deps: {
      store: SqliteStore;
      data: DataFolder;
      classifier: Classifier;
      config: Config;
      clock: Clock;
      log: Logger;
      parse?: Parser;
    },
    private readonly options: IntakeOptions = { sendReceipts: true },
  ) {}

  /** Stores, parses and records one arrival (steps 1-3 above). */
  async ingest(a: Arrival): Promise<IntakeResult> {
    const [result] = this.record([await this.prepare(a)]);
    if (!result) throw new Error('intake recorded nothing');
    return result;
  }

  /**
   * Steps 1 and 2: the raw bytes to raw/, then the parse (attachments to files/). Writes
   * nothing to the database, so arrivals can be prepared concurrently; a parse error is kept
   * for record(), which sets the message aside as failed.
   */
  async prepare(a: Arrival): Promise<Prepared> {
    const { store, data, config } = this.deps;
    const raw = await data.storeRaw(a.source);
    const { source: _consumed, ...arrival } = a;
    // Known bytes are not parsed again (record() checks again, in case an arrival prepared
    // beside this one was the same mail).
    if (store.findMessage(raw.sha256, null) !== null) return { arrival, raw, mail: null };
    try {
      // Loaded on first use: with a parse pool the parser lives in its threads only.
      const parse = this.deps.parse ?? (await import('./mime.js')).parseMessageFile;
      const bytes = Buffer.isBuffer(a.source) ? a.source : undefined;
      const mail = await parse(
        raw.absPath,
        {
          filesDir: data.files,
          tmpDir: data.tmp,
          maxAttachmentBytes: config.limits.maxAttachmentMb * MB,
          maxMessageBytes: config.limits.maxMessageMb * MB,
        },
        bytes,
      );
      return { arrival, raw, mail };
    } catch (err) {
      return { arrival, raw, mail: null, error: err as Error };
    }
  }

  /**
   * Step 3 for prepared arrivals, in the order given, in ONE transaction (a catch-up records
   * several at once: one commit, and one disk flush, for the lot). Everything or nothing: if
   * one fails the transaction is rolled back and this throws.
   */
  record(prepared: readonly Prepared[]): IntakeResult[] {
    const logs: (() => void)[] = [];
    const results = this.deps.store.transaction(() => prepared.map((p) => this.recordOne(p, logs)));
    for (const l of logs) l();
    return results;
  }

  /** Runs inside the transaction; log lines are written once it has committed. */
  private recordOne(p: Prepared, logs: (() => void)[]): IntakeResult {
    const { store, log } = this.deps;
    const { arrival: a, raw, mail } = p;
    const same = store.findMessage(raw.sha256, null);
    if (same !== null) return this.duplicate(a.ref, same, '同一封邮件（内容相同）已登记', logs);

    if (!mail) {
      const message = p.error?.message ?? 'unknown error';
      const reason = `无法解析邮件：${message}`;
      const id = store.insertMessage({
        messageId: null,
        sha256: raw.sha256,
        rawPath: raw.relPath,
        size: raw.size,
        receivedAt: a.receivedAt ?? a.fallbackReceivedAt ?? this.deps.clock.now(),
        dateHeader: null,
        fromAddress: null,
        fromName: null,
        subject: '',
        kind: 'failed',
        reason,
        unit: null,
        unitConfirmed: false,
        reply: 'none',
      });
      if (a.ref) store.recordSource(a.ref, id, 'failed', reason);
      logs.push(() =>
        log.warn({ event: 'intake.failed', raw: raw.relPath, err: message }, 'message set aside'),
      );
      return { status: 'failed', message: id, reason };
    }

    const byId = mail.messageId ? store.findMessage(raw.sha256, mail.messageId) : null;
    if (byId !== null)
      return this.duplicate(a.ref, byId, `同一封邮件（Message-ID ${mail.messageId}）已登记`, logs);

    const decision = this.deps.classifier.classify(mail);
    const receivedAt =
      a.receivedAt ?? dateHeader(mail) ?? a.fallbackReceivedAt ?? this.deps.clock.now();
    // A bounce of our own mail names our Message-ID somewhere in its report or returned
    // headers: find it in the raw bytes (only for bounces, so not on the hot path).
    const bounced =
      decision.kind === 'not_submission' && decision.reason.includes('退信')
        ? ourMessageIdsIn(readHead(raw.absPath, BOUNCE_SCAN_BYTES), this.deps.config.from)
        : [];
    const id = this.recordMessage(mail, decision, raw, receivedAt, a.ref);
    for (const mid of bounced) {
      const hit = store.recordBounce(
        mid,
        id,
        this.deps.clock.now(),
        decision.kind === 'not_submission' ? decision.reason : '',
      );
      if (hit)
        logs.push(() =>
          log.warn(
            { event: 'outbox.bounced', message: id, to: hit.to, outbox: hit.outbox },
            'our mail bounced',
          ),
        );
    }
    logs.push(() => this.logDecision(mail, decision, id));
    return {
      status: 'recorded',
      message: id,
      kind: decision.kind,
      reason: decision.kind === 'submission' ? decision.unit.reason : decision.reason,
    };
  }

  private duplicate(
    ref: SourceRef | undefined,
    message: number,
    reason: string,
    logs: (() => void)[],
  ): IntakeResult {
    if (ref) this.deps.store.recordSource(ref, message, 'duplicate', null);
    logs.push(() => this.deps.log.info({ event: 'intake.duplicate', message, ref }, reason));
    return { status: 'duplicate', message, reason };
  }

  /** Runs inside the transaction: everything or nothing. */
  private recordMessage(
    mail: ParsedMail,
    d: MessageDecision,
    raw: { sha256: string; relPath: string; size: number },
    receivedAt: Date,
    ref: SourceRef | undefined,
  ): number {
    const { store, data, config } = this.deps;
    const now = this.deps.clock.now();
    const sub = d.kind === 'submission' ? d : null;
    let reply = 'none';
    if (sub) reply = this.replyDecision(mail, sub, now);

    const id = store.insertMessage({
      messageId: mail.messageId,
      sha256: raw.sha256,
      rawPath: raw.relPath,
      size: raw.size,
      receivedAt,
      dateHeader: mail.headers['date'] ?? null,
      fromAddress: mail.fromAddress,
      fromName: mail.fromName,
      subject: mail.subject,
      kind: d.kind,
      reason: sub ? sub.unit.reason : d.kind === 'not_submission' ? d.reason : '',
      unit: sub?.unit.unit ?? null,
      unitConfirmed: sub?.unit.confirmed ?? false,
      reply,
    });
    if (ref) store.recordSource(ref, id, 'recorded', null);
    if (!sub) return id;
    store.insertMaterials(id, sub.materials, (abs) => data.rel(abs));

    if (reply === 'queued' && mail.fromAddress) {
      const unit = config.units.find((u) => u.code === sub.unit.unit) ?? null;
      const text = receiptText({
        campaign: config.campaign.name,
        office: config.campaign.office,
        timeZone: config.checklist.timezone,
        year: config.checklist.year,
        unit,
        unitConfirmed: sub.unit.confirmed,
        subject: mail.subject,
        receivedAt,
        materials: sub.materials,
        items: config.checklist.items,
        submitted: unit ? store.submittedItems(unit.code) : new Set(),
        now,
      });
      const headers = receiptHeaders(mail.messageId);
      store.enqueue(
        {
          dedupeKey: `receipt:${raw.sha256}`,
          kind: 'receipt',
          to: mail.fromAddress,
          ...text,
          headers,
          mailMessageId: `<receipt.${raw.sha256.slice(0, 32)}@${domainOf(config.from)}>`,
        },
        id,
        now,
      );
    }
    return id;
  }

  private replyDecision(
    mail: ParsedMail,
    d: Extract<MessageDecision, { kind: 'submission' }>,
    now: Date,
  ): string {
    if (!this.options.sendReceipts) return 'suppressed: 补录的历史邮件不发回执';
    if (!d.reply.allowed) return `suppressed: ${d.reply.reason}`;
    const from = mail.fromAddress ?? '';
    if (this.deps.store.isFailing(from)) return `suppressed: 发往 ${from} 的邮件曾被退回`;
    const cap = this.deps.config.receipts.perSenderPerHour;
    const recent = this.deps.store.receiptsSince(from, new Date(now.getTime() - 3600_000));
    if (recent >= cap)
      return `suppressed: 一小时内已向 ${from} 发出 ${recent} 封回执（上限 ${cap}）`;
    return 'queued';
  }

  private logDecision(mail: ParsedMail, d: MessageDecision, id: number): void {
    const log = this.deps.log;
    const base = {
      event: 'intake.decision',
      message: id,
      messageId: mail.messageId,
      subject: oneLine(mail.subject),
    };
    if (d.kind === 'not_submission') {
      log.info({ ...base, kind: d.kind, reason: d.reason }, 'not a submission');
      return;
    }
    for (const m of d.materials) {
      log.info(
        {
          ...base,
          unit: m.unit,
          item: m.item,
          status: m.status,
          material: m.filename,
          reason: m.reason,
        },
        m.status === 'credited' ? 'material credited' : 'material awaits review',
      );
    }
  }
}

/** Bounces quote the original's headers near the top; 256 KB covers every DSN seen. */
const BOUNCE_SCAN_BYTES = 256 * 1024;

function readHead(file: string, bytes: number): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

function dateHeader(mail: ParsedMail): Date | null {
  const v = mail.headers['date'];
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}
