// Running a measured step as its own `node` process: its peak RSS is its own (sampled from
// /proc/<pid>/status while it runs, and its VmHWM read at the end), not the benchmark's,
// which holds the generated mail and the SMTP capture.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/bench/: the compiled benchmark, with the compiled baosong beside it in src/. */
export const BUILD_DIR = fileURLToPath(new URL('..', import.meta.url));
/** The repository. */
export const REPO_ROOT = path.resolve(BUILD_DIR, '..', '..');

export interface ChildRun<T> {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Highest RSS seen, in MB (max of the samples and the child's own VmHWM). */
  peakRssMb: number;
  result: T | null;
  wallMs: number;
}

/**
 * The node flags the launcher starts baosong with (`#!/usr/bin/env -S node <flags>` in
 * bin/baosong), so that the measured processes run as the shipped daemon does.
 * BENCH_NODE_FLAGS replaces them (to try flags before the launcher has them).
 */
export function launcherNodeFlags(): string[] {
  // To try flags before the launcher has them; the benchmark prints what it used.
  const tried = process.env.BENCH_NODE_FLAGS;
  if (tried !== undefined) return tried.split(/\s+/).filter(Boolean);
  let first = '';
  try {
    first = readFileSync(path.join(REPO_ROOT, 'bin', 'baosong'), 'utf8').split('\n')[0] ?? '';
  } catch {
    return [];
  }
  const m =
    /^#!\s*\S*\/env\s+-S\s+node\s+(.*)$/.exec(first) ?? /^#!\s*\S*\/node\s+(.*)$/.exec(first);
  return (m?.[1] ?? '').split(/\s+/).filter((f) => f.startsWith('--'));
}

/** kB value of a /proc/<pid>/status line, or 0. */
export function procStatusKb(pid: number | 'self', key: 'VmRSS' | 'VmHWM'): number {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Writes the child's result for the parent (see runChild), with the child's own peak RSS. */
export function reportToParent(result: object): void {
  const text = JSON.stringify({ ...result, hwmKb: procStatusKb('self', 'VmHWM') });
  const file = process.env.BENCH_RESULT;
  if (file) writeFileSync(file, text);
  else process.stdout.write(text + '\n');
}

/**
 * Runs `node <script> ...args` with the given environment, stdout and stderr to `logFile`,
 * samples its RSS every `sampleMs`, and returns what it reported with reportToParent().
 */
export async function runChild<T>(
  script: string,
  args: string[],
  env: Record<string, string>,
  opts: { logFile: string; sampleMs?: number; nodeArgs?: string[]; timeoutMs?: number },
): Promise<ChildRun<T>> {
  const resultFile = path.join(os.tmpdir(), `baosong-bench-${process.pid}-${Date.now()}.json`);
  const out = openSync(opts.logFile, 'a');
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [...launcherNodeFlags(), ...(opts.nodeArgs ?? []), script, ...args],
    {
      env: { PATH: process.env.PATH ?? '', ...env, BENCH_RESULT: resultFile },
      stdio: ['ignore', out, out],
    },
  );
  closeSync(out);
  let peakKb = 0;
  const pid = child.pid;
  const sample = () => {
    if (pid === undefined) return;
    peakKb = Math.max(peakKb, procStatusKb(pid, 'VmRSS'), procStatusKb(pid, 'VmHWM'));
  };
  const timer = setInterval(sample, opts.sampleMs ?? 10);
  const killer = opts.timeoutMs
    ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs)
    : undefined;
  const { code, signal } = await new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
  }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c, s) => resolve({ code: c, signal: s }));
  });
  clearInterval(timer);
  if (killer) clearTimeout(killer);
  const wallMs = performance.now() - started;
  let result: (T & { hwmKb?: number }) | null = null;
  try {
    result = JSON.parse(readFileSync(resultFile, 'utf8')) as T & { hwmKb?: number };
  } catch {
    result = null;
  }
  rmSync(resultFile, { force: true });
  peakKb = Math.max(peakKb, result?.hwmKb ?? 0);
  return { code, signal, peakRssMb: peakKb / 1024, result, wallMs };
}
