// Parsing in worker threads. Parsing is the cost of intake (MIME splitting, base64, charset
// decoding, hashing and writing the attachments: more than ten times the download of the same
// mail), and one JavaScript thread uses one core. The pool runs parseMessageFile in worker
// threads, so every core parses while the main thread downloads and records; its `parse` is
// the Parser that Intake takes (pipeline.ts).
//
// The same file is the worker's entry: loaded in a thread started by the pool it serves jobs
// instead (see the bottom). A worker that dies (a crash, out of memory, stuck longer than the
// parse timeout allows) is replaced; the jobs it held are tried once more on a fresh thread, so
// a message that kills its parser twice is set aside as failed, and the one that happened to
// share the thread with it is not.
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { ParsedMail } from '../core/types.js';
// Types only: the parser itself (mailparser and friends, ~30 MB) is loaded by the threads alone.
import type { ParseOptions } from './mime.js';

const ROLE = 'baosong-parse-worker';

/** Jobs handed to one thread at once. The thread works on them in turn while the main thread
 * is busy elsewhere (a commit's flush, a FETCH response) and cannot hand it the next one: with
 * 3 a backfill's parse thread sat idle 15% of the time, with 8 about 5%. */
const JOBS_PER_WORKER = 8;
/** A job still running this long after its parse timeout means the thread is stuck (a
 * synchronous loop never lets the timeout fire): the thread is ended. */
const STUCK_GRACE_MS = 15_000;
const DEFAULT_PARSE_TIMEOUT_MS = 120_000;
/** A thread's young generation (MB). V8 lets it grow to ~48 MB before it collects, and a
 * parse allocates that much in a moment (stream chunks, MIME lines) and drops it right away;
 * measured, 8 MB costs no parse time and keeps ~30 MB per thread out of the daemon's RSS. */
const WORKER_YOUNG_GENERATION_MB = 8;
/** A thread's old generation (MB). Without a bound V8 lets a parse thread's heap grow to
 * ~60 MB of garbage before it collects; with one it collects at ~20 MB. It is far above what
 * one parse needs (bodies are cut at 8 MB, attachments are streamed, winmail.dat has its own
 * thread); threads that run out anyway are replaced and their mails parsed again one at a
 * time (see died()). */
const WORKER_OLD_GENERATION_MB = 256;

interface Job {
  id: number;
  rawPath: string;
  opts: ParseOptions;
  /** The file's content when the caller holds it (small messages): not read again. */
  bytes?: Uint8Array;
}

type Reply =
  { id: number; ok: true; mail: ParsedMail } | { id: number; ok: false; message: string };

interface Pending extends Job {
  resolve(mail: ParsedMail): void;
  reject(err: Error): void;
  /** Threads this job was on when they died. */
  crashes: number;
  timer?: NodeJS.Timeout;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Pending>;
  /** Set once the thread is known to be going away. */
  dead: boolean;
  /** Runs a job that was on a thread that died: alone, so it cannot take another one down. */
  solo: boolean;
}

/**
 * Parse threads for the daemon: one per core but one. The main thread has its own third of
 * the work (IMAP, hashing and writing the raw mail, SQLite, receipts); on two cores a second
 * parse thread measured no faster and used 20% more CPU and ~40 MB more memory.
 */
export function defaultParseWorkers(): number {
  return Math.max(1, Math.min(os.availableParallelism() - 1, 8));
}

/**
 * The module a worker thread loads: this file, compiled. Under vitest this module is the
 * TypeScript source, which a thread cannot load, so the compiled copy in dist/ is used (the
 * test setup builds it).
 */
function workerEntry(): URL {
  const self = new URL(import.meta.url);
  if (self.pathname.endsWith('.js')) return self;
  const built = new URL('../../dist/intake/parse-pool.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error(
    `parse worker: ${fileURLToPath(built)} is missing; run "npm run build" (a thread cannot load TypeScript)`,
  );
}

export interface ParsePoolOptions {
  /** Threads (default: defaultParseWorkers()). */
  workers?: number;
  /** Jobs per thread at once (default 8). */
  jobsPerWorker?: number;
  /** Called when a thread dies, for the log. */
  onWorkerDeath?: (reason: string, jobs: number) => void;
}

