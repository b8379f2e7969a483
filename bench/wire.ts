// Child process: the wire. A bare imapflow FETCH of every message's source in the mailbox,
// nothing done with the bytes but counting them: no client can receive the mail faster.
// Timed from before the connection, like the baosong run it is compared with.
import { ImapFlow } from 'imapflow';
import { reportToParent } from './child.js';

const env = process.env;
const t0 = performance.now();
const client = new ImapFlow({
  host: env.BAOSONG_IMAP_HOST ?? '127.0.0.1',
  port: Number(env.BAOSONG_IMAP_PORT),
  secure: false,
  auth: { user: env.BAOSONG_IMAP_USER ?? '', pass: env.BAOSONG_IMAP_PASSWORD ?? '' },
  logger: false,
});
client.on('error', () => undefined);
await client.connect();
await client.mailboxOpen(env.BENCH_MAILBOX ?? 'INBOX', { readOnly: true });
let messages = 0;
let bytes = 0;
for await (const m of client.fetch('1:*', { uid: true, source: true })) {
  messages++;
  bytes += m.source?.length ?? 0;
}
const ms = performance.now() - t0;
await client.logout();
reportToParent({ messages, bytes, ms });
