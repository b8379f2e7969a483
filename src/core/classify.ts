// Deciding which unit sent which material for which item. Pure: everything it needs comes in
// as arguments, and every decision carries its reason in words a clerk understands.
import { authVerdict } from './authresults.js';
import { machineMailReason, noReplyReason } from './autoreply.js';
import { displayCode, findCodes, normalizeText } from './codes.js';
import { LOGO_MAX_BYTES } from './limits.js';
import { findDownloadLinks } from './links.js';
import { formatSize } from './size.js';
import type {
  Item,
  ItemDecision,
  MaterialDecision,
  MessageDecision,
  ParsedAttachment,
  ParsedMail,
  Unit,
  UnitDecision,
} from './types.js';

export interface Rules {
  items: readonly Item[];
  units: readonly Unit[];
  /** The mailbox's own address. */
  ownAddress: string;
  /** authserv-ids of receiving servers whose Authentication-Results are believed. */
  trustedAuthServIds?: readonly string[];
}

/** Precomputed lookups over the rules; build once per config, reuse for every message. */
export class Classifier {
  private readonly known: Set<string>;
  private readonly groups: Set<string>;
  private readonly byAddress = new Map<string, Unit>();
  private readonly names: { name: string; unit: Unit }[] = [];
  private readonly itemsByCode: Map<string, Item>;

  constructor(private readonly rules: Rules) {
    this.known = new Set(rules.items.map((i) => i.code));
    this.groups = new Set(rules.items.flatMap((i) => (i.group ? [i.group] : [])));
    this.itemsByCode = new Map(rules.items.map((i) => [i.code, i]));
    for (const unit of rules.units) {
      for (const a of unit.addresses) this.byAddress.set(a.toLowerCase(), unit);
      for (const name of new Set([unit.name, ...unit.shortNames])) this.names.push({ name, unit });
    }
    // Longest first, so 公安大河路分局 wins over a shorter name it contains.
    this.names.sort((a, b) => b.name.length - a.name.length);
  }

  classify(mail: ParsedMail): MessageDecision {
    const machine = machineMailReason(mail, this.rules.ownAddress);
    if (machine) return { kind: 'not_submission', reason: machine };

    const ignored: { filename: string; reason: string }[] = [];
    const files: ParsedAttachment[] = [];
    for (const a of mail.attachments) {
      const logo = logoReason(a);
      if (logo) ignored.push({ filename: a.filename, reason: logo });
      else files.push(a);
    }
    const links = findDownloadLinks(mail.text);
    if (files.length === 0 && links.length === 0) {
      return { kind: 'not_submission', reason: '没有附件或下载链接' };
    }

    const unit = this.unitFor(mail, files);
    const unitObj = unit.unit ? this.rules.units.find((u) => u.code === unit.unit) : undefined;
    const subjectCodes = this.itemFromCodes(mail.subject, '主题', [mail.subject]);
    const materials: MaterialDecision[] = [];

    const decide = (own: string, ownLabel: string, extra: string): ItemDecision => {
      // Order: the material's own name (code, then keywords), then the subject (code, then
      // keywords), then the body: the most local signal is the most reliable.
      const fromOwn = this.itemFromCodes(own, ownLabel, [own, mail.subject, extra]);
      if (fromOwn) return fromOwn;
      const ownKw = this.itemFromKeywords(own, ownLabel);
      if (ownKw) return ownKw;
      if (subjectCodes) return subjectCodes;
      const subjKw = this.itemFromKeywords(mail.subject, '主题');
      if (subjKw) return subjKw;
      if (extra) {
        const extraKw = this.itemFromKeywords(extra, '正文');
        if (extraKw) return extraKw;
      }
      return { item: null, reason: '文件名、主题和正文中都没有找到事项编号或关键词' };
    };

    for (const f of files) {
      const label = f.forwardedFrom ? `文件名（转发邮件“${f.forwardedFrom}”）` : '文件名';
      const own = f.forwardedFrom ? `${f.filename} ${f.forwardedFrom}` : f.filename;
      const item = decide(stripExtension(own), label, mail.text);
      materials.push(
        this.material(unit, unitObj, item, {
          kind: 'file',
          filename: f.filename,
          sha256: f.sha256,
          size: f.size,
          path: f.path,
          contentType: f.contentType,
          accessCode: null,
        }),
      );
      const last = materials[materials.length - 1];
      if (f.oversized && last) markOversized(last, f);
    }
    for (const l of links) {
      const item = decide(l.context, '链接旁的文字', mail.text);
      materials.push(
        this.material(unit, unitObj, item, {
          kind: 'link',
          filename: l.url,
          sha256: null,
          size: null,
          path: null,
          contentType: null,
          accessCode: l.accessCode,
        }),
      );
      const last = materials[materials.length - 1];
      if (last)
        last.reason = `${l.provider}链接${l.accessCode ? `（提取码 ${l.accessCode}）` : ''}；${last.reason}`;
    }

    // A forged sender gets no receipt: it would go to the real unit, or feed a spammer.
    const noReply = unit.reason.startsWith(SPOOF_MARK)
      ? '发件人身份校验未通过'
      : noReplyReason(mail);
    return {
      kind: 'submission',
      unit,
      materials,
      ignored,
      reply: noReply ? { allowed: false, reason: noReply } : { allowed: true },
    };
  }

