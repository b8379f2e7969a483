// Hostile mail through the WHOLE intake (buildApp, a temp data folder, receipts written as .eml
// by the FileSender): a 200 MB attachment over the limit, a subject and Message-ID that try to
// inject headers into our receipt, 10,000 parts, names that try to leave the data folder.
// The parse-level cases are in tests/unit/hostile.test.ts.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, realpath, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/core/clock.js';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { buildApp, type App } from '../../src/main.js';

const MB = 1024 * 1024;
let tmp = '';
let app: App;
let outDir = '';

const enc = (s: string) => `=?utf-8?B?${Buffer.from(s).toString('base64')}?=`;
const b64 = (b: Buffer | string) =>
  (typeof b === 'string' ? Buffer.from(b) : b).toString('base64').replace(/.{76}/g, '$&\r\n');

function part(filename: string, content: string | Buffer, type = 'application/octet-stream') {
  return [
    `Content-Type: ${type}`,
    'Content-Transfer-Encoding: base64',
    `Content-Disposition: attachment; filename="${enc(filename)}"`,
    '',
    b64(content),
  ].join('\r\n');
}

function mail(headers: string[], parts: string[]): string {
  return [
    ...headers,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="XB"',
    '',
    '--XB',
    'Content-Type: text/plain; charset=utf-8',
    '',
    '请查收。',
    ...parts.flatMap((p) => ['--XB', p]),
    '--XB--',
    '',
  ].join('\r\n');
}

async function ingestText(raw: string) {
  const file = path.join(tmp, `in-${Math.random().toString(36).slice(2)}.eml`);
  const out = createWriteStream(file);
  out.end(raw);
  await finished(out);
  return app.intake.ingest({ source: createReadStream(file) });
}

