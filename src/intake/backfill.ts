// Backfill: last year's mail, exported from webmail or Thunderbird, through the same intake
// pipeline as live mail. .eml files, folders of them (Thunderbird's folder files, which are
// mbox files without an extension, included) and mbox files. Deduplicated against what is
// recorded (by Message-ID before anything is stored, then by the pipeline's content hash
// and Message-ID); whether receipts go out is the Intake's option (off for backfill).
import { createReadStream, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { SqliteStore } from '../store/sqlite.js';
import { forEachMboxMessage, looksLikeMbox, looksLikeMessage, peekHeaders } from './mbox.js';
import type { Intake, IntakeResult } from './pipeline.js';

export interface ImportSource {
  path: string;
  kind: 'eml' | 'mbox';
  size: number;
}

export interface Skipped {
  path: string;
  why: string;
}

// Thunderbird keeps an index (.msf) and other files beside each mbox: never mail.
const NOT_MAIL = /\.(msf|dat|json|sqlite|html?|txt|log|ini|xml|js|lock|wal|shm|db)$/i;

/** The mail files under the given paths, in a stable order, and what was passed over. */
export function listImportSources(paths: readonly string[]): {
  sources: ImportSource[];
  skipped: Skipped[];
} {
  const sources: ImportSource[] = [];
  const skipped: Skipped[] = [];
  const visit = (p: string, explicit: boolean) => {
    let st;
    try {
      st = statSync(p);
    } catch (err) {
      skipped.push({ path: p, why: `cannot read: ${(err as Error).message}` });
      return;
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) {
        if (name.startsWith('.')) continue;
        visit(path.join(p, name), false);
      }
      return;
    }
    if (!st.isFile()) return;
    if (st.size === 0) {
      if (explicit) skipped.push({ path: p, why: 'empty file' });
      return;
    }
    if (/\.eml$/i.test(p)) sources.push({ path: p, kind: 'eml', size: st.size });
    else if (looksLikeMbox(p)) sources.push({ path: p, kind: 'mbox', size: st.size });
    else if (explicit && !NOT_MAIL.test(p) && looksLikeMessage(p))
      sources.push({ path: p, kind: 'eml', size: st.size });
    else if (explicit || !NOT_MAIL.test(p))
      skipped.push({ path: p, why: 'neither an .eml file nor an mbox file' });
  };
  for (const p of paths) visit(p, true);
  return { sources, skipped };
}

export interface ImportProgress {
  bytesDone: number;
  bytesTotal: number;
  messages: number;
  file: string;
}

export interface ImportSummary {
  files: number;
  messages: number;
  /** Recorded for the first time. */
  recorded: number;
  submissions: number;
  materials: { credited: number; review: number };
  duplicates: number;
  /** Recorded but not submissions (auto-replies, bounces, mail without attachment…) or
   * unreadable, by reason. */
  setAside: Record<string, number>;
  skipped: Skipped[];
}

export interface BackfillDeps {
  intake: Intake;
  store: SqliteStore;
  /** How many materials of a recorded message were credited / wait for review. */
  materialsOf: (message: number) => { status: string }[];
}

/** "自动邮件（Auto-Submitted: auto-replied）" and "自动邮件（…: auto-generated）" are one reason. */
function reasonGroup(r: IntakeResult): string {
  if (r.status === 'failed') return '无法解析';
  return r.reason.replace(/（[^）]*）/g, '').trim() || r.reason;
}

export class Backfill {
  constructor(private readonly deps: BackfillDeps) {}

  async run(
    paths: readonly string[],
    onProgress?: (p: ImportProgress) => void,
  ): Promise<ImportSummary> {
    const { sources, skipped } = listImportSources(paths);
    const summary: ImportSummary = {
      files: sources.length,
      messages: 0,
      recorded: 0,
      submissions: 0,
      materials: { credited: 0, review: 0 },
      duplicates: 0,
      setAside: {},
      skipped,
    };
    const bytesTotal = sources.reduce((n, s) => n + s.size, 0);
    let bytesDone = 0;
    const tick = (file: string) =>
      onProgress?.({ bytesDone, bytesTotal, messages: summary.messages, file });

    const one = async (
      source: Readable,
      peek: { messageId: string | null; received: Date | null },
      fallback: Date | null,
    ) => {
      summary.messages++;
      // Already recorded under this Message-ID: nothing to store, parse or decide.
      if (peek.messageId && this.deps.store.findMessage('', peek.messageId) !== null) {
        summary.duplicates++;
        source.destroy();
        return;
      }
      const r = await this.deps.intake.ingest({
        source,
        ...(peek.received ? { receivedAt: peek.received } : {}),
        ...(fallback ? { fallbackReceivedAt: fallback } : {}),
      });
      this.count(summary, r);
    };

    for (const s of sources) {
      tick(s.path);
      if (s.kind === 'eml') {
        const head = await readHeaderBlock(s.path);
        await one(createReadStream(s.path), peekHeaders(head), statSync(s.path).mtime);
        bytesDone += s.size;
        tick(s.path);
      } else {
        await forEachMboxMessage(
          s.path,
          async (m) => {
            await one(m.source, m.headers, m.fromLineDate);
            tick(s.path);
          },
          (n) => {
            bytesDone += n;
          },
        );
        tick(s.path);
      }
    }
    return summary;
  }

  private count(summary: ImportSummary, r: IntakeResult): void {
    if (r.status === 'duplicate') {
      summary.duplicates++;
      return;
    }
    summary.recorded++;
    if (r.status === 'recorded' && r.kind === 'submission' && r.message !== null) {
      summary.submissions++;
      for (const m of this.deps.materialsOf(r.message)) {
        if (m.status === 'credited') summary.materials.credited++;
        else if (m.status === 'review') summary.materials.review++;
      }
      return;
    }
    const g = reasonGroup(r);
    summary.setAside[g] = (summary.setAside[g] ?? 0) + 1;
  }
}

/** The header block of a message file (up to 256 KB), for its Message-ID and Received. */
async function readHeaderBlock(file: string): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of createReadStream(file, {
    end: 256 * 1024 - 1,
  }) as AsyncIterable<Buffer>) {
    parts.push(chunk);
    size += chunk.length;
    const text = Buffer.concat(parts).toString('utf8');
    const end = text.search(/\r?\n\r?\n/);
    if (end >= 0) return text.slice(0, end);
    if (size >= 256 * 1024) break;
  }
  return Buffer.concat(parts).toString('utf8');
}
