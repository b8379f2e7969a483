// The intake use case: raw bytes in; a recorded message, its materials and a queued receipt out.
// Order of steps (why nothing is lost or done twice after a crash):
//   1. raw bytes → raw/<sha>.eml (temp + rename): the evidence is on disk before any decision;
//   2. parse → attachments to files/<sha> (temp + rename; content-addressed, so a retry after
//      a crash rewrites the same names);
//   3. ONE transaction: message row, materials, the (mailbox, UIDVALIDITY, UID) row and the
//      receipt's outbox row. Either all of it exists or none, and the UID row is what makes
//      the next run skip the message;
//   4. the outbox sends later, from its table, with retries.
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Classifier } from '../core/classify.js';
import type { Clock } from '../core/clock.js';
import { receiptText, oneLine } from '../core/receipt.js';
import type { MessageDecision, ParsedMail } from '../core/types.js';
import type { Config } from '../config/types.js';
import type { DataFolder } from '../store/files.js';
import type { SourceRef, SqliteStore } from '../store/sqlite.js';
import { parseMessageFile, type ParseOptions } from './mime.js';

/** Parses a stored raw message; in-process by default, a worker pool can stand in. */
export type Parser = (rawPath: string, opts: ParseOptions) => Promise<ParsedMail>;

export interface Arrival {
  source: Readable;
  /** Where it came from on the IMAP server; absent for files. */
  ref?: SourceRef;
  /** IMAP INTERNALDATE: the time that counts for "on time". */
  receivedAt?: Date;
  /** Used when there is no INTERNALDATE and no Date header (a file's mtime). */
  fallbackReceivedAt?: Date;
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

  async ingest(a: Arrival): Promise<IntakeResult> {
    const { store, data, log } = this.deps;
    const raw = await data.storeRaw(a.source);
    const dup = store.findMessage(raw.sha256, null);
    if (dup !== null) return this.duplicate(a.ref, dup, '同一封邮件（内容相同）已登记');

    let mail: ParsedMail;
    try {
      mail = await (this.deps.parse ?? parseMessageFile)(raw.absPath, {
        filesDir: data.files,
        tmpDir: data.tmp,
      });
    } catch (err) {
      const reason = `无法解析邮件：${(err as Error).message}`;
      const id = store.transaction(() => {
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
        return id;
      });
      log.warn(
        { event: 'intake.failed', raw: raw.relPath, err: (err as Error).message },
        'message set aside',
      );
      return { status: 'failed', message: id, reason };
    }

    const byId = mail.messageId ? store.findMessage(raw.sha256, mail.messageId) : null;
    if (byId !== null)
      return this.duplicate(a.ref, byId, `同一封邮件（Message-ID ${mail.messageId}）已登记`);

    const decision = this.deps.classifier.classify(mail);
    const receivedAt =
      a.receivedAt ?? dateHeader(mail) ?? a.fallbackReceivedAt ?? this.deps.clock.now();
    const id = store.transaction(() => this.record(mail, decision, raw, receivedAt, a.ref));
    this.logDecision(mail, decision, id);
    return {
      status: 'recorded',
      message: id,
      kind: decision.kind,
      reason: decision.kind === 'submission' ? decision.unit.reason : decision.reason,
    };
  }

  private duplicate(ref: SourceRef | undefined, message: number, reason: string): IntakeResult {
    if (ref) this.deps.store.recordSource(ref, message, 'duplicate', null);
    this.deps.log.info({ event: 'intake.duplicate', message, ref }, reason);
    return { status: 'duplicate', message, reason };
  }

  /** Runs inside the transaction: everything or nothing. */
  private record(
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
      const headers: Record<string, string> = {
        'Auto-Submitted': 'auto-replied',
        'X-Auto-Response-Suppress': 'All',
      };
      if (mail.messageId) {
        headers['In-Reply-To'] = `<${mail.messageId}>`;
        headers['References'] = `<${mail.messageId}>`;
      }
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

function dateHeader(mail: ParsedMail): Date | null {
  const v = mail.headers['date'];
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function domainOf(address: string): string {
  return address.split('@')[1] ?? 'localhost';
}
