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

// --- Mail that is too big, too deep or too strange (hostile or broken input) -----------------

/** One megabyte as the limits in the configuration count it (MiB). */
export const MB = 1024 * 1024;

/** Default for `limits.maxAttachmentMb`: the largest single attachment stored. QQ Mail, 163 and
 * Sina take ordinary attachments up to 50 MB (bigger files go as 超大附件 / 中转站 download
 * links, which are recorded as material anyway), and some count a MB as 10^6 bytes, so 64 MiB
 * refuses nothing a clerk's webmail can send while a runaway or hostile part stops early. A
 * larger attachment is not stored: the mail is still recorded, the file listed as too large,
 * and the receipt asks for a download link instead. */
export const DEFAULT_MAX_ATTACHMENT_MB = 64;

/** Default for `limits.maxMessageMb`: all decoded attachments of one mail together (forwarded
 * mail included), so a mail with many large parts cannot fill the disk either. Providers cap a
 * whole mail at about 50-70 MB; twice the attachment limit leaves room for an office that
 * forwards a colleague's mail with its own files. */
export const DEFAULT_MAX_MESSAGE_MB = 128;

/** Parse time for one mail, nested mail included. Parsing runs at disk speed (a 200 MB
 * attachment takes a few seconds); a mail still parsing after this is set aside as failed. */
export const PARSE_TIMEOUT_MS = 120_000;

/** MIME parts (multipart containers included) in one message level. Real mail has a dozen; the
 * parser (mailsplit) refuses more than this, and the mail is set aside with that reason. */
export const MAX_MIME_PARTS = 1000;

/** Body text kept per message level (plain text and HTML before conversion). A Chinese
 * notice is a few KB; HTML with pasted pictures a few MB. Text beyond this is dropped, so a
 * 200 MB "text" part cannot fill memory (bodies are buffered; attachments are streamed). */
export const MAX_BODY_TEXT_BYTES = 8 * MB;

/** A decoded attachment name longer than this (in characters) is cut, keeping its extension.
 * Windows and Linux allow 255; a 5,000-character name is an attack on whoever shows it. */
export const MAX_FILENAME_CHARS = 255;

/** winmail.dat (TNEF) is opened only up to this size: the decoder (node-tnef) holds the file
 * as a JS array, roughly 60x its size in memory (16 MB took 1 GB and 7 s when measured). A
 * larger winmail.dat is kept as the attachment it is. */
export const MAX_TNEF_BYTES = 8 * MB;

/** Time and memory for decoding one winmail.dat in its worker thread. */
export const TNEF_TIMEOUT_MS = 30_000;
export const TNEF_WORKER_HEAP_MB = 768;
