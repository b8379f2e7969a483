// Receipt latency: the daemon (`baosong run`, its own process) idles on an empty mailbox; the
// benchmark appends submissions one at a time and times each from the start of the APPEND to
// the receipt (In-Reply-To the submission) arriving at the SMTP server. Between messages it
// waits a seeded random 0.1-1 s, so arrivals meet the daemon in every state of its IDLE.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../src/config/types.js';
import type { DovecotServer } from '../tests/support/dovecot.js';
import type { SmtpCapture } from '../tests/support/smtp.js';
import { launcherNodeFlags } from './child.js';
import { generateMail, prng } from './corpus.js';

export interface LatencyInput {
  dir: string;
  imap: DovecotServer;
  smtp: SmtpCapture;
  config: Config;
  messages: number;
  seed: number;
  configFile: string;
  env: Record<string, string>;
  /** dist/.../cli/index.js */
  daemon: string;
  say: (line: string) => void;
}

export interface LatencyResult {
  samples: number[];
  p50: number;
  p95: number;
  max: number;
}

/** Nearest-rank percentile. */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[k] ?? NaN;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForLog(file: string, needle: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // not yet written
    }
    if (text.includes(needle)) return;
    if (Date.now() > deadline) throw new Error(`daemon did not log ${needle} (see ${file})`);
    await sleep(20);
  }
}

export async function latencyRun(inp: LatencyInput): Promise<LatencyResult> {
  const { imap, smtp } = inp;
  const client = await imap.client();
  await client.mailboxCreate('Live').catch(() => undefined);

  // Submissions from roster addresses (they are answered); a seed of their own.
  const mails = generateMail(inp.config, inp.messages * 4, inp.seed + 1)
    .filter((m) => m.rosterSender)
    .slice(0, inp.messages);
  if (mails.length < inp.messages) throw new Error('not enough roster submissions generated');

  const logFile = path.join(inp.dir, 'latency-daemon.log');
  const out = openSync(logFile, 'a');
  const daemon = spawn(
    process.execPath,
    [...launcherNodeFlags(), inp.daemon, '--config', inp.configFile, 'run'],
    {
      env: { PATH: process.env.PATH ?? '', ...inp.env },
      stdio: ['ignore', out, out],
    },
  );
  closeSync(out);
  const exited = new Promise<number | null>((r) => daemon.once('exit', (c) => r(c)));
  const samples: number[] = [];
  const missing: string[] = [];
  try {
    await waitForLog(logFile, '"imap.connected"', 15_000);
    await sleep(1000); // settled into IDLE
    smtp.clear();
    const r = prng(inp.seed);
    for (const m of mails) {
      const before = smtp.messages.length;
      const t0 = Date.now();
      await client.append('Live', m.raw, [], m.internalDate);
      let got: number | null = null;
      const deadline = t0 + 15_000;
      while (got === null && Date.now() < deadline) {
        const hit = smtp.messages
          .slice(before)
          .find((s) => s.headers.get('in-reply-to') === `<${m.messageId}>`);
        if (hit) got = hit.receivedAt.getTime() - t0;
        else await smtp.waitFor(smtp.messages.length + 1, 200).catch(() => undefined);
      }
      if (got === null) missing.push(m.messageId);
      else samples.push(got);
      await sleep(100 + Math.floor(r() * 900));
    }
  } finally {
    daemon.kill('SIGTERM');
    const timer = setTimeout(() => daemon.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    await client.logout().catch(() => client.close());
  }
  if (missing.length)
    throw new Error(
      `no receipt within 15 s for ${missing.length} message(s), e.g. ${missing[0]} (see ${logFile})`,
    );
  const sorted = [...samples].sort((a, b) => a - b);
  const res = {
    samples,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    max: sorted[sorted.length - 1] ?? NaN,
  };
  inp.say(
    `latency: ${samples.length} receipts, p50 ${res.p50} ms, p95 ${res.p95} ms, min ${sorted[0]} ms, max ${res.max} ms`,
  );
  return res;
}
