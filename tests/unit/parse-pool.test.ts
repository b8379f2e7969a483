// The parse pool: parsing in worker threads gives what parsing in the main thread gives, errors
// cross as errors, a thread that dies is replaced without losing the jobs it held. (The thread
// runs the compiled dist/intake/parse-pool.js, which the test setup builds.)
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSamples } from '../../src/demo/samples.js';
import { parseMessageFile, type ParseOptions } from '../../src/intake/mime.js';
import { ParsePool, defaultParseWorkers } from '../../src/intake/parse-pool.js';
import { batches, uidSet, WHOLE_FETCH_MAX_BYTES } from '../../src/intake/imap.js';

describe('ParsePool', () => {
  let dir: string;
  let files: string[];
  let opts: (sub: string) => ParseOptions;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'baosong-pool-'));
    files = [];
    for (const s of demoSamples()) {
      const f = path.join(dir, `${s.name}.eml`);
      await writeFile(f, s.raw);
      files.push(f);
    }
    opts = (sub) => ({
      filesDir: path.join(dir, sub, 'files'),
      tmpDir: path.join(dir, sub, 'tmp'),
    });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('GIVEN the demo mail WHEN parsed in threads THEN the result is what the main thread parses', async () => {
    const pool = new ParsePool({ workers: 2 });
    try {
      const inThreads = await Promise.all(files.map((f) => pool.parse(f, opts('a'))));
      for (const [i, f] of files.entries()) {
        const here = await parseMessageFile(f, opts('a'));
        expect(inThreads[i]).toEqual(here);
      }
    } finally {
      await pool.close();
    }
  });

  it('GIVEN a file that cannot be read WHEN parsed in a thread THEN it rejects with the parser’s message', async () => {
    const pool = new ParsePool({ workers: 1 });
    try {
      const missing = path.join(dir, 'missing.eml');
      const here = await parseMessageFile(missing, opts('b')).catch((e: Error) => e.message);
      const there = await pool.parse(missing, opts('b')).catch((e: Error) => e.message);
      expect(there).toBe(here);
      // and the thread goes on with the next job
      await expect(pool.parse(files[0]!, opts('b'))).resolves.toMatchObject({
        subject: expect.any(String),
      });
    } finally {
      await pool.close();
    }
  });

  it('GIVEN options that cannot cross to a thread WHEN parsed THEN that parse rejects and the pool goes on', async () => {
    const pool = new ParsePool({ workers: 1 });
    try {
      const bad = { ...opts('c'), hook: () => 1 } as unknown as ParseOptions;
      await expect(pool.parse(files[0]!, bad)).rejects.toThrow();
      await expect(pool.parse(files[0]!, opts('c'))).resolves.toMatchObject({
        subject: expect.any(String),
      });
    } finally {
      await pool.close();
    }
  });

  it('GIVEN a thread that dies mid-parse WHEN its jobs are in flight THEN they are parsed again on a new thread', async () => {
    const deaths: string[] = [];
    const pool = new ParsePool({ workers: 1, onWorkerDeath: (reason) => deaths.push(reason) });
    try {
      const jobs = files.slice(0, 3).map((f) => pool.parse(f, opts('d')));
      const slots = (pool as unknown as { slots: { worker: { terminate(): Promise<number> } }[] })
        .slots;
      expect(slots.length).toBe(1);
      await slots[0]!.worker.terminate();
      const parsed = await Promise.all(jobs);
      expect(parsed.map((m) => m.subject)).toEqual(
        await Promise.all(
          files.slice(0, 3).map(async (f) => (await parseMessageFile(f, opts('d'))).subject),
        ),
      );
      expect(deaths).toHaveLength(1);
    } finally {
      await pool.close();
    }
  });

  it('GIVEN a closed pool WHEN asked to parse THEN it refuses, and close() rejects what was waiting', async () => {
    const pool = new ParsePool({ workers: 1, jobsPerWorker: 1 });
    const waiting = files.map((f) =>
      pool.parse(f, opts('e')).then(
        () => 'parsed',
        () => 'rejected',
      ),
    );
    await pool.close();
    const outcomes = await Promise.all(waiting);
    expect(outcomes).toContain('rejected');
    await expect(pool.parse(files[0]!, opts('e'))).rejects.toThrow(/closed/);
  });

  it('uses one thread per core but one, and at least one', () => {
    expect(defaultParseWorkers()).toBe(Math.max(1, Math.min(os.availableParallelism() - 1, 8)));
  });
});

describe('catch-up batches', () => {
  const msg = (uid: number, size = 50_000) => ({ uid, size, internalDate: new Date(0) });

  it('writes UID sets as ranges', () => {
    expect(uidSet([3, 4, 5, 9])).toBe('3:5,9');
    expect(uidSet([1])).toBe('1');
    expect(uidSet([1, 3, 5, 6])).toBe('1,3,5:6');
    expect(uidSet([])).toBe('');
  });

  it('cuts runs of small messages by count and bytes, and streams a big one alone, in UID order', () => {
    const fresh = [
      ...Array.from({ length: 120 }, (_, i) => msg(i + 1)),
      msg(121, WHOLE_FETCH_MAX_BYTES + 1),
      msg(122),
      ...Array.from({ length: 5 }, (_, i) => msg(123 + i, 3 * 1024 * 1024)),
    ];
    const b = batches(fresh);
    expect(b.flat().map((m) => m.uid)).toEqual(fresh.map((m) => m.uid));
    expect(b.map((x) => x.length)).toEqual([50, 50, 20, 1, 3, 2, 1]);
    expect(b[3]![0]!.uid).toBe(121);
  });
});
