// The IMAP source. ImapMailbox is the thin adapter over imapflow; ImapSource drives it:
// catch up on everything new, then wait with IDLE (and a slow poll as a fallback), and
// reconnect with backoff when the connection goes away.
//
// The catch-up is a pipeline: small messages come whole from one FETCH per batch (one round
// trip for fifty messages instead of two per message), big ones are streamed one at a time,
// and up to PIPELINE_DEPTH messages are stored and parsed at once (by the parse pool's threads
// when there is one) while the next ones download. Records are still written one message at a
// time in UID order (Arrival.turn): the next run resumes after the highest UID recorded, so a
// message recorded before an earlier one could let a crash skip the earlier one for good.
import type { Readable } from 'node:stream';
import { ImapFlow } from 'imapflow';
import type { Logger } from 'pino';
import {
  AUTH_RETRY_MIN_MS,
  FETCH_BATCH,
  IMAP_IDLE_DELAY_MS,
  RECONNECT_MAX_MS,
  RECONNECT_MIN_MS,
} from '../core/limits.js';
import type { Config } from '../config/types.js';
import type { SqliteStore } from '../store/sqlite.js';
import type { Intake, IntakeResult, Prepared } from './pipeline.js';

/** Messages up to this size are fetched whole, in batches, and held in memory until written to
 * raw/; bigger ones are streamed (imapflow holds a whole FETCH body in memory). Mail with
 * ordinary attachments is well below it; a 50 MB attachment is streamed. */
export const WHOLE_FETCH_MAX_BYTES = 4 * 1024 * 1024;
/** Bytes asked for by one batch FETCH at most: the server sends it all at once, and what the
 * pipeline has not taken yet waits in memory. */
export const FETCH_BATCH_BYTES = 8 * 1024 * 1024;
/** Messages recorded in one transaction: one commit, and one flush to disk (a few ms, during
 * which nothing else runs), for this many instead of one each. A crash loses at most the
 * group, which the next run does again. */
export const COMMIT_GROUP = 16;
/** Messages downloaded, stored, parsed or waiting to be recorded at once during a catch-up:
 * room for a commit group plus enough to keep every parser thread busy meanwhile. Each holds
 * at most WHOLE_FETCH_MAX_BYTES until its raw file is written, then its parse result. */
export const PIPELINE_DEPTH = 48;

