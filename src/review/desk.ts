// The review queue's use cases: what waits for a person and why, and the three decisions a
// clerk takes (assign, confirm the sender, reject). Each decision is one transaction: the
// materials change, the audit row records who/when/before/after, a confirmed sender is
// remembered, and the corrected receipt is queued in the outbox with its own dedupe key.
import type { Logger } from 'pino';
import { appliesTo } from '../core/classify.js';
import type { Clock } from '../core/clock.js';
import { displayCode } from '../core/codes.js';
import { receiptHeaders } from '../core/receipt.js';
import type { Item, Unit } from '../core/types.js';
import type { Config } from '../config/types.js';
import { domainOf } from '../core/autoreply.js';
import type {
  MaterialChange,
  ReviewMaterial,
  ReviewMessage,
  ReviewStore,
} from '../store/review-store.js';
import type { SqliteStore } from '../store/sqlite.js';
import { waitReasons, WAIT_LABEL, type WaitReason } from './reasons.js';
import { correctedReceiptText } from './receipt.js';

/** A material (by its number) or a whole message ("m" and its number). */
export type Target = { kind: 'material'; id: number } | { kind: 'message'; id: number };

export type ReviewErrorCode =
  | 'BAD_ID'
  | 'NOT_FOUND'
  | 'UNKNOWN_UNIT'
  | 'UNKNOWN_ITEM'
  | 'NOT_APPLICABLE'
  | 'NO_CHANGE'
  | 'NO_SENDER'
  | 'ADDRESS_IN_CONFIG'
  | 'AMBIGUOUS';

/** A decision that cannot be taken as asked; the message says what to do instead. */
export class ReviewError extends Error {
  constructor(
    readonly code: ReviewErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ReviewError';
  }
}

export function parseTarget(text: string): Target {
  const t = text.trim();
  let m = /^#?(\d+)$/.exec(t);
  if (m) return { kind: 'material', id: Number(m[1]) };
  m = /^m(\d+)$/i.exec(t);
  if (m) return { kind: 'message', id: Number(m[1]) };
  throw new ReviewError(
    'BAD_ID',
    `"${text}" is not a review ID: use the number review list shows (a material, e.g. 12) or m and a number (a whole message, e.g. m5)`,
  );
}

export interface ReviewEntry {
  /** What to type after `review assign|confirm-sender|reject`. */
  id: string;
  kind: 'material' | 'message';
  message: number;
  receivedAt: string;
  from: string | null;
  fromName: string | null;
  subject: string;
  /** File name, or the URL of a link; '' for a message. */
  filename: string;
  materialKind: 'file' | 'link' | null;
  accessCode: string | null;
  /** The classifier's best guess (may be unconfirmed), or null. */
  unit: string | null;
  item: string | null;
  why: (WaitReason | 'unreadable')[];
  whyText: string[];
  /** The full reason recorded by the classifier. */
  reason: string;
}

export interface DecideOptions {
  /** Who decides: goes to the audit table. */
  by: string;
  /** No corrected receipt. */
  quiet?: boolean;
}

export interface MaterialSnapshot extends MaterialChange {
  id: number;
}

export interface ReceiptOutcome {
  message: number;
  to: string | null;
  outcome: 'queued' | 'quiet' | 'skipped';
  /** Why a receipt was not queued. */
  why?: string;
  dedupeKey?: string;
}

export interface DecisionResult {
  decision: number;
  action: 'assign' | 'confirm_sender' | 'reject';
  changed: { before: MaterialSnapshot; after: MaterialSnapshot }[];
  learned: { address: string; unit: string; previous: string | null } | null;
  receipts: ReceiptOutcome[];
}

export interface ReviewDeps {
  store: SqliteStore;
  reviews: ReviewStore;
  config: Config;
  clock: Clock;
  log: Logger;
}

const snap = (m: ReviewMaterial): MaterialSnapshot => ({
  id: m.id,
  unit: m.unit,
  item: m.item,
  confirmed: m.confirmed,
  status: m.status,
  reason: m.reason,
});

export class ReviewDesk {
  constructor(private readonly deps: ReviewDeps) {}

  private get units(): readonly Unit[] {
    return this.deps.config.units;
  }

  private get items(): readonly Item[] {
    return this.deps.config.checklist.items;
  }

  // --- the queue ---------------------------------------------------------------------------