  /** Sender address first; else a unit's name in the subject, filenames or display name. */
  unitFor(
    mail: Pick<ParsedMail, 'fromAddress' | 'fromName' | 'subject' | 'headers'>,
    files: { filename: string }[],
  ): UnitDecision {
    const from = (mail.fromAddress ?? '').toLowerCase();
    const known = this.byAddress.get(from);
    if (known) {
      // Anyone can write a unit's address into From: believe it only if the receiving
      // server did not see it fail SPF/DKIM/DMARC.
      const auth = authVerdict(
        mail.headers['authentication-results'],
        this.rules.trustedAuthServIds ?? [],
      );
      if (auth.verdict === 'fail') {
        return {
          unit: known.code,
          confirmed: false,
          reason: `${SPOOF_MARK}：发件地址 ${from} 属于${known.name}，但收件服务器 ${auth.by} 的身份校验未通过（${auth.detail}），待确认`,
        };
      }
      return { unit: known.code, confirmed: true, reason: `发件地址 ${from} 属于${known.name}` };
    }

    const places: [string, string][] = [
      ['主题', mail.subject],
      ...files.map((f): [string, string] => ['文件名', f.filename]),
      ['发件人名称', mail.fromName ?? ''],
    ];
    for (const [where, text] of places) {
      const t = normalizeText(text);
      const hits = new Map<string, string>();
      let best = 0;
      for (const { name, unit } of this.names) {
        if (name.length < best) break;
        if (t.includes(name)) {
          best = name.length;
          hits.set(unit.code, name);
        }
      }
      if (hits.size === 1) {
        const [code, name] = [...hits][0] ?? ['', ''];
        return {
          unit: code,
          confirmed: false,
          reason: `发件地址 ${from || '（无）'} 未登记；${where}中有“${name}”，待确认`,
        };
      }
      if (hits.size > 1) {
        return {
          unit: null,
          confirmed: false,
          reason: `发件地址 ${from || '（无）'} 未登记；${where}中同时出现${[...hits.values()].join('、')}`,
        };
      }
    }
    return {
      unit: null,
      confirmed: false,
      reason: `发件地址 ${from || '（无）'} 未登记，也没有找到单位名称`,
    };
  }

