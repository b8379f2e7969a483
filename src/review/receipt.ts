// The corrected receipt a unit gets after a clerk's decision: every material of the original
// mail with where it now stands. Pure, like core/receipt.ts, whose owed-items list it reuses.
import { displayCode } from '../core/codes.js';
import { formatDateTime, formatDay } from '../core/deadlines.js';
import { RECEIPT_OWED_WINDOW_DAYS } from '../core/limits.js';
import { oneLine, outstandingItems, type MailText } from '../core/receipt.js';
import type { Item, Unit } from '../core/types.js';

export interface CorrectedReceiptInput {
  office: string;
  timeZone: string;
  year: number;
  unit: Unit | null;
  subject: string;
  receivedAt: Date;
  materials: {
    kind: 'file' | 'link';
    filename: string;
    accessCode: string | null;
    item: string | null;
    status: 'credited' | 'review' | 'rejected';
    /** For a rejected material: the clerk's reason. */
    note?: string | null;
  }[];
  /** The sender address was just confirmed as the unit's. */
  senderLearned: string | null;
  items: readonly Item[];
  submitted: ReadonlySet<string>;
  now: Date;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function correctedReceiptText(r: CorrectedReceiptInput): MailText {
  const tz = r.timeZone;
  const who = r.unit ? r.unit.name : '报送单位';
  const rejected = r.materials.filter((m) => m.status === 'rejected').length;
  const waiting = r.materials.filter((m) => m.status === 'review').length;
  const subject =
    `更正回执：${r.unit?.name ?? ''}报送材料${r.materials.length}件已核对` +
    (rejected ? `，其中${rejected}件未计入` : waiting ? `，其中${waiting}件仍待确认` : '');

  const label = (code: string | null) => {
    const item = r.items.find((i) => i.code === code);
    return item ? `${displayCode(item.code)} ${item.title}` : '';
  };
  const lines = r.materials.map((m, i) => {
    const name =
      m.kind === 'link'
        ? `下载链接 ${m.filename}${m.accessCode ? `（提取码 ${m.accessCode}）` : ''}`
        : m.filename || '（无文件名）';
    const where =
      m.status === 'credited'
        ? `→ ${label(m.item)}`
        : m.status === 'rejected'
          ? `→ 未计入${m.note ? `：${oneLine(m.note, 80)}` : ''}`
          : '→ 仍待人工确认';
    return {
      text: `${i + 1}. ${name}\n   ${where}`,
      html: `<li>${escapeHtml(name)}<br><b>${escapeHtml(where)}</b></li>`,
    };
  });

  const notes: string[] = [];
  if (r.senderLearned && r.unit)
    notes.push(
      `邮箱 ${r.senderLearned} 已登记为${r.unit.name}的报送地址，今后从该地址发送的材料将直接登记。`,
    );
  if (rejected) notes.push('未计入的材料如有疑问，请与办公室联系，或更正后重新发送。');

  const owed = r.unit ? outstandingItems(r.unit, r.items, r.submitted, r.now, r.year, tz) : [];
  const horizon = r.now.getTime() + RECEIPT_OWED_WINDOW_DAYS * 86_400_000;
  const soon = owed.filter((o) => o.due.getTime() <= horizon);
  const owedLines = soon.map(
    (o) =>
      `${displayCode(o.item.code)} ${oneLine(o.item.title, 18)}：${formatDay(o.due, tz)}前${o.overdue ? '（已逾期）' : ''}`,
  );
  if (owed.length > soon.length)
    owedLines.push(`另有${owed.length - soon.length}项截止日期在${RECEIPT_OWED_WINDOW_DAYS}天以后`);

  const intro = `${who}：\n您于${formatDateTime(r.receivedAt, tz)}发送的邮件“${oneLine(r.subject) || '（无主题）'}”，工作人员已核对，登记更正如下：`;
  const footer = `${r.office}\n（系统自动回执，请勿回复本邮件）`;
  const text = [
    intro,
    '',
    ...lines.map((l) => l.text),
    ...(notes.length ? ['', ...notes] : []),
    ...(owedLines.length ? ['', '尚未报送的事项：', ...owedLines.map((l) => `· ${l}`)] : []),
    '',
    footer,
    '',
  ].join('\n');
  const html = [
    '<div style="font-size:15px;line-height:1.6;max-width:600px">',
    `<p>${escapeHtml(intro).replace('\n', '<br>')}</p>`,
    `<ol style="padding-left:1.2em">${lines.map((l) => l.html).join('')}</ol>`,
    ...notes.map((n) => `<p>${escapeHtml(n)}</p>`),
    owedLines.length
      ? `<p>尚未报送的事项：</p><ul style="padding-left:1.2em">${owedLines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>`
      : '',
    `<p style="color:#666">${escapeHtml(footer).replace('\n', '<br>')}</p>`,
    '</div>',
  ].join('\n');
  return { subject: oneLine(subject, 80), text, html };
}
