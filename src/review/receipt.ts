// The corrected receipt a unit gets after a clerk's decision: every material of the original
// mail with where it now stands. Pure, like core/receipt.ts, whose owed-items list it reuses.
import { formatDateTime } from '../core/deadlines.js';
import {
  itemLabel,
  layoutReceipt,
  materialLine,
  oneLine,
  owedSection,
  type MailText,
} from '../core/receipt.js';
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

export function correctedReceiptText(r: CorrectedReceiptInput): MailText {
  const tz = r.timeZone;
  const who = r.unit ? r.unit.name : '报送单位';
  const rejected = r.materials.filter((m) => m.status === 'rejected').length;
  const waiting = r.materials.filter((m) => m.status === 'review').length;
  const subject =
    `更正回执：${r.unit?.name ?? ''}报送材料${r.materials.length}件已核对` +
    (rejected ? `，其中${rejected}件未计入` : waiting ? `，其中${waiting}件仍待确认` : '');

  const lines = r.materials.map((m, i) => {
    const name =
      m.kind === 'link'
        ? `下载链接 ${m.filename}${m.accessCode ? `（提取码 ${m.accessCode}）` : ''}`
        : m.filename || '（无文件名）';
    const where =
      m.status === 'credited'
        ? `→ ${itemLabel(r.items, m.item)}`
        : m.status === 'rejected'
          ? `→ 未计入${m.note ? `：${oneLine(m.note, 80)}` : ''}`
          : '→ 仍待人工确认';
    return materialLine(i + 1, name, where);
  });

  const notes: string[] = [];
  if (r.senderLearned && r.unit)
    notes.push(
      `邮箱 ${r.senderLearned} 已登记为${r.unit.name}的报送地址，今后从该地址发送的材料将直接登记。`,
    );
  if (rejected) notes.push('未计入的材料如有疑问，请与办公室联系，或更正后重新发送。');

  const owed = r.unit ? owedSection(r.unit, r) : [];
  const intro = `${who}：\n您于${formatDateTime(r.receivedAt, tz)}发送的邮件“${oneLine(r.subject) || '（无主题）'}”，工作人员已核对，登记更正如下：`;
  const { text, html } = layoutReceipt({ intro, lines, notes, owed, office: r.office });
  return { subject: oneLine(subject, 80), text, html };
}
