// Why a material waits for a person, in the four kinds the office meets. Pure: the stored
// decision (unit, item, reason text) and the rules in, the kinds out.
import { appliesTo } from '../core/classify.js';
import type { Item, Unit } from '../core/types.js';

export type WaitReason = 'unknown_sender' | 'no_item' | 'item_tie' | 'not_applicable';

export const WAIT_LABEL: Readonly<Record<WaitReason, string>> = {
  unknown_sender: '发件人未登记',
  no_item: '未找到事项',
  item_tie: '多个事项难以区分',
  not_applicable: '事项不适用于该单位',
};

/** What the clerk can do about each kind, shown under the list. */
export const WAIT_HINT: Readonly<Record<WaitReason, string>> = {
  unknown_sender: 'review confirm-sender ID --unit 单位代码（记住该地址）',
  no_item: 'review assign ID --unit 单位代码 --item 事项编号',
  item_tie: 'review assign ID --unit 单位代码 --item 事项编号',
  not_applicable: 'review assign 到正确的单位/事项，或 review reject ID --reason 原因',
};

// The classifier's words for "several items fit" (see core/classify.ts): several codes,
// keywords equally good, or a group code without its sub-item.
const TIE = /多个编号|同样符合|无法确定是哪一项|未能确定是哪一个|同时出现/;

export function waitReasons(
  m: { unit: string | null; item: string | null; confirmed: boolean; reason: string },
  units: readonly Unit[],
  items: readonly Item[],
): WaitReason[] {
  const out: WaitReason[] = [];
  if (m.unit === null || !m.confirmed) out.push('unknown_sender');
  if (m.item === null) out.push(TIE.test(m.reason) ? 'item_tie' : 'no_item');
  const unit = units.find((u) => u.code === m.unit);
  const item = items.find((i) => i.code === m.item);
  if (unit && item && !appliesTo(item, unit)) out.push('not_applicable');
  return out;
}
