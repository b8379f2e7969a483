// Numbers that bound behaviour, each with why it is that number.

/** An inline image smaller than this is a signature logo or an emoji, not evidence. Photos
 * pasted into a QQ/163 body as evidence (item 7.2) are 100 KB and more. */
export const LOGO_MAX_BYTES = 40 * 1024;

/** Forwarded mail inside forwarded mail: real clerks reach 2-3 levels; deeper is hostile. */
export const MAX_FORWARD_DEPTH = 5;

/** First reconnect delay to IMAP/SMTP, doubled up to the max: fast after a blip, and a
 * wrong password becomes a slow retry instead of a hot loop the provider would block. */
export const RECONNECT_MIN_MS = 1_000;
export const RECONNECT_MAX_MS = 5 * 60_000;
/** After a refused login: Sina/QQ/163 lock an account after a few bad logins in a row. */
export const AUTH_RETRY_MIN_MS = 60_000;

/** imapflow's default IDLE delay is 15 s; a receipt should come within about a second. */
export const IMAP_IDLE_DELAY_MS = 200;

/** Outbox retry: attempts before a send is given up as failed, and the backoff between. A
 * provider that rate-limits (4xx) typically lifts the limit within the hour. */
export const OUTBOX_MAX_ATTEMPTS = 12;
export const OUTBOX_RETRY_MIN_MS = 30_000;
export const OUTBOX_RETRY_MAX_MS = 60 * 60_000;

/** Messages parsed per batch before the IMAP fetch continues, so memory stays flat. */
export const FETCH_BATCH = 50;

/** A receipt lists owed items due within this many days (and counts the rest): a phone
 * screen holds a handful of lines, and the weekly reminder carries the full list. */
export const RECEIPT_OWED_WINDOW_DAYS = 30;