/** The receipts written so far, parsed, with their raw text. */
async function receipts() {
  await app.outbox.flush();
  const out = [];
  for (const f of (await readdir(outDir)).filter((n) => n.endsWith('.eml')).sort()) {
    const raw = await readFile(path.join(outDir, f));
    out.push({ file: f, raw: raw.toString('utf8'), mail: await simpleParser(raw) });
  }
  return out;
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'baosong-hostile-intake-'));
  outDir = path.join(tmp, 'outbox');
  const config = loadConfig(DEFAULT_CONFIG_PATH, {
    BAOSONG_DATA_DIR: path.join(tmp, 'data'),
    BAOSONG_IMAP_PASSWORD: 'x',
    BAOSONG_SMTP_PASSWORD: 'x',
  });
  app = buildApp(config, {
    log: createLogger('silent', false),
    clock: new FixedClock(new Date('2015-06-05T10:00:00+08:00')),
    outboxToFolder: outDir,
  });
});
afterAll(async () => {
  app?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('hostile mail through the whole intake', () => {
  it('a subject and Message-ID with CR LF inject no header into the receipt', async () => {
    const evil = '\r\nBcc: victim@example.org\r\nX-Injected: yes\r\n\r\nforged body';
    const res = await ingestText(
      mail(
        [
          'From: "新城街道" <xincheng@huiji.example>',
          'To: hifz9199@sina.com',
          `Subject: ${enc(`新城街道 二-1 行政指导意见${evil}`)}`,
          `Message-ID: <${enc(`inj${evil}`)}@huiji.example>`,
          'Date: Fri, 05 Jun 2015 09:00:00 +0800',
        ],
        [part('新城街道行政指导意见.docx', 'PK docx')],
      ),
    );
    expect(res).toMatchObject({ status: 'recorded', kind: 'submission' });

    const [r] = await receipts();
    expect(r).toBeDefined();
    const { mail: receipt, raw } = r!;
    // no header line was created from the sender's text
    expect(raw).not.toMatch(/^(Bcc|X-Injected):/im);
    expect(receipt.headers.has('bcc')).toBe(false);
    expect(receipt.headers.has('x-injected')).toBe(false);
    expect(receipt.to && !Array.isArray(receipt.to) ? receipt.to.value : []).toEqual([
      { address: 'xincheng@huiji.example', name: '' },
    ]);
    expect(String(receipt.inReplyTo ?? '')).not.toMatch(/\s/);
    // the subject is quoted in the text, on one line
    expect(receipt.text ?? '').toMatch(
      /“新城街道 二-1 行政指导意见 Bcc: victim@example\.org X-Injected: yes [^\n”]*…”已收到/,
    );
    expect(receipt.text ?? '').not.toContain('forged body');
  });

  it(
    'a 200 MB attachment over the limit: recorded, not stored, answered with "send a link"',
    { timeout: 300_000 },
    async () => {
      // written streaming to a temp file, never held in memory
      const file = path.join(tmp, 'big.eml');
      const out = createWriteStream(file);
      const write = (s: string) =>
        new Promise<void>((resolve) => (out.write(s) ? resolve() : out.once('drain', resolve)));
      await write(
        [
          'From: "大河路街道" <dahelu@huiji.example>',
          'To: hifz9199@sina.com',
          `Subject: ${enc('大河路街道 法律顾问视频和行政指导意见')}`,
          'Message-ID: <big.200mb@huiji.example>',
          'Date: Fri, 05 Jun 2015 09:30:00 +0800',
          'MIME-Version: 1.0',
          'Content-Type: multipart/mixed; boundary="BIG"',
          '',
          '--BIG',
          'Content-Type: text/plain; charset=utf-8',
          '',
          '视频和意见见附件。',
          '--BIG',
          part('大河路街道行政指导意见.docx', 'PK small docx'),
          '--BIG',
          'Content-Type: video/mp4',
          'Content-Transfer-Encoding: base64',
          `Content-Disposition: attachment; filename="${enc('法律顾问参与审核视频.mp4')}"`,
          '',
          '',
        ].join('\r\n'),
      );
      const chunk = Buffer.alloc(57 * 1024);
      for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 131) % 251;
      const lines = `${chunk.toString('base64').replace(/.{76}/g, '$&\r\n')}`;
      const chunks = Math.ceil((200 * MB) / chunk.length);
      for (let i = 0; i < chunks; i++) await write(lines);
      await write('--BIG--\r\n');
      out.end();
      await finished(out);
      const attachmentBytes = chunks * chunk.length;
      const rawSize = (await stat(file)).size;

      let peak = process.memoryUsage().rss;
      const base = peak;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 20);
      const t0 = Date.now();
      const res = await app.intake.ingest({ source: createReadStream(file) });
      const ms = Date.now() - t0;
      clearInterval(sampler);
      console.log(
        `200 MB attachment (${(rawSize / MB).toFixed(0)} MB raw mail): intake ${ms} ms, ` +
          `RSS ${(base / MB).toFixed(0)} MB before, peak ${(peak / MB).toFixed(0)} MB (+${((peak - base) / MB).toFixed(0)} MB)`,
      );
      expect(res).toMatchObject({ status: 'recorded', kind: 'submission' });

      const mats = app.store.materials().filter((m) => m.messageId === 'big.200mb@huiji.example');
      expect(mats.map((m) => [m.filename, m.status, m.sha256 === null, m.size])).toEqual([
        ['大河路街道行政指导意见.docx', 'credited', false, 13],
        ['法律顾问参与审核视频.mp4', 'review', true, attachmentBytes],
      ]);
      expect(mats[1]?.path).toBeNull();
      expect(mats[1]?.reason).toMatch(/附件过大（200\.0 MB），超过接收上限，未保存/);

      // nothing of it was kept but the raw mail (the evidence): files/ holds small files only
      const sizes: number[] = [];
      const walk = async (d: string): Promise<void> => {
        for (const e of await readdir(d, { withFileTypes: true })) {
          if (e.isDirectory()) await walk(path.join(d, e.name));
          else sizes.push((await stat(path.join(d, e.name))).size);
        }
      };
      await walk(app.data.files);
      expect(Math.max(...sizes)).toBeLessThan(MB);
      expect(await readdir(app.data.tmp)).toEqual([]);

      const receipt = (await receipts()).find(
        (r) =>
          r.mail.to &&
          !Array.isArray(r.mail.to) &&
          r.mail.to.value[0]?.address === 'dahelu@huiji.example',
      );
      expect(receipt).toBeDefined();
      const text = receipt!.mail.text ?? '';
      expect(receipt!.mail.subject).toBe('回执：1个附件过大未能接收，请改用下载链接发送');
      expect(text).toContain('法律顾问参与审核视频.mp4（200.0 MB，文件过大，未能接收）');
      expect(text).toContain('→ 请改用下载链接发送');
      expect(text).toMatch(/QQ邮箱“超大附件”或新浪邮箱“中转站”/);
      expect(text).toContain('下载链接');
      expect(text).toContain('大河路街道行政指导意见.docx');
      console.log(`receipt for the 200 MB mail:\n${text}`);
      await rm(file, { force: true });
    },
  );

  it('10,000 parts: set aside with the reason, no receipt', async () => {
    const parts = Array.from(
      { length: 10_000 },
      (_, i) => `Content-Type: application/octet-stream; name="p${i}.bin"\r\n\r\npart ${i}`,
    );
    const res = await ingestText(
      mail(['From: dahelu@huiji.example', 'Subject: many parts', 'Message-ID: <many@x>'], parts),
    );
    expect(res.status).toBe('failed');
    expect(res.reason).toMatch(/^无法解析邮件：.*more than 1000 parts/);
    const row = app.store.db
      .prepare('SELECT kind, reason FROM messages WHERE id = ?')
      .get(res.message) as { kind: string; reason: string };
    expect(row.kind).toBe('failed');
    expect(row.reason).toBe(res.reason);
    expect(
      app.store.db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE message = ?').get(res.message),
    ).toEqual({ n: 0 });
  });

  it('names that try to leave the data folder are kept as data; the files are stored by sha256 inside it', async () => {
    const names = [
      '../../../../etc/passwd',
      '/etc/shadow',
      'C:\\Windows\\win.ini',
      'CON',
      'NUL.txt',
      `a\u0000b\r\nc.doc`,
    ];
    const res = await ingestText(
      mail(
        [
          'From: liuzhai@huiji.example',
          `Subject: ${enc('刘寨街道 报送材料')}`,
          'Message-ID: <names@x>',
        ],
        names.map((n, i) => part(n, `content ${i}`)),
      ),
    );
    expect(res).toMatchObject({ status: 'recorded', kind: 'submission' });
    const mats = app.store.materials().filter((m) => m.messageId === 'names@x');
    expect(mats.map((m) => m.filename)).toEqual([...names.slice(0, 5), 'a b c.doc']);
    const root = await realpath(app.data.root);
    for (const m of mats) {
      expect(m.path).toBe(path.join('files', m.sha256!.slice(0, 2), m.sha256!));
      const real = await realpath(path.join(app.data.root, m.path!));
      expect(real.startsWith(path.join(root, 'files') + path.sep)).toBe(true);
    }
  });
});