  /** An explicit code in `text`; a group code is narrowed by keywords in `narrowWith`. */
  private itemFromCodes(text: string, where: string, narrowWith: string[]): ItemDecision | null {
    const found = findCodes(text, this.known, this.groups);
    if (found.items.length === 1 && found.groups.length === 0) {
      const code = found.items[0] ?? '';
      return {
        item: code,
        reason: `${where}中的编号“${found.matched.join('、')}”→ ${displayCode(code)}`,
      };
    }
    if (found.items.length + found.groups.length > 1) {
      return {
        item: null,
        reason: `${where}中有多个编号（${found.matched.join('、')}），无法确定是哪一项`,
      };
    }
    const group = found.groups[0];
    if (group === undefined) return null;
    for (const t of narrowWith) {
      const kw = this.itemFromKeywords(t, where, group);
      if (kw?.item)
        return {
          item: kw.item,
          reason: `${where}中的编号“${found.matched.join('')}”，${kw.reason}`,
        };
    }
    return {
      item: null,
      reason: `${where}中只写了第${displayCode(group)}项，该项有多个子项，未能确定是哪一个`,
    };
  }

  /** The item whose longest keyword occurs in `text`; a tie is no decision. */
  private itemFromKeywords(text: string, where: string, group?: string): ItemDecision | null {
    const t = normalizeText(text);
    let best = 0;
    let winners = new Map<string, string>();
    for (const item of this.rules.items) {
      if (group !== undefined && item.group !== group) continue;
      for (const kw of item.keywords) {
        if (kw.length < best || !t.includes(kw)) continue;
        if (kw.length > best) {
          best = kw.length;
          winners = new Map();
        }
        winners.set(item.code, kw);
      }
    }
    if (winners.size === 0) return null;
    if (winners.size > 1) {
      const list = [...winners].map(([c, kw]) => `${displayCode(c)}“${kw}”`).join('、');
      return { item: null, reason: `${where}中的关键词同样符合 ${list}，无法确定` };
    }
    const [code, kw] = [...winners][0] ?? ['', ''];
    return { item: code, reason: `${where}中有关键词“${kw}”→ ${displayCode(code)}` };
  }

  private material(
    unit: UnitDecision,
    unitObj: Unit | undefined,
    item: ItemDecision,
    base: Omit<MaterialDecision, 'unit' | 'item' | 'confirmed' | 'status' | 'reason'>,
  ): MaterialDecision {
    const reasons = [unit.reason, item.reason];
    let status: 'credited' | 'review' =
      unit.unit && unit.confirmed && item.item ? 'credited' : 'review';
    const itemObj = item.item ? this.itemsByCode.get(item.item) : undefined;
    if (unitObj && itemObj && !appliesTo(itemObj, unitObj)) {
      status = 'review';
      reasons.push(`${displayCode(itemObj.code)} 不适用于${unitObj.name}`);
    }
    return {
      ...base,
      unit: unit.unit,
      item: item.item,
      confirmed: unit.confirmed,
      status,
      reason: reasons.join('；'),
    };
  }
}

const SPOOF_MARK = '疑似冒用';

export function appliesTo(item: Item, unit: Unit): boolean {
  return item.appliesTo.length === 0 || item.appliesTo.some((t) => unit.tags.includes(t));
}

/** A file over the size limit: listed so that nothing vanishes, never credited (nothing was
 * kept), and the receipt asks for a download link instead. */
function markOversized(m: MaterialDecision, f: ParsedAttachment): void {
  m.status = 'review';
  m.oversized = true;
  m.sha256 = null;
  m.path = null;
  m.reason = `附件过大（${formatSize(f.size)}），超过接收上限，未保存，需发件人改用下载链接（QQ邮箱超大附件、新浪中转站等）发送；${m.reason}`;
}

function logoReason(a: ParsedAttachment): string | null {
  if (a.inline && /^image\//i.test(a.contentType) && a.size < LOGO_MAX_BYTES) {
    return `正文中的小图片（${a.size} 字节），视为签名或图标，不作为材料`;
  }
  return null;
}

function stripExtension(name: string): string {
  return name.replace(/\.[A-Za-z0-9]{1,5}$/, '');
}
