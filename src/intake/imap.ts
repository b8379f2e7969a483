// The IMAP source. ImapMailbox is the thin adapter over imapflow; ImapSource drives it:
// catch up on everything new, then wait with IDLE (and a slow poll as a fallback), and
// reconnect with backoff when the connection goes away.
import { ImapFlow } from 'imapflow';
import type { Logger } from 'pino';
import {
  AUTH_RETRY_MIN_MS,
  IMAP_IDLE_DELAY_MS,
  RECONNECT_MAX_MS,
  RECONNECT_MIN_MS,
} from '../core/limits.js';
import type { SqliteStore } from '../store/sqlite.js';
import type { Intake, IntakeResult } from './pipeline.js';

export interface ImapSettings {
  host: string;
  port: number;
  tls: boolean;
  user: string;
  password: string;
  mailbox: string;
  pollSeconds: number;
  moveTo: string | null;
}

export interface NewMessage {
  uid: number;
  internalDate: Date;
  size: number;
}

/** Thin wrapper: only this file imports imapflow. */
export class ImapMailbox {
  private client: ImapFlow | null = null;
  uidValidity = 0;

  constructor(
    private readonly s: ImapSettings,
    private readonly log: Logger,
  ) {}

  async open(onNew: () => void, onClose: () => void): Promise<void> {
    const client = new ImapFlow({
      host: this.s.host,
      port: this.s.port,
      secure: this.s.tls,
      auth: { user: this.s.user, pass: this.s.password },
      // NetEase-family servers refuse SELECT until the client has identified itself.
      clientInfo: { name: 'baosong', version: '0.1.0', vendor: 'baosong' },
      autoIdleDelay: IMAP_IDLE_DELAY_MS,
      logger: false,
      disableAutoIdle: false,
      tls: { rejectUnauthorized: true },
    });
    client.on('error', (err: Error) =>
      this.log.warn({ event: 'imap.error', err: err.message }, 'IMAP error'),
    );
    client.on('close', onClose);
    client.on('exists', onNew);
    await client.connect();
    // Read-only (EXAMINE) unless processed mail is to be moved: clerks' flags stay theirs.
    const box = await client.mailboxOpen(this.s.mailbox, { readOnly: !this.s.moveTo });
    this.uidValidity = Number(box.uidValidity);
    this.client = client;
  }

  private get c(): ImapFlow {
    if (!this.client) throw new Error('IMAP mailbox is not open');
    return this.client;
  }

  /** UIDs above `after`, oldest first, with INTERNALDATE and size. */
  async listAfter(after: number): Promise<NewMessage[]> {
    const out: NewMessage[] = [];
    // "N:*" returns the last message even when its UID is below N, so filter.
    for await (const m of this.c.fetch(
      `${after + 1}:*`,
      { uid: true, internalDate: true, size: true },
      { uid: true },
    )) {
      if (m.uid > after)
        out.push({
          uid: m.uid,
          internalDate: new Date(m.internalDate ?? Date.now()),
          size: m.size ?? 0,
        });
    }
    return out.sort((a, b) => a.uid - b.uid);
  }

  /** The whole message as a stream, without setting \Seen. */
  async download(uid: number): Promise<NodeJS.ReadableStream & import('node:stream').Readable> {
    const d = await this.c.download(String(uid), undefined, { uid: true });
    if (!d.content) throw new Error(`message UID ${uid} is gone from the server`);
    return d.content;
  }

  async move(uid: number, to: string): Promise<void> {
    await this.c.messageMove(String(uid), to, { uid: true });
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (!c) return;
    try {
      await c.logout();
    } catch {
      c.close();
    }
  }
}

