// limits.maxAttachmentMb / limits.maxMessageMb: defaults, validation, and that they reach the
// parse stage through Intake.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/core/clock.js';
import { DEFAULT_MAX_ATTACHMENT_MB, DEFAULT_MAX_MESSAGE_MB } from '../../src/core/limits.js';
import { ConfigError, DEFAULT_CONFIG_PATH, parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { buildApp } from '../../src/main.js';

const DEFAULT_TEXT = readFileSync(DEFAULT_CONFIG_PATH, 'utf8');
const withoutLimits = DEFAULT_TEXT.replace(/^limits:\n(?: {2}.*\n)+/m, '');
const withLimits = (block: string) => `${withoutLimits}\nlimits:\n${block}\n`;

function problems(text: string): string[] {
  try {
    parseConfig(text, 'test.yaml', {});
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('limits in the configuration', () => {
  it('default.yaml sets the documented defaults', () => {
    expect(parseConfig(DEFAULT_TEXT, 'default.yaml', {}).limits).toEqual({
      maxAttachmentMb: DEFAULT_MAX_ATTACHMENT_MB,
      maxMessageMb: DEFAULT_MAX_MESSAGE_MB,
    });
    expect(DEFAULT_MAX_ATTACHMENT_MB).toBeGreaterThanOrEqual(50); // QQ/163/Sina ordinary attachments
    expect(DEFAULT_MAX_MESSAGE_MB).toBeGreaterThanOrEqual(DEFAULT_MAX_ATTACHMENT_MB);
  });

  it('a file without limits: gets the defaults', () => {
    expect(withoutLimits).not.toMatch(/^limits:/m);
    expect(parseConfig(withoutLimits, 'x.yaml', {}).limits).toEqual({
      maxAttachmentMb: DEFAULT_MAX_ATTACHMENT_MB,
      maxMessageMb: DEFAULT_MAX_MESSAGE_MB,
    });
  });

  it('one key set: the other keeps its default; fractions are allowed', () => {
    expect(parseConfig(withLimits('  maxAttachmentMb: 0.5'), 'x.yaml', {}).limits).toEqual({
      maxAttachmentMb: 0.5,
      maxMessageMb: DEFAULT_MAX_MESSAGE_MB,
    });
  });

  it.each([
    [
      'zero',
      '  maxAttachmentMb: 0',
      'limits.maxAttachmentMb: expected a size in MB greater than 0 and at most 4096, found 0',
    ],
    [
      'negative',
      '  maxMessageMb: -1',
      'limits.maxMessageMb: expected a size in MB greater than 0 and at most 4096, found -1',
    ],
    [
      'text',
      '  maxMessageMb: lots',
      'limits.maxMessageMb: expected a size in MB greater than 0 and at most 4096, found "lots"',
    ],
    [
      'too big',
      '  maxMessageMb: 5000',
      'limits.maxMessageMb: expected a size in MB greater than 0 and at most 4096, found 5000',
    ],
    [
      'attachment above message',
      '  maxAttachmentMb: 200\n  maxMessageMb: 100',
      'limits.maxAttachmentMb: expected maxAttachmentMb to be at most maxMessageMb',
    ],
    [
      'misspelt key',
      '  maxAttachmentMB: 10',
      'limits.maxAttachmentMB: unknown key (did you mean "maxAttachmentMb"?)',
    ],
  ])('%s is reported', (_what, block, want) => {
    expect(problems(withLimits(block)).map((p) => p.replace(/^test\.yaml: /, ''))).toContainEqual(
      expect.stringContaining(want),
    );
  });
});

describe('limits reach the parse stage', () => {
  let tmp = '';
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'baosong-limits-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('GIVEN maxAttachmentMb 0.01 WHEN a unit sends 20 KB THEN it is listed as oversized, for review', async () => {
    const config = parseConfig(
      withLimits('  maxAttachmentMb: 0.01\n  maxMessageMb: 1').replace(
        /^dataDir: .*$/m,
        `dataDir: ${JSON.stringify(path.join(tmp, 'data'))}`,
      ),
      'x.yaml',
      {},
    );
    const app = buildApp(config, {
      log: createLogger('silent', false),
      clock: new FixedClock(new Date('2015-06-05T10:00:00+08:00')),
      outboxToFolder: path.join(tmp, 'outbox'),
    });
    try {
      const file = path.join(tmp, 'm.eml');
      await writeFile(
        file,
        [
          'From: dahelu@huiji.example',
          'Subject: =?utf-8?B?' +
            Buffer.from('大河路街道 二-1 行政指导意见').toString('base64') +
            '?=',
          'Message-ID: <limits@huiji.example>',
          'Content-Type: multipart/mixed; boundary="L"',
          '',
          '--L',
          'Content-Type: application/pdf; name="opinion.pdf"',
          'Content-Transfer-Encoding: base64',
          '',
          Buffer.alloc(20_000, 1).toString('base64').replace(/.{76}/g, '$&\r\n'),
          '--L--',
          '',
        ].join('\r\n'),
      );
      const res = await app.intake.ingest({ source: createReadStream(file) });
      expect(res).toMatchObject({ status: 'recorded', kind: 'submission' });
      const [m] = app.store.materials();
      expect(m).toMatchObject({
        filename: 'opinion.pdf',
        status: 'review',
        sha256: null,
        size: 20_000,
      });
      expect(m?.reason).toMatch(/^附件过大（20 KB），超过接收上限，未保存/);
    } finally {
      app.close();
    }
  });
});