  list(): ReviewEntry[] {
    const { reviews } = this.deps;
    const materials = reviews.pendingMaterials();
    const messages = reviews.messagesByIds(materials.map((m) => m.message));
    const out: ReviewEntry[] = materials.map((m) => {
      const g = messages.get(m.message);
      const why = waitReasons(m, this.units, this.items);
      return {
        id: String(m.id),
        kind: 'material',
        message: m.message,
        receivedAt: g?.receivedAt ?? '',
        from: g?.fromAddress ?? null,
        fromName: g?.fromName ?? null,
        subject: g?.subject ?? '',
        filename: m.filename,
        materialKind: m.kind,
        accessCode: m.accessCode,
        unit: m.unit,
        item: m.item,
        why,
        whyText: why.map((w) => WAIT_LABEL[w]),
        reason: m.reason,
      };
    });
    for (const g of reviews.pendingFailedMessages()) {
      out.push({
        id: `m${g.id}`,
        kind: 'message',
        message: g.id,
        receivedAt: g.receivedAt,
        from: g.fromAddress,
        fromName: g.fromName,
        subject: g.subject,
        filename: '',
        materialKind: null,
        accessCode: null,
        unit: null,
        item: null,
        why: ['unreadable'],
        whyText: ['邮件无法解析'],
        reason: g.reason,
      });
    }
    return out.sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
  }

  // --- decisions ---------------------------------------------------------------------------

  /** Credits a material to a unit and item: the clerk vouches for both. */
  assign(target: Target, unitCode: string, itemCode: string, opts: DecideOptions): DecisionResult {
    const unit = this.unit(unitCode);
    const item = this.item(itemCode);
    if (!appliesTo(item, unit)) {
      throw new ReviewError(
        'NOT_APPLICABLE',
        `${displayCode(item.code)} (${item.code}) does not apply to ${unit.name} (${unit.code}): it is for units tagged ${item.appliesTo.join(', ')}. Credit it to another unit or item, or set it aside with review reject`,
      );
    }
    const material = this.oneMaterial(target);
    if (
      material.status === 'credited' &&
      material.unit === unit.code &&
      material.item === item.code &&
      material.confirmed
    ) {
      throw new ReviewError(
        'NO_CHANGE',
        `material ${material.id} is already credited to ${unit.name} ${displayCode(item.code)}`,
      );
    }
    const now = this.deps.clock.now();
    const after: MaterialChange = {
      unit: unit.code,
      item: item.code,
      confirmed: true,
      status: 'credited',
      reason: `${opts.by} 人工核定：${unit.name} ${displayCode(item.code)}（原判断：${material.reason}）`,
    };
    return this.decide(
      'assign',
      material.message,
      material.id,
      [[material, after]],
      null,
      null,
      now,
      opts,
    );
  }

  /**
   * The sender's address belongs to `unitCode`: remembered (so the next mail from it is
   * credited directly), and everything from it that waits is credited where its item is known.
   */
  confirmSender(target: Target, unitCode: string, opts: DecideOptions): DecisionResult {
    const unit = this.unit(unitCode);
    const message = this.messageOf(target);
    const address = message.fromAddress?.toLowerCase() ?? '';
    if (!address) {
      throw new ReviewError(
        'NO_SENDER',
        `message m${message.id} has no sender address to remember; use review assign instead`,
      );
    }
    if (address === this.deps.config.from.toLowerCase()) {
      throw new ReviewError('NO_SENDER', `${address} is the mailbox's own address, not a unit's`);
    }
    const inConfig = this.units.find((u) => u.addresses.includes(address));
    if (inConfig && inConfig.code !== unit.code) {
      throw new ReviewError(
        'ADDRESS_IN_CONFIG',
        `${address} is listed under ${inConfig.name} (${inConfig.code}) in the config file ${this.deps.config.file}; the config is the operator's: change it there`,
      );
    }
    const previous = this.deps.reviews.learnedUnit(address);
    const pending = this.deps.reviews.pendingFrom(address);
    if (pending.length === 0 && (inConfig || previous === unit.code)) {
      throw new ReviewError(
        'NO_CHANGE',
        `${address} is already ${unit.name}'s and nothing from it waits for review`,
      );
    }
    const changes: [ReviewMaterial, MaterialChange][] = pending.map((m) => {
      const item = this.items.find((i) => i.code === m.item);
      const credit = item !== undefined && appliesTo(item, unit);
      const learned = `${opts.by} 确认发件地址 ${address} 属于${unit.name}`;
      return [
        m,
        {
          unit: unit.code,
          item: m.item,
          confirmed: true,
          status: credit ? 'credited' : 'review',
          reason: credit
            ? `${learned}；${displayCode(m.item ?? '')}（原判断：${m.reason}）`
            : `${learned}；事项仍待确认（原判断：${m.reason}）`,
        },
      ];
    });
    const now = this.deps.clock.now();
    return this.decide(
      'confirm_sender',
      message.id,
      target.kind === 'material' ? target.id : null,
      changes,
      { address, unit: unit.code, previous },
      null,
      now,
      opts,
    );
  }