export class ImapSource {
  private mailbox: ImapMailbox | null = null;
  private stopped = false;
  private pending = false;
  private running: Promise<void> | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly deps: {
      settings: ImapSettings;
      store: SqliteStore;
      intake: Intake;
      log: Logger;
      /** Called after each batch of new messages, e.g. to flush the outbox. */
      afterBatch?: () => Promise<unknown>;
    },
  ) {}

  /** Connects, processes everything new, and disconnects. */
  async once(): Promise<IntakeResult[]> {
    const box = new ImapMailbox(this.deps.settings, this.deps.log);
    await box.open(
      () => {},
      () => {},
    );
    try {
      return await this.catchUp(box);
    } finally {
      await box.close();
    }
  }

  /** Runs until stop(): catch up, then IDLE; reconnects with backoff on any failure. */
  async run(): Promise<void> {
    let delay = RECONNECT_MIN_MS;
    const { log, settings } = this.deps;
    while (!this.stopped) {
      // Resolved when this connection closes (or stop() is called); a late 'close' event
      // of this connection must not cut short the backoff that follows it.
      let connectionClosed = () => {};
      const closed = new Promise<void>((resolve) => (connectionClosed = resolve));
      this.wake = connectionClosed;
      try {
        const box = new ImapMailbox(settings, log);
        await box.open(
          () => this.trigger(),
          () => connectionClosed(),
        );
        this.mailbox = box;
        log.info(
          {
            event: 'imap.connected',
            host: settings.host,
            mailbox: settings.mailbox,
            uidValidity: box.uidValidity,
          },
          'watching mailbox',
        );
        delay = RECONNECT_MIN_MS;
        this.pollTimer = setInterval(() => this.trigger(), settings.pollSeconds * 1000);
        this.trigger();
        await closed;
      } catch (err) {
        const e = err as Error & { authenticationFailed?: boolean };
        if (e.authenticationFailed) {
          // Providers lock mailboxes after repeated bad logins: retry slowly, and say why.
          delay = Math.max(delay, AUTH_RETRY_MIN_MS);
          log.error(
            { event: 'imap.login_refused', user: settings.user, retryInMs: delay },
            `IMAP login refused for ${settings.user}: check BAOSONG_IMAP_PASSWORD — it must be the mailbox's 授权码 (client authorisation code), not the webmail password, and IMAP must be switched on in webmail`,
          );
        } else {
          log.error(
            { event: 'imap.connect_failed', err: e.message, retryInMs: delay },
            'IMAP connection failed',
          );
        }
      } finally {
        if (this.pollTimer) clearInterval(this.pollTimer);
        this.pollTimer = null;
        const box = this.mailbox;
        this.mailbox = null;
        await this.running?.catch(() => {});
        await box?.close().catch(() => {});
      }
      if (this.stopped) break;
      // Interruptible, so stop() does not wait out a long backoff.
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      delay = Math.min(delay * 2, RECONNECT_MAX_MS);
    }
  }

  /** Finishes the message in hand, then closes. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => {});
    this.wake?.();
  }

  /** Coalesces notifications: one catch-up at a time, and one more if mail came meanwhile. */
  private trigger(): void {
    if (this.running) {
      this.pending = true;
      return;
    }
    const box = this.mailbox;
    if (!box || this.stopped) return;
    this.running = (async () => {
      do {
        this.pending = false;
        await this.catchUp(box);
      } while (this.pending && !this.stopped);
    })()
      .catch((err: Error) => {
        this.deps.log.error(
          { event: 'imap.catchup_failed', err: err.message },
          'processing new mail failed; reconnecting',
        );
        this.wake?.();
      })
      .finally(() => {
        this.running = null;
      });
  }

  private async catchUp(box: ImapMailbox): Promise<IntakeResult[]> {
    const { store, intake, settings, log } = this.deps;
    const last = store.lastUid(settings.mailbox, box.uidValidity);
    const fresh = await box.listAfter(last);
    const results: IntakeResult[] = [];
    for (const m of fresh) {
      if (this.stopped) break;
      const ref = { mailbox: settings.mailbox, uidvalidity: box.uidValidity, uid: m.uid };
      if (store.hasSource(ref)) continue;
      try {
        const source = await box.download(m.uid);
        results.push(await intake.ingest({ source, ref, receivedAt: m.internalDate }));
      } catch (err) {
        // The connection broke or the disk failed: stop here, nothing recorded for this UID,
        // so the next run starts again at it.
        log.error(
          { event: 'imap.message_failed', uid: m.uid, err: (err as Error).message },
          'message not processed',
        );
        throw err;
      }
      if (settings.moveTo) await box.move(m.uid, settings.moveTo);
    }
    if (fresh.length > 0) await this.deps.afterBatch?.();
    return results;
  }
}
