// One daemon per data folder: two would both fetch, and both answer, every message.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

export class LockError extends Error {
  readonly code = 'DATA_DIR_LOCKED';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `<dataDir>/baosong.lock` holding our pid. A lock whose process is gone (SIGKILL,
 * power cut) is stale and taken over; a live one is refused with the pid to look at.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, 'baosong.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (pid > 0 && pid !== process.pid && alive(pid)) {
        throw new LockError(
          `another baosong (pid ${pid}) is already running on the data folder ${dataDir}; stop it first, or give this one its own BAOSONG_DATA_DIR`,
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new LockError(`could not take the lock ${file}; remove it if no baosong is running`);
}
