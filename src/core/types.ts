// Domain types shared by every stage. Pure data: no I/O lives here.

/** A checklist item (or sub-item) that units must send material for. */
export interface Item {
  /** "1", "2.1", "5", "8.2": the notice's numbering in arabic digits. */
  code: string;
  /** Code of the group for sub-items ("2" for "2.1"); undefined for items without sub-items. */
  group?: string;
  /** The group's heading in the notice, e.g. 推行行政指导情况. */
  groupTitle: string;
  /** What must be sent, as the notice words it. */
  title: string;
  /** The deadline as the notice writes it: "5月底之前", "9月上旬", "及时报送", an ISO date. */
  deadline: string;
  /** Unit tags the item applies to; empty = every unit. */
  appliesTo: string[];
  /** Words that identify this item's material in a filename, subject or body. */
  keywords: string[];
}

/** A submitting unit: a town, street office or department. */
export interface Unit {
  code: string;
  name: string;
  shortNames: string[];
  tags: string[];
  /** Sender addresses known to belong to the unit, lower-case. */
  addresses: string[];
}

export interface Checklist {
  year: number;
  timezone: string;
  items: Item[];
}

/** What the parse stage found in one message; input to classification. */
export interface ParsedMail {
  messageId: string | null;
  fromAddress: string | null;
  fromName: string | null;
  /** Envelope sender (Return-Path); '' for a null sender (<>), null if the header is absent. */
  returnPath: string | null;
  subject: string;
  /** Plain text of the body (HTML converted), for keyword and link search. */
  text: string;
  /** Lower-cased header names with their (first) raw value. */
  headers: Record<string, string>;
  /** Top-level content type, e.g. "multipart/report". */
  contentType: string;
  attachments: ParsedAttachment[];
}

export interface ParsedAttachment {
  /** Decoded filename; '' when the part has none. */
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  /** Path of the content-addressed file in the data folder. */
  path: string;
  /** true when shown inside the body (Content-Disposition inline or referenced by cid:). */
  inline: boolean;
  /** Chain of forwarded messages it came from, outermost first ('' for top level). */
  forwardedFrom?: string;
  /**
   * Over the configured size limit: not stored (sha256 and path are ''); size is still its
   * whole decoded size (counted while the part was read and thrown away).
   */
  oversized?: true;
}

export type UnitDecision =
  | { unit: string; confirmed: true; reason: string }
  | { unit: string; confirmed: false; reason: string }
  | { unit: null; confirmed: false; reason: string };

export type ItemDecision = { item: string; reason: string } | { item: null; reason: string };

export interface LinkMaterial {
  url: string;
  /** 提取码 / access code found next to the link, if any. */
  accessCode: string | null;
  /** Provider label, e.g. "QQ邮箱超大附件". */
  provider: string;
  /** The body line(s) around the link, used for item matching. */
  context: string;
}

export interface MaterialDecision {
  kind: 'file' | 'link';
  /** Decoded filename for files, the URL for links. */
  filename: string;
  sha256: string | null;
  size: number | null;
  path: string | null;
  contentType: string | null;
  accessCode: string | null;
  unit: string | null;
  item: string | null;
  confirmed: boolean;
  status: 'credited' | 'review';
  reason: string;
  /** A file over the size limit: listed, never stored; the receipt asks for a download link. */
  oversized?: true;
}

/** The whole decision for one message. */
export type MessageDecision =
  | {
      kind: 'submission';
      unit: UnitDecision;
      materials: MaterialDecision[];
      /** Attachments that are not material (signature logos), with why. */
      ignored: { filename: string; reason: string }[];
      /** Whether a receipt may be sent, and why not. */
      reply: { allowed: true } | { allowed: false; reason: string };
    }
  | {
      kind: 'not_submission';
      reason: string;
    };
