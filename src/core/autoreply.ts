// Which mail is not a submission, and which mail must never be answered (RFC 3834 and the
// lessons of helpdesk software: never start a mail loop).
import type { ParsedMail } from './types.js';

const NO_REPLY_LOCAL =
  /^(no-?reply|do-?not-?reply|noreply-.*|mailer-daemon|postmaster|bounces?)(\+.*)?$/i;
const AUTO_SUBJECT =
  /^(自动回复|自动答复|auto(matic)? ?reply|auto(-| )?response|out of (the )?office|不在办公室|休假|undeliverable|undelivered mail|delivery status notification|mail delivery failed|returned mail|系统退信|退信|delivery failure)/i;

/** Message-IDs we give our own mail: `<receipt.<hex>@domain>`, `<reminder.…>`, `<summary.…>`. */
export const OUR_MESSAGE_ID = /<((?:receipt|reminder|summary|review)\.[0-9a-z.-]+@[^>\s]+)>/i;

export function domainOf(address: string): string {
  return (address.split('@')[1] ?? 'localhost').toLowerCase();
}

/** Our Message-IDs quoted in a bounce (its report or the returned headers). */
export function ourMessageIdsIn(text: string, ownAddress: string): string[] {
  const re = new RegExp(OUR_MESSAGE_ID.source, 'gi');
  const domain = `@${domainOf(ownAddress)}`;
  return [...new Set([...text.matchAll(re)].map((m) => `<${m[1]}>`))].filter((id) =>
    id.toLowerCase().endsWith(`${domain}>`),
  );
}

function header(mail: ParsedMail, name: string): string | undefined {
  const v = mail.headers[name];
  return v === undefined ? undefined : v.trim();
}

/**
 * Why this message is machine mail (auto-reply, bounce, list, our own), or null for mail
 * written by a person. Such mail is never a submission and never answered.
 */
export function machineMailReason(mail: ParsedMail, ownAddress: string): string | null {
  const from = (mail.fromAddress ?? '').toLowerCase();
  if (from && from === ownAddress.toLowerCase()) return '本邮箱自己发出的邮件';
  if (
    mail.messageId &&
    OUR_MESSAGE_ID.test(`<${mail.messageId}>`) &&
    mail.messageId.endsWith(`@${domainOf(ownAddress)}`)
  )
    return `本系统发出的邮件又回到了邮箱（Message-ID ${mail.messageId}）`;
  const auto = header(mail, 'auto-submitted');
  if (auto && auto.toLowerCase() !== 'no') return `自动邮件（Auto-Submitted: ${auto}）`;
  if (
    /^multipart\/report/i.test(mail.contentType) ||
    /^message\/delivery-status/i.test(mail.contentType)
  )
    return '退信或投递状态报告';
  if (mail.returnPath === '') return '退信（空的 Return-Path）';
  const local = from.split('@')[0] ?? '';
  if (/^(mailer-daemon|postmaster)$/i.test(local)) return `退信（发件人 ${from}）`;
  const precedence = header(mail, 'precedence');
  if (precedence && /^(bulk|list|junk)$/i.test(precedence))
    return `群发邮件（Precedence: ${precedence}）`;
  if (header(mail, 'list-id') !== undefined) return '邮件列表（List-Id）';
  if (header(mail, 'list-unsubscribe') !== undefined) return '邮件列表（List-Unsubscribe）';
  if (header(mail, 'x-autoreply') !== undefined || header(mail, 'x-autorespond') !== undefined)
    return '自动回复（X-Autoreply）';
  if (AUTO_SUBJECT.test(mail.subject.trim()))
    return `自动回复或退信（主题“${mail.subject.trim()}”）`;
  return null;
}

/** Why a submission must still not be answered, or null when a receipt may go out. */
export function noReplyReason(mail: ParsedMail): string | null {
  const from = (mail.fromAddress ?? '').toLowerCase();
  if (!from) return '没有发件人地址';
  const local = from.split('@')[0] ?? '';
  if (NO_REPLY_LOCAL.test(local)) return `发件地址不接收回复（${from}）`;
  if (header(mail, 'x-auto-response-suppress') !== undefined) {
    const v = (header(mail, 'x-auto-response-suppress') ?? '').toLowerCase();
    if (/\b(all|autoreply|oof)\b/.test(v))
      return `发件人要求不自动回复（X-Auto-Response-Suppress: ${v}）`;
  }
  return null;
}