export type ImapSettings = Config['imap'];

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

  /**
   * Whole sources of these UIDs in one FETCH, in the order the server sends them (ascending
   * on every server seen), one at a time: the FETCH waits while the caller works on one.
   * Without \Seen (BODY.PEEK). A UID expunged meanwhile is simply not among them.
   */
  async *sources(uids: number[]): AsyncGenerator<{ uid: number; source: Buffer }> {
    if (uids.length === 0) return;
    for await (const m of this.c.fetch(uidSet(uids), { uid: true, source: true }, { uid: true })) {
      if (m.source) yield { uid: m.uid, source: m.source };
    }
  }

  /** The whole message as a stream, without setting \Seen. */
  async download(uid: number): Promise<NodeJS.ReadableStream & import('node:stream').Readable> {
    const d = await this.c.download(String(uid), undefined, { uid: true });
    if (!d.content) throw new Error(`message UID ${uid} is gone from the server`);
    return d.content;
  }

  /** Moves the messages (a UID or a UID set such as "3:5,9"). */
  async move(uids: number | string, to: string): Promise<void> {
    await this.c.messageMove(String(uids), to, { uid: true });
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
    const refOf = (uid: number) => ({
      mailbox: settings.mailbox,
      uidvalidity: box.uidValidity,
      uid,
    });
    const fresh = (await box.listAfter(last)).filter((m) => !store.hasSource(refOf(m.uid)));
    const results: IntakeResult[] = [];
    const done: number[] = [];
    // Messages being stored and parsed, oldest first. They are recorded in this order only,
    // each ready run of them in one transaction.
    const inFlight: { uid: number; ok: boolean; prepared: Promise<Prepared> }[] = [];
    const start = (m: NewMessage, source: Readable | Buffer) => {
      const entry = {
        uid: m.uid,
        ok: false,
        prepared: intake.prepare({ source, ref: refOf(m.uid), receivedAt: m.internalDate }),
      };
      entry.prepared.then(
        () => (entry.ok = true),
        () => {}, // settle() meets the error in order
      );
      inFlight.push(entry);
    };
    /**
     * Waits until the oldest `want` messages are prepared, then records them, with any ready
     * ones right after them, in one transaction. A failure is met in UID order: what came
     * before it is recorded, and it stops the catch-up.
     */
    const settle = async (want: number) => {
      const group: Prepared[] = [];
      let failure: { uid: number; err: unknown } | null = null;
      for (const entry of inFlight) {
        if (group.length >= Math.max(want, COMMIT_GROUP * 2)) break;
        if (group.length >= want && !entry.ok) break;
        try {
          group.push(await entry.prepared);
        } catch (err) {
          failure = { uid: entry.uid, err };
          break;
        }
      }
      inFlight.splice(0, group.length);
      try {
        if (group.length) results.push(...intake.record(group));
      } catch (err) {
        failure = { uid: group[0]?.arrival.ref?.uid ?? 0, err };
      }
      if (failure) {
        // The connection broke or the disk failed: stop here, nothing recorded for this UID
        // (or any later one), so the next run starts again at it.
        log.error(
          { event: 'imap.message_failed', uid: failure.uid, err: (failure.err as Error).message },
          'message not processed',
        );
        throw failure.err;
      }
      for (const p of group) if (p.arrival.ref) done.push(p.arrival.ref.uid);
    };
    const drain = async () => {
      while (inFlight.length > 0) await settle(Math.min(COMMIT_GROUP, inFlight.length));
    };

    try {
      for (const batch of batches(fresh)) {
        if (this.stopped) break;
        if (batch.length === 1 && batch[0]!.size > WHOLE_FETCH_MAX_BYTES) {
          // Streamed: let it through alone, so no chunk of it waits behind a batch FETCH
          // (and no other message's parse shares the memory it takes).
          await drain();
          start(batch[0]!, await box.download(batch[0]!.uid));
          await drain();
          continue;
        }
        // Taken in UID order whatever order the server answers in: one that comes early
        // waits (the batch is at most FETCH_BATCH_BYTES).
        const early = new Map<number, Buffer>();
        let next = 0;
        const take = async (m: NewMessage, source: Buffer) => {
          start(m, source);
          if (inFlight.length >= PIPELINE_DEPTH) await settle(COMMIT_GROUP);
        };
        for await (const { uid, source } of box.sources(batch.map((m) => m.uid))) {
          // not asked for, or twice (a server answering more than it was asked)
          if (!batch.some((m) => m.uid === uid) || early.has(uid)) continue;
          early.set(uid, source);
          for (let m = batch[next]; m && early.has(m.uid); m = batch[++next]) {
            const bytes = early.get(m.uid)!;
            early.delete(m.uid);
            await take(m, bytes);
          }
          if (this.stopped) break;
        }
        // The FETCH is over: a UID it did not answer for was expunged meanwhile.
        const gone: number[] = [];
        for (; next < batch.length && !this.stopped; next++) {
          const m = batch[next]!;
          const bytes = early.get(m.uid);
          if (bytes) await take(m, bytes);
          else gone.push(m.uid);
        }
        if (gone.length > 0)
          log.warn(
            { event: 'imap.gone', uids: gone },
            'messages expunged before they were fetched',
          );
      }
      await drain();
    } catch (err) {
      // Nothing may still be writing when this returns (a reconnect starts a new catch-up).
      await Promise.allSettled(inFlight.map((w) => w.prepared));
      if (settings.moveTo && done.length > 0)
        await box.move(uidSet(done), settings.moveTo).catch(() => {});
      throw err;
    }
    if (settings.moveTo && done.length > 0) await box.move(uidSet(done), settings.moveTo);
    if (fresh.length > 0) await this.deps.afterBatch?.();
    return results;
  }
}

/**
 * The fresh messages in UID order, cut into batches fetched by one FETCH: runs of up to
 * FETCH_BATCH small messages and FETCH_BATCH_BYTES; a message above WHOLE_FETCH_MAX_BYTES is a
 * batch of its own (streamed).
 */
export function batches(fresh: readonly NewMessage[]): NewMessage[][] {
  const out: NewMessage[][] = [];
  let run: NewMessage[] = [];
  let bytes = 0;
  const cut = () => {
    if (run.length) out.push(run);
    run = [];
    bytes = 0;
  };
  for (const m of fresh) {
    if (m.size > WHOLE_FETCH_MAX_BYTES) {
      cut();
      out.push([m]);
      continue;
    }
    if (run.length >= FETCH_BATCH || (run.length > 0 && bytes + m.size > FETCH_BATCH_BYTES)) cut();
    run.push(m);
    bytes += m.size;
  }
  cut();
  return out;
}

/** "3:5,9" for [3, 4, 5, 9] (ascending). */
export function uidSet(uids: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < uids.length) {
    let j = i;
    while (j + 1 < uids.length && uids[j + 1] === uids[j]! + 1) j++;
    parts.push(i === j ? `${uids[i]}` : `${uids[i]}:${uids[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