export class ParsePool {
  private readonly size: number;
  private readonly perWorker: number;
  private readonly entry: URL;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: ParsePoolOptions = {}) {
    this.size = Math.max(1, Math.floor(options.workers ?? defaultParseWorkers()));
    this.perWorker = Math.max(1, Math.floor(options.jobsPerWorker ?? JOBS_PER_WORKER));
    this.entry = workerEntry();
    // Threads start now: loading the parser takes a thread ~0.4 s, which then overlaps the
    // daemon's own start and its connection to the server instead of delaying the first mail.
    for (let i = 0; i < this.size; i++) this.spawn().worker.unref();
  }

  /** The Parser for Intake: same contract as parseMessageFile. */
  readonly parse = (rawPath: string, opts: ParseOptions, bytes?: Buffer): Promise<ParsedMail> => {
    if (this.closed) return Promise.reject(new Error('the parse pool is closed'));
    return new Promise<ParsedMail>((resolve, reject) => {
      this.queue.push({
        id: this.nextId++,
        rawPath,
        opts: { ...opts },
        ...(bytes ? { bytes } : {}),
        resolve,
        reject,
        crashes: 0,
      });
      this.dispatch();
    });
  };

  /** Ends the threads; queued and running parses are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new Error('the parse pool was closed');
    for (const p of this.queue.splice(0)) p.reject(err);
    const slots = this.slots.splice(0);
    for (const s of slots) {
      s.dead = true;
      for (const p of s.jobs.values()) {
        clearTimeout(p.timer);
        p.reject(err);
      }
      s.jobs.clear();
    }
    await Promise.all(slots.map((s) => s.worker.terminate().catch(() => 0)));
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      const p = this.queue[0]!;
      const slot = this.slotFor(p.crashes > 0);
      if (!slot) return;
      this.queue.shift();
      slot.jobs.set(p.id, p);
      if (p.crashes > 0) slot.solo = true;
      const limit = (p.opts.timeoutMs ?? DEFAULT_PARSE_TIMEOUT_MS) + STUCK_GRACE_MS;
      p.timer = setTimeout(() => this.kill(slot, `a parse ran over ${limit} ms`), limit);
      p.timer.unref();
      slot.worker.ref();
      try {
        // The bytes go over as a copy of their own that is moved, not cloned: a Buffer can be
        // a view of a larger one, which a clone would copy whole. The original stays here, for
        // a second try should the thread die.
        const bytes = p.bytes ? new Uint8Array(p.bytes) : undefined;
        slot.worker.postMessage(
          { id: p.id, rawPath: p.rawPath, opts: p.opts, ...(bytes ? { bytes } : {}) } satisfies Job,
          bytes ? [bytes.buffer] : [],
        );
      } catch (err) {
        // options that cannot cross to a thread (a function, say): this job's error only
        slot.jobs.delete(p.id);
        clearTimeout(p.timer);
        if (slot.jobs.size === 0) {
          slot.solo = false;
          slot.worker.unref();
        }
        p.reject(err as Error);
      }
    }
  }

  /** The least busy thread with room, a new one while below the size, or none. */
  private slotFor(solo: boolean): Slot | undefined {
    const open = this.slots.filter((s) => !s.dead && !s.solo);
    const canSpawn = this.slots.length < this.size;
    if (solo) return open.find((s) => s.jobs.size === 0) ?? (canSpawn ? this.spawn() : undefined);
    let best: Slot | undefined;
    for (const s of open)
      if (s.jobs.size < this.perWorker && (!best || s.jobs.size < best.jobs.size)) best = s;
    // a new thread before a second job on a busy one
    if ((!best || best.jobs.size > 0) && canSpawn) return this.spawn();
    return best;
  }

  private spawn(): Slot {
    const worker = new Worker(this.entry, {
      workerData: { role: ROLE },
      resourceLimits: {
        maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB,
        maxOldGenerationSizeMb: WORKER_OLD_GENERATION_MB,
      },
    });
    const slot: Slot = { worker, jobs: new Map(), dead: false, solo: false };
    worker.on('message', (r: Reply) => {
      const p = slot.jobs.get(r.id);
      if (!p) return;
      slot.jobs.delete(r.id);
      clearTimeout(p.timer);
      if (r.ok) p.resolve(r.mail);
      else p.reject(new Error(r.message));
      if (slot.jobs.size === 0) {
        slot.solo = false;
        worker.unref();
      }
      this.dispatch();
    });
    worker.on('error', (err) => this.died(slot, `parser thread failed: ${err.message}`));
    worker.on('exit', (code) => this.died(slot, `parser thread exited with code ${code}`));
    this.slots.push(slot);
    return slot;
  }

  private kill(slot: Slot, reason: string): void {
    this.died(slot, reason);
    void slot.worker.terminate().catch(() => 0);
  }

  /** A thread is gone: its jobs go back to the queue, or fail after their second thread. */
  private died(slot: Slot, reason: string): void {
    if (slot.dead) return;
    slot.dead = true;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    if (this.closed) return;
    const jobs = [...slot.jobs.values()];
    slot.jobs.clear();
    this.options.onWorkerDeath?.(reason, jobs.length);
    const retry: Pending[] = [];
    for (const p of jobs) {
      clearTimeout(p.timer);
      p.crashes++;
      if (p.crashes >= 2) p.reject(new Error(reason));
      else retry.push(p);
    }
    this.queue.unshift(...retry);
    this.dispatch();
  }
}

// ---------------------------------------------------------------------------------------------
// the worker side

async function serve(): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const { parseMessageFile } = await import('./mime.js');
  port.on('message', (job: Job) => {
    const bytes = job.bytes
      ? Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength)
      : undefined;
    parseMessageFile(job.rawPath, job.opts, bytes).then(
      (mail) => port.postMessage({ id: job.id, ok: true, mail } satisfies Reply),
      (err: unknown) =>
        port.postMessage({
          id: job.id,
          ok: false,
          message: err instanceof Error ? err.message : String(err),
        } satisfies Reply),
    );
  });
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === ROLE) void serve();