  /** Sets a material (or a whole message) aside: it counts for nothing, with the reason. */
  reject(target: Target, reason: string, opts: DecideOptions): DecisionResult {
    const why = reason.trim();
    if (!why)
      throw new ReviewError('NO_CHANGE', 'give the reason with --reason: the unit is told it');
    const now = this.deps.clock.now();
    let messageId: number;
    let materials: ReviewMaterial[];
    if (target.kind === 'material') {
      const m = this.material(target.id);
      if (m.status === 'rejected')
        throw new ReviewError('NO_CHANGE', `material ${m.id} is already set aside`);
      messageId = m.message;
      materials = [m];
    } else {
      const g = this.message(target.id);
      messageId = g.id;
      materials = this.deps.reviews.materialsOf(g.id).filter((m) => m.status !== 'rejected');
      if (materials.length === 0 && g.kind !== 'failed')
        throw new ReviewError('NO_CHANGE', `message m${g.id} has nothing left to set aside`);
    }
    const changes: [ReviewMaterial, MaterialChange][] = materials.map((m) => [
      m,
      {
        unit: m.unit,
        item: m.item,
        confirmed: m.confirmed,
        status: 'rejected',
        reason: `${opts.by} 退回：${why}（原判断：${m.reason}）`,
      },
    ]);
    return this.decide(
      'reject',
      messageId,
      target.kind === 'material' ? target.id : null,
      changes,
      null,
      why,
      now,
      opts,
    );
  }

  // --- the one transaction -----------------------------------------------------------------

  private decide(
    action: DecisionResult['action'],
    message: number,
    material: number | null,
    changes: [ReviewMaterial, MaterialChange][],
    learn: { address: string; unit: string; previous: string | null } | null,
    note: string | null,
    now: Date,
    opts: DecideOptions,
  ): DecisionResult {
    const { reviews, log } = this.deps;
    const result = reviews.transaction((): DecisionResult => {
      const changed = changes.map(([m, c]) => ({ before: snap(m), after: { id: m.id, ...c } }));
      const decision = reviews.recordDecision({
        decidedAt: now,
        decidedBy: opts.by,
        action,
        message,
        material,
        before: {
          materials: changed.map((c) => c.before),
          ...(learn ? { address: learn.address, unit: learn.previous } : {}),
        },
        after: {
          materials: changed.map((c) => c.after),
          ...(learn ? { address: learn.address, unit: learn.unit } : {}),
        },
        note,
      });
      for (const c of changed) reviews.updateMaterial(c.after.id, c.after);
      if (learn) reviews.learnAddress(learn.address, learn.unit, now, opts.by, decision);
      const touched = [...new Set([message, ...changes.map(([m]) => m.message)])];
      for (const id of touched) this.syncMessageUnit(id);
      const receipts = touched.map((id) =>
        this.queueReceipt(id, decision, learn?.address ?? null, now, opts),
      );
      reviews.setDecisionReceipts(
        decision,
        receipts.flatMap((r) => (r.dedupeKey ? [r.dedupeKey] : [])),
      );
      return { decision, action, changed, learned: learn, receipts };
    });
    log.info(
      {
        event: 'review.decision',
        decision: result.decision,
        action,
        by: opts.by,
        message,
        material,
        materials: result.changed.map((c) => c.after.id),
        learned: result.learned?.address,
        receipts: result.receipts.filter((r) => r.outcome === 'queued').length,
      },
      `review: ${action}`,
    );
    return result;
  }

  /** The message's unit follows its materials when they agree. */
  private syncMessageUnit(id: number): void {
    const live = this.deps.reviews.materialsOf(id).filter((m) => m.status !== 'rejected');
    const units = new Set(live.map((m) => m.unit));
    if (units.size !== 1) return;
    const [unit] = units;
    this.deps.reviews.updateMessageUnit(
      id,
      unit ?? null,
      unit !== null && unit !== undefined && live.every((m) => m.confirmed),
    );
  }

