// Parses a message file both ways intake does: streamed from the file (folders, mbox, big
// IMAP messages) and from its bytes in memory (small IMAP messages, the usual case). The two
// must give the same result, or the same error; the test then checks that one result.
import { readFile } from 'node:fs/promises';
import { expect } from 'vitest';
import type { ParsedMail } from '../../src/core/types.js';
import { parseMessageFile, type ParseOptions } from '../../src/intake/mime.js';

type Outcome = { ok: true; mail: ParsedMail } | { ok: false; error: string };

async function outcome(p: Promise<ParsedMail>): Promise<Outcome> {
  return p.then(
    (mail) => ({ ok: true, mail }),
    (err: unknown) => ({ ok: false, error: (err as Error).message }),
  );
}

export async function parseBothWays(file: string, opts: ParseOptions): Promise<ParsedMail> {
  const fromFile = await outcome(parseMessageFile(file, opts));
  const bytes = await readFile(file).catch(() => null);
  if (bytes) {
    const fromMemory = await outcome(parseMessageFile(file, opts, bytes));
    expect(fromMemory, `${file} parsed from memory`).toEqual(fromFile);
  }
  if (!fromFile.ok) throw new Error(fromFile.error);
  return fromFile.mail;
}
