// Content-addressed files in the data folder. Written to a temporary name and renamed, so a
// crash leaves either the whole file or a temp file that the next start removes, never half.
import { createHash, randomBytes } from 'node:crypto';
import {
  createWriteStream,
  mkdirSync,
  readdirSync,
  rmSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import path from 'node:path';

export interface StoredFile {
  sha256: string;
  size: number;
  /** Relative to the data folder. */
  relPath: string;
  absPath: string;
}

export class DataFolder {
  readonly raw: string;
  readonly files: string;
  readonly tmp: string;
  readonly outboxDir: string;

  constructor(readonly root: string) {
    this.raw = path.join(root, 'raw');
    this.files = path.join(root, 'files');
    this.tmp = path.join(root, 'tmp');
    this.outboxDir = path.join(root, 'outbox');
    for (const d of [root, this.raw, this.files, this.tmp])
      mkdirSync(d, { recursive: true, mode: 0o700 });
  }

  /** Removes temp files left by a crash; safe because nothing refers to them. */
  cleanTmp(): number {
    const left = readdirSync(this.tmp);
    for (const f of left) rmSync(path.join(this.tmp, f), { force: true, recursive: true });
    return left.length;
  }

  tmpPath(hint = ''): string {
    return path.join(this.tmp, `${Date.now()}-${randomBytes(6).toString('hex')}${hint}`);
  }

  /** Stores a message's raw bytes as raw/<aa>/<sha256>.eml: streamed, or written in one go
   * when the whole message is in memory already (IMAP fetches small messages whole). */
  async storeRaw(source: Readable | Buffer): Promise<StoredFile> {
    return Buffer.isBuffer(source)
      ? this.storeBytes(source, this.raw, '.eml')
      : this.store(source, this.raw, '.eml');
  }

  async store(source: Readable, dir: string, ext: string): Promise<StoredFile> {
    const tmp = this.tmpPath();
    const hash = createHash('sha256');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    try {
      await pipeline(source, tap, createWriteStream(tmp, { mode: 0o600 }));
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    return this.settle(tmp, hash.digest('hex'), size, dir, ext);
  }

  storeBytes(bytes: Buffer, dir: string, ext: string): StoredFile {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const absPath = contentPath(dir, sha256, ext);
    // Known bytes (the same mail again) are not written twice.
    if (sizeOf(absPath) === bytes.length) return this.stored(sha256, bytes.length, absPath);
    const tmp = this.tmpPath();
    try {
      writeFileSync(tmp, bytes, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    moveIn(tmp, absPath);
    return this.stored(sha256, bytes.length, absPath);
  }

  /** Moves a written temp file to its content-addressed name (or drops it: already there). */
  private settle(tmp: string, sha256: string, size: number, dir: string, ext: string): StoredFile {
    const absPath = contentPath(dir, sha256, ext);
    if (sizeOf(absPath) === size) rmSync(tmp, { force: true });
    else moveIn(tmp, absPath);
    return this.stored(sha256, size, absPath);
  }

  private stored(sha256: string, size: number, absPath: string): StoredFile {
    return { sha256, size, absPath, relPath: path.relative(this.root, absPath) };
  }

  rel(abs: string): string {
    return path.relative(this.root, abs);
  }
}

/** A file's size, or -1 when there is none. */
function sizeOf(file: string): number {
  return statSync(file, { throwIfNoEntry: false })?.size ?? -1;
}

/** <dir>/<first 2 hex>/<sha256><ext>: where content with that hash is kept. */
export function contentPath(dir: string, sha256: string, ext = ''): string {
  return path.join(dir, sha256.slice(0, 2), `${sha256}${ext}`);
}

/** Renames a temp file into place, making its <aa> folder the first time one lands there
 * (no mkdir or stat for every file). */
export function moveIn(tmp: string, absPath: string): void {
  try {
    renameSync(tmp, absPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(path.dirname(absPath), { recursive: true, mode: 0o700 });
    renameSync(tmp, absPath);
  }
}
