// Content-addressed files in the data folder. Written to a temporary name and renamed, so a
// crash leaves either the whole file or a temp file that the next start removes, never half.
import { createHash, randomBytes } from 'node:crypto';
import {
  createWriteStream,
  mkdirSync,
  readdirSync,
  rmSync,
  renameSync,
  existsSync,
  statSync,
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

  /** Streams `source` into raw/<aa>/<sha256>.eml. */
  async storeRaw(source: Readable): Promise<StoredFile> {
    return this.store(source, this.raw, '.eml');
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
    const sha256 = hash.digest('hex');
    const sub = path.join(dir, sha256.slice(0, 2));
    mkdirSync(sub, { recursive: true, mode: 0o700 });
    const absPath = path.join(sub, `${sha256}${ext}`);
    if (existsSync(absPath) && statSync(absPath).size === size) rmSync(tmp, { force: true });
    else renameSync(tmp, absPath);
    return { sha256, size, absPath, relPath: path.relative(this.root, absPath) };
  }

  rel(abs: string): string {
    return path.relative(this.root, abs);
  }
}
