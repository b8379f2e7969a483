// The receipt a unit gets for each submission: short, Chinese, readable on a phone.
import { appliesTo } from './classify.js';
import { displayCode } from './codes.js';
import { formatDateTime, formatDay, parseDeadline } from './deadlines.js';
import { RECEIPT_OWED_WINDOW_DAYS } from './limits.js';
import { formatSize } from './size.js';
import type { Item, MaterialDecision, Unit } from './types.js';

export interface ReceiptInput {
  campaign: string;
  office: string;
  timeZone: string;
  year: number;
  unit: Unit | null;
  unitConfirmed: boolean;
  subject: string;
  receivedAt: Date;
  materials: (Pick<MaterialDecision, 'kind' | 'filename' | 'item' | 'status' | 'accessCode'> &
    Partial<Pick<MaterialDecision, 'size' | 'oversized'>>)[];
  items: readonly Item[];
  /** Item codes the unit has already sent something for (this message included). */
  submitted: ReadonlySet<string>;
  now: Date;
}

export interface MailText {
  subject: string;
  text: string;
  html: string;
}

export interface Outstanding {
  item: Item;
  due: Date;
  overdue: boolean;
}

/** Items that apply to the unit, have a date, and for which nothing has arrived yet. */
export function outstandingItems(
  unit: Unit,
  items: readonly Item[],
  submitted: ReadonlySet<string>,
  now: Date,
  year: number,
  timeZone: string,
): Outstanding[] {
  const out: Outstanding[] = [];
  for (const item of items) {
    if (!appliesTo(item, unit) || submitted.has(item.code)) continue;
    const d = parseDeadline(item.deadline, year, timeZone);
    if (d.kind !== 'date') continue;
    out.push({ item, due: d.due, overdue: d.due.getTime() < now.getTime() });
  }
  return out.sort((a, b) => a.due.getTime() - b.due.getTime());
}

