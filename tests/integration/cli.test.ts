// The real bin/baosong, as an operator runs it, against Dovecot and an SMTP server.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSamples } from '../../src/demo/samples.js';
import { baosong } from '../support/cli.js';
import {
  cleanupDovecot,
  requireDovecot,
  startDovecot,
  type DovecotServer,
} from '../support/dovecot.js';
import { serverEnv } from '../support/env.js';
import { startSmtpServer, type SmtpCapture } from '../support/smtp.js';

describe.skipIf(!requireDovecot())('bin/baosong', () => {
  let imap: DovecotServer;
  let smtp: SmtpCapture;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    [imap, smtp] = await Promise.all([startDovecot(), startSmtpServer()]);
    dir = mkdtempSync(path.join(os.tmpdir(), 'baosong-cli-'));
    env = {
      ...serverEnv(imap, smtp, path.join(dir, 'data')),
      BAOSONG_FROM: 'office@huiji.example',
    };
  });
  afterAll(async () => {
    await Promise.all([cleanupDovecot(imap), smtp?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('run --once processes the mailbox, sends the receipts and exits 0; materials --json lists what it recorded', async () => {
    for (const s of demoSamples()) await imap.append(s.raw, { internalDate: s.receivedAt });
    const r = await baosong(['run', '--once'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // pino JSON lines, one per decision.
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.event === 'intake.decision').length).toBeGreaterThanOrEqual(14);
    expect(lines.filter((l) => l.event === 'outbox.sent')).toHaveLength(10);
    await smtp.waitFor(10);
    expect(
      smtp.messages.every((m) => m.parsed.from?.value[0]?.address === 'office@huiji.example'),
    ).toBe(true);

    const again = await baosong(['run', '--once'], env);
    expect(again.code).toBe(0);
    expect(smtp.messages).toHaveLength(10);

    const m = await baosong(['materials', '--json'], env);
    expect(m.code).toBe(0);
    const materials = JSON.parse(m.stdout) as Record<string, unknown>[];
    expect(materials).toHaveLength(14);
    const first = materials.find((x) => x.filename === '大河路街道推行行政指导的意见.doc');
    expect(first).toMatchObject({
      unit: 'dahelu',
      item: '2.1',
      kind: 'file',
      confirmed: true,
      status: 'credited',
    });
    expect(first?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof first?.messageId).toBe('string');
    expect(typeof first?.reason).toBe('string');
    expect(materials.find((x) => x.kind === 'link')).toMatchObject({
      sha256: null,
      unit: 'renshe',
      item: '8.2',
    });
  });

  it('explain shows the decision without storing anything', async () => {
    const sample = demoSamples().find((s) => s.name.startsWith('04-'));
    const file = path.join(dir, 'sample.eml');
    writeFileSync(file, sample?.raw ?? '');
    const r = await baosong(['explain', file, '--json'], {
      BAOSONG_DATA_DIR: path.join(dir, 'nothing-here'),
    });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      decision: { kind: string; materials: { item: string; reason: string }[] };
    };
    expect(out.decision.kind).toBe('submission');
    expect(out.decision.materials.map((x) => x.item)).toEqual(['2.3', '6.3']);
    const text = await baosong(['explain', file], {});
    expect(text.stdout).toContain('调解案例3则.doc → 六-3');
  });

  it('a bad config stops with every problem, naming the key', async () => {
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'from: not-an-address\nimap:\n  port: 0\n  password: hunter2\n');
    const r = await baosong(['--config', bad, 'run', '--once'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('imap.port');
    expect(r.stderr).toContain('from');
    expect(r.stderr).toContain('BAOSONG_IMAP_PASSWORD');
  });

  it('without the 授权码 it says which variable to set', async () => {
    const r = await baosong(['run', '--once'], { BAOSONG_DATA_DIR: path.join(dir, 'd2') });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('BAOSONG_IMAP_PASSWORD');
  });
});
