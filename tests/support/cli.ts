// The real bin/baosong as the CLI tests run it: under this node, over dist/ (built by
// build.ts), with no environment but PATH and what the test passes.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/baosong', import.meta.url));

/** Starts `baosong ...args`; stdout and stderr are pipes for the caller to read. */
export function spawnBaosong(args: readonly string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export interface BaosongRun {
  /** The exit code; null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `baosong ...args` to the end. */
export function baosong(args: readonly string[], env: Record<string, string>): Promise<BaosongRun> {
  return new Promise((resolve, reject) => {
    const child = spawnBaosong(args, env);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}