export function itemLabel(items: readonly Item[], code: string | null): string {
  const item = items.find((i) => i.code === code);
  return item ? `${displayCode(item.code)} ${item.title}` : '';
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Subjects come from strangers: no line breaks may reach a header we write. */
export function oneLine(s: string, max = 60): string {
  const t = s.replace(/[\r\n\t\u0000-\u001f\u007f]+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

function sizeNote(size: number | null | undefined): string {
  return size ? `${formatSize(size)}，` : '';
}

export function receiptText(r: ReceiptInput): MailText {
  const tz = r.timeZone;
  const credited = r.materials.filter((m) => m.status === 'credited').length;
  const tooLarge = r.materials.filter((m) => m.oversized);
  const review = r.materials.length - credited - tooLarge.length;
  const who = r.unit ? r.unit.name : '报送单位';
  const subject =
    tooLarge.length > 0
      ? `回执：${tooLarge.length}个附件过大未能接收，请改用下载链接发送`
      : review === 0
        ? `回执：已收到${r.unit?.name ?? ''}报送材料${r.materials.length}件`
        : `回执：已收到报送材料${r.materials.length}件，其中${review}件待人工确认`;

  const lines = r.materials.map((m, i) => {
    const name =
      m.kind === 'link'
        ? `下载链接 ${m.filename}${m.accessCode ? `（提取码 ${m.accessCode}）` : ''}`
        : m.oversized
          ? `${oneLine(m.filename, 80) || '（无文件名）'}（${sizeNote(m.size)}文件过大，未能接收）`
          : m.filename || '（无文件名）';
    const where = m.oversized
      ? '→ 请改用下载链接发送'
      : m.status === 'credited'
        ? `→ ${itemLabel(r.items, m.item)}`
        : m.item
          ? `→ ${itemLabel(r.items, m.item)}（待确认）`
          : '→ 待人工确认';
    return materialLine(i + 1, name, where);
  });

  const notes: string[] = [];
  if (tooLarge.length > 0) {
    const names = tooLarge.map((m) => `“${oneLine(m.filename, 40) || '（无文件名）'}”`).join('、');
    notes.push(
      `附件${names}超过本邮箱的接收上限，未能接收。请使用QQ邮箱“超大附件”或新浪邮箱“中转站”（网盘）上传该文件，` +
        '再把下载链接（有提取码的请一并写上）发到本邮箱，系统收到后即登记。给您添麻烦了，谢谢配合。',
    );
  }
  if (r.unit && !r.unitConfirmed) {
    notes.push(`本邮箱地址尚未登记为${r.unit.name}的报送地址，工作人员确认后计入。`);
  } else if (!r.unit) {
    notes.push('未能确定报送单位，工作人员确认后计入。');
  }
  if (review > 0) {
    notes.push(
      `待确认的材料由工作人员核对。下次报送请在主题中写明单位和事项编号，如“${r.unit?.shortNames[0] ?? '大河路街道'} 二-1 行政指导意见”。`,
    );
  }

  const owedLines = r.unit ? owedSection(r.unit, r) : [];
  const received = formatDateTime(r.receivedAt, tz);
  const intro = `${who}：\n您于${received}发送的邮件“${oneLine(r.subject) || '（无主题）'}”已收到，登记如下：`;
  const { text, html } = layoutReceipt({ intro, lines, notes, owed: owedLines, office: r.office });
  return { subject: oneLine(subject, 80), text, html };
}

export interface MailLine {
  text: string;
  html: string;
}

/** One material: its name, and where it stands on the next line (phones wrap long lines). */
export function materialLine(n: number, name: string, where: string): MailLine {
  return {
    text: `${n}. ${name}\n   ${where}`,
    html: `<li>${escapeHtml(name)}<br><b>${escapeHtml(where)}</b></li>`,
  };
}

/**
 * What the unit still owes: a phone screen holds a handful of lines, so what is late or due
 * within RECEIPT_OWED_WINDOW_DAYS, then a count of the rest.
 */
export function owedSection(
  unit: Unit,
  r: Pick<ReceiptInput, 'items' | 'submitted' | 'now' | 'year' | 'timeZone'>,
): MailLine[] {
  const tz = r.timeZone;
  const owed = outstandingItems(unit, r.items, r.submitted, r.now, r.year, tz);
  const horizon = r.now.getTime() + RECEIPT_OWED_WINDOW_DAYS * 86_400_000;
  const soon = owed.filter((o) => o.due.getTime() <= horizon);
  const lines = soon.map((o) => {
    const t = `${displayCode(o.item.code)} ${oneLine(o.item.title, 18)}：${formatDay(o.due, tz)}前${o.overdue ? '（已逾期）' : ''}`;
    return {
      text: `· ${t}`,
      html: `<li${o.overdue ? ' style="color:#b00"' : ''}>${escapeHtml(t)}</li>`,
    };
  });
  const later = owed.length - soon.length;
  if (later > 0) {
    const t = `另有${later}项截止日期在${RECEIPT_OWED_WINDOW_DAYS}天以后`;
    lines.push({ text: `· ${t}`, html: `<li>${escapeHtml(t)}</li>` });
  }
  return lines;
}

/** The receipt's shape, in text and in HTML sized for a phone. */
export function layoutReceipt(p: {
  intro: string;
  lines: MailLine[];
  notes: string[];
  owed: MailLine[];
  office: string;
}): { text: string; html: string } {
  const footer = `${p.office}\n（系统自动回执，请勿回复本邮件）`;
  const text = [
    p.intro,
    '',
    ...p.lines.map((l) => l.text),
    ...(p.notes.length ? ['', ...p.notes] : []),
    ...(p.owed.length ? ['', '尚未报送的事项：', ...p.owed.map((l) => l.text)] : []),
    '',
    footer,
    '',
  ].join('\n');
  const html = [
    '<div style="font-size:15px;line-height:1.6;max-width:600px">',
    `<p>${escapeHtml(p.intro).replace('\n', '<br>')}</p>`,
    `<ol style="padding-left:1.2em">${p.lines.map((l) => l.html).join('')}</ol>`,
    ...p.notes.map((n) => `<p>${escapeHtml(n)}</p>`),
    p.owed.length
      ? `<p>尚未报送的事项：</p><ul style="padding-left:1.2em">${p.owed.map((l) => l.html).join('')}</ul>`
      : '',
    `<p style="color:#666">${escapeHtml(footer).replace('\n', '<br>')}</p>`,
    '</div>',
  ].join('\n');
  return { text, html };
}

/** RFC 3834 marks of an automatic reply, threaded to the mail it answers. */
export function receiptHeaders(originalMessageId: string | null): Record<string, string> {
  const headers: Record<string, string> = {
    'Auto-Submitted': 'auto-replied',
    'X-Auto-Response-Suppress': 'All',
  };
  if (originalMessageId) {
    headers['In-Reply-To'] = `<${originalMessageId}>`;
    headers['References'] = `<${originalMessageId}>`;
  }
  return headers;
}