  /**
   * A corrected receipt for the message, through the outbox, with a dedupe key of its own
   * (`receipt:<sha256>:review:<decision>`), so it is queued once per decision however often
   * the command is retried. Only where the original mail was answered: backfilled mail and
   * machine mail never were, and a clerk's decision should not start a conversation.
   */
  private queueReceipt(
    id: number,
    decision: number,
    learnedAddress: string | null,
    now: Date,
    opts: DecideOptions,
  ): ReceiptOutcome {
    const { reviews, store, config } = this.deps;
    const g = reviews.message(id);
    if (!g) return { message: id, to: null, outcome: 'skipped', why: 'message not found' };
    const to = g.fromAddress;
    if (opts.quiet) return { message: id, to, outcome: 'quiet' };
    if (!to) return { message: id, to, outcome: 'skipped', why: '原邮件没有发件地址' };
    if (g.reply !== 'queued') {
      const why = g.reply.startsWith('suppressed: ') ? g.reply.slice(12) : '原邮件没有回执';
      return { message: id, to, outcome: 'skipped', why };
    }
    const materials = reviews.materialsOf(id);
    const notes = reviews.rejectNotes(id);
    const live = materials.filter((m) => m.status !== 'rejected' && m.unit);
    const unitCode = live[0]?.unit ?? materials[0]?.unit ?? null;
    const unit = this.units.find((u) => u.code === unitCode) ?? null;
    const text = correctedReceiptText({
      office: config.campaign.office,
      timeZone: config.checklist.timezone,
      year: config.checklist.year,
      unit,
      subject: g.subject,
      receivedAt: new Date(g.receivedAt),
      materials: materials.map((m) => ({
        kind: m.kind,
        filename: m.filename,
        accessCode: m.accessCode,
        item: m.item,
        status: m.status,
        note: notes.get(m.id) ?? null,
      })),
      senderLearned: learnedAddress && learnedAddress === to.toLowerCase() ? learnedAddress : null,
      items: config.checklist.items,
      submitted: unit ? store.submittedItems(unit.code) : new Set(),
      now,
    });
    const headers = receiptHeaders(g.messageId);
    const dedupeKey = `receipt:${g.sha256}:review:${decision}`;
    store.enqueue(
      {
        dedupeKey,
        kind: 'receipt',
        to,
        ...text,
        headers,
        mailMessageId: `<receipt.${g.sha256.slice(0, 32)}.r${decision}@${domainOf(config.from)}>`,
      },
      id,
      now,
    );
    return { message: id, to, outcome: 'queued', dedupeKey };
  }

  // --- lookups -----------------------------------------------------------------------------

  private unit(code: string): Unit {
    const u = this.units.find((x) => x.code === code.trim());
    if (!u)
      throw new ReviewError(
        'UNKNOWN_UNIT',
        `no unit with code "${code}"; the units command lists them (${this.units.map((x) => x.code).join(', ')})`,
      );
    return u;
  }

  /** "2.1" or as the notice writes it, "二-1". */
  private item(code: string): Item {
    const c = code.trim();
    const it = this.items.find((i) => i.code === c || displayCode(i.code) === c);
    if (it) return it;
    const subs = this.items.filter((i) => i.group === c || (i.group && displayCode(i.group) === c));
    if (subs.length)
      throw new ReviewError(
        'UNKNOWN_ITEM',
        `item ${c} has sub-items: name one of ${subs.map((i) => i.code).join(', ')}`,
      );
    throw new ReviewError(
      'UNKNOWN_ITEM',
      `no checklist item "${code}"; known: ${this.items.map((i) => i.code).join(', ')}`,
    );
  }

  private material(id: number): ReviewMaterial {
    const m = this.deps.reviews.material(id);
    if (!m) throw new ReviewError('NOT_FOUND', `no material ${id}; review list shows the IDs`);
    return m;
  }

  private message(id: number): ReviewMessage {
    const g = this.deps.reviews.message(id);
    if (!g) throw new ReviewError('NOT_FOUND', `no message m${id}; review list shows the IDs`);
    return g;
  }

  private messageOf(t: Target): ReviewMessage {
    return this.message(t.kind === 'message' ? t.id : this.material(t.id).message);
  }

  /** A material target, or a message that holds exactly one material. */
  private oneMaterial(t: Target): ReviewMaterial {
    if (t.kind === 'material') return this.material(t.id);
    const g = this.message(t.id);
    const ms = this.deps.reviews.materialsOf(g.id);
    const only = ms[0];
    if (ms.length === 1 && only) return only;
    throw new ReviewError(
      'AMBIGUOUS',
      ms.length === 0
        ? `message m${g.id} has no material to credit (${g.reason}); set it aside with review reject m${g.id}`
        : `message m${g.id} has ${ms.length} materials (${ms.map((m) => m.id).join(', ')}): assign them one by one`,
    );
  }
}
