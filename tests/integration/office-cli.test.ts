// The office's commands as a clerk runs them: the real bin/baosong over dist/, a database
// filled by the real pipeline (`import` of an mbox), a real SMTP server for the receipts, and
// a real Dovecot for `check`.
import ExcelJS from 'exceljs';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { fakeDoc } from '../../src/demo/compose.js';
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

const DEFAULT_YAML = fileURLToPath(new URL('../../config/default.yaml', import.meta.url));
const NOTICE = fileURLToPath(new URL('../../../shared/seed/notice-2015.md', import.meta.url));

/** An mbox as Thunderbird writes it: "From - date" lines, >From escaped, a blank line after
 * each message. */
function mbox(messages: { raw: Buffer; receivedAt: Date }[]): Buffer {
  const parts = messages.map(({ raw, receivedAt }) => {
    const d = receivedAt.toUTCString().split(' '); // Wed, 20 May 2015 06:32:00 GMT
    const from = `From - ${d[0]?.replace(',', '')} ${d[2]} ${d[1]} ${d[4]} ${d[3]}\r\n`;
    const body = raw.toString('latin1').replace(/^(>*From )/gm, '>$1');
    return Buffer.concat([Buffer.from(from), Buffer.from(body, 'latin1'), Buffer.from('\r\n')]);
  });
  return Buffer.concat(parts);
}

const wall = (s: string) => new Date(`${s}:00Z`); // what a cell shows is Shanghai clock time

describe('office commands over a database filled by `import`', () => {
  let smtp: SmtpCapture;
  let dir: string;
  let env: Record<string, string>;
  const settle = () => new Promise((r) => setTimeout(r, 300));

  beforeAll(async () => {
    smtp = await startSmtpServer();
    dir = mkdtempSync(path.join(os.tmpdir(), 'baosong-office-'));
    env = {
      BAOSONG_SMTP_HOST: smtp.host,
      BAOSONG_SMTP_PORT: String(smtp.port),
      BAOSONG_SMTP_TLS: 'false',
      BAOSONG_SMTP_PASSWORD: 'secret',
      BAOSONG_FROM: 'office@huiji.example',
      BAOSONG_DATA_DIR: path.join(dir, 'data'),
    };
    const samples = demoSamples();
    // The export holds the demo mail (one message twice) and sample 2 again as another
    // client stored it (LF line ends: other bytes, same Message-ID).
    const two = samples[1];
    if (!two) throw new Error('no sample');
    const relf = {
      raw: Buffer.from(two.raw.toString('latin1').replace(/\r\n/g, '\n'), 'latin1'),
      receivedAt: two.receivedAt,
    };
    writeFileSync(path.join(dir, 'Inbox.mbox'), mbox([...samples, relf]));
    mkdirSync(path.join(dir, 'eml'));
    for (const s of samples) writeFileSync(path.join(dir, 'eml', `${s.name}.eml`), s.raw);
  });
  afterAll(async () => {
    await smtp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('import: an mbox with duplicates is recorded once; receipts only with --send-receipts', async () => {
    const r = await baosong(
      ['import', path.join(dir, 'Inbox.mbox'), '--send-receipts', '--json'],
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(s).toMatchObject({
      files: 1,
      messages: 14,
      recorded: 12,
      submissions: 10,
      duplicates: 2,
      materials: { credited: 12, review: 2 },
      setAside: { 自动邮件: 1, 没有附件或下载链接: 1 },
      receiptsSent: 10,
    });
    await smtp.waitFor(10);

    // The same mail as .eml files, and the mbox again: nothing new, nothing sent.
    const again = await baosong(
      ['import', path.join(dir, 'eml'), path.join(dir, 'Inbox.mbox')],
      env,
    );
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('导入完成：14 个文件，27 封邮件');
    expect(again.stdout).toContain('新登记：0');
    expect(again.stdout).toContain('重复（已登记过）：27');
    expect(again.stdout).toContain('回执：未发送');
    await settle();
    expect(smtp.messages).toHaveLength(10);

    const m = await baosong(['materials', '--json'], env);
    expect(JSON.parse(m.stdout)).toHaveLength(14);
    smtp.clear();
  });

  let qqMaterial = 0;
  let scanMaterial = 0;

  it('review list: what waits, and why', async () => {
    const r = await baosong(['review', 'list', '--json'], env);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as {
      id: string;
      filename: string;
      why: string[];
      from: string;
    }[];
    expect(list.map((e) => [e.filename, e.why])).toEqual([
      ['scan0001.pdf', ['no_item']],
      ['服务型行政执法学习会议纪要.doc', ['unknown_sender']],
    ]);
    qqMaterial = Number(list[1]?.id);
    scanMaterial = Number(list[0]?.id);
    const text = await baosong(['review', 'list'], env);
    expect(text.stdout).toContain('待复核 2 件');
    expect(text.stdout).toContain('原因：发件人未登记');
    expect(text.stdout).toContain('review confirm-sender ID --unit 单位代码');
  });

  it('review confirm-sender: credited, remembered (units shows it), one corrected receipt', async () => {
    const r = await baosong(
      ['review', 'confirm-sender', String(qqMaterial), '--unit', 'yingbinlu', '--by', '王敏'],
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('已记住：3021887465@qq.com 属于迎宾路街道办事处');
    expect(r.stdout).toContain('已发送 1 封');
    await smtp.waitFor(1);
    await settle();
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0]?.to).toEqual(['3021887465@qq.com']);
    expect(smtp.messages[0]?.parsed.subject).toBe('更正回执：迎宾路街道办事处报送材料1件已核对');

    const m = JSON.parse((await baosong(['materials', '--json'], env)).stdout) as {
      filename: string;
      status: string;
      confirmed: boolean;
    }[];
    expect(m.find((x) => x.filename === '服务型行政执法学习会议纪要.doc')).toMatchObject({
      status: 'credited',
      confirmed: true,
    });

    const u = JSON.parse((await baosong(['units', '--json'], env)).stdout) as {
      code: string;
      addresses: { address: string; source: string; learnedBy?: string }[];
      items: string[];
    }[];
    // explain reads the addresses learned in review too.
    const qqMail = demoSamples().find((x) => x.name.startsWith('06-'));
    const eml = path.join(dir, 'qq-again.eml');
    writeFileSync(eml, qqMail?.raw ?? '');
    const ex = JSON.parse((await baosong(['explain', eml, '--json'], env)).stdout) as {
      decision: { unit: { unit: string; confirmed: boolean } };
    };
    expect(ex.decision.unit).toMatchObject({ unit: 'yingbinlu', confirmed: true });

    const ybl = u.find((x) => x.code === 'yingbinlu');
    expect(ybl?.addresses).toEqual([
      { address: 'yingbinlu@huiji.example', source: 'config' },
      expect.objectContaining({
        address: '3021887465@qq.com',
        source: 'learned',
        learnedBy: '王敏',
      }),
    ]);
    expect(ybl?.items).toEqual([
      '1',
      '2.1',
      '2.2',
      '2.3',
      '3.1',
      '3.2',
      '5',
      '7.1',
      '7.2',
      '8.1',
      '8.2',
      '9',
    ]);
    const text = (await baosong(['units'], env)).stdout;
    expect(text).toContain('3021887465@qq.com（复核确认，王敏');
    expect(text).toContain('22 个单位');
    smtp.clear();
  });

  it('review assign --quiet and reject: status changes, nothing sent; mistakes exit 2 with a plain message', async () => {
    const a = await baosong(
      ['review', 'assign', String(scanMaterial), '--unit', 'jiaoyun', '--item', '2.1', '--quiet'],
      env,
    );
    expect(a.code).toBe(0);
    expect(a.stdout).toContain('材料 ' + scanMaterial + '：待复核 → 已计入  区交通运输局 二-1');
    const bad = await baosong(
      ['review', 'assign', String(scanMaterial), '--unit', 'guxing', '--item', '4.1'],
      env,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('does not apply to 古荥镇人民政府');
    const none = await baosong(['review', 'reject', '99999', '--reason', 'x'], env);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no material 99999');
    const empty = await baosong(['review', 'list'], env);
    expect(empty.stdout).toContain('复核队列是空的');
    const log = await baosong(['review', 'log', '--json'], env);
    expect((JSON.parse(log.stdout) as { action: string }[]).map((d) => d.action)).toEqual([
      'confirm_sender',
      'assign',
    ]);
    await settle();
    expect(smtp.messages).toHaveLength(0);
  });

  it('export --format xlsx: the evaluation workbook, read back cell by cell', async () => {
    const file = path.join(dir, '评议.xlsx');
    const r = await baosong(
      ['export', '--format', 'xlsx', '--out', file, '--at', '2015-06-05'],
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['评议汇总', '材料清单', '说明']);

    // Sheet 1: header row frozen with the unit column; one date and one mark column per item.
    const ws = wb.getWorksheet('评议汇总');
    if (!ws) throw new Error('no sheet');
    expect(ws.views[0]).toMatchObject({ state: 'frozen', xSplit: 2, ySplit: 1 });
    const codes = [
      '一',
      '二-1',
      '二-2',
      '二-3',
      '三-1',
      '三-2',
      '四-1',
      '四-2',
      '四-3',
      '五',
      '六-1',
      '六-2',
      '六-3',
      '七-1',
      '七-2',
      '八-1',
      '八-2',
      '九',
    ];
    const header = (ws.getRow(1).values as unknown[]).slice(1);
    expect(header).toEqual([
      '排名',
      '单位',
      ...codes.flatMap((c) => [`${c} 报送日期`, `${c} 情况`]),
      '应报事项',
      '已报事项',
      '按时',
      '逾期报送',
      '逾期未报',
      '完成率',
      '按时率',
    ]);
    expect(ws.rowCount).toBe(23);
    // Ranked: completion rate never rises down the sheet.
    const rates = Array.from({ length: 22 }, (_, i) =>
      Number(ws.getRow(i + 2).getCell(44).value ?? -1),
    );
    expect([...rates].sort((a, b) => b - a)).toEqual(rates);

    // 古荥镇 ranks first (2 of 11 items by 5 June, both on time); every cell of its row:
    const row = ws.getRow(2);
    const NOT_YET = '· 未到期';
    const NA = '- 不适用';
    expect((row.values as unknown[]).slice(1)).toEqual(
      [
        1,
        '古荥镇人民政府',
        wall('2015-05-27T09:05'),
        '✓ 按时报送', // 一
        null,
        '✗ 逾期未报', // 二-1
        wall('2015-05-27T09:05'),
        '✓ 按时报送', // 二-2
        null,
        '✗ 逾期未报', // 二-3
        null,
        NOT_YET,
        null,
        NOT_YET, // 三-1 三-2 (9月上旬)
        null,
        NA,
        null,
        NA,
        null,
        NA, // 四 (城管 only)
        null,
        NOT_YET, // 五 (6月底)
        null,
        NA,
        null,
        NA,
        null,
        NA, // 六 (调解 only)
        null,
        '✗ 逾期未报', // 七-1 (5月底)
        null,
        NOT_YET,
        null,
        NOT_YET,
        null,
        NOT_YET, // 七-2 八-1 八-2
        null,
        '○ 随时报送', // 九
        11,
        2,
        2,
        0,
        3,
        2 / 11,
        2 / 5,
      ].map((v) => (v === null ? undefined : v)),
    );
    expect(row.getCell(3).numFmt).toBe('yyyy-mm-dd');
    expect(row.getCell(44).numFmt).toBe('0.0%');
    expect((row.getCell(3).fill as ExcelJS.FillPattern).fgColor?.argb).toBe('FFC6EFCE');
    expect(ws.getRow(1).getCell(5).note).toMatchObject({});

    // 大河路街道办事处: 二-1 on 20 May, 14:32 Shanghai time.
    const dahelu = Array.from({ length: 22 }, (_, i) => ws.getRow(i + 2)).find(
      (r) => r.getCell(2).value === '大河路街道办事处',
    );
    expect(dahelu?.getCell(5).value).toEqual(wall('2015-05-20T14:32'));
    expect(dahelu?.getCell(6).value).toBe('✓ 按时报送');

    // Sheet 2: every material received by then, one row each, every column.
    const ms = wb.getWorksheet('材料清单');
    if (!ms) throw new Error('no sheet');
    expect(ms.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect((ms.getRow(1).values as unknown[]).slice(1)).toEqual([
      '编号',
      '单位',
      '事项',
      '事项名称',
      '类型',
      '文件名或链接',
      '提取码',
      '大小（字节）',
      '收到时间',
      '发件人',
      '发件地址已确认',
      '状态',
      '理由',
    ]);
    // 14 materials, 3 of them (城管, 8月) after 5 June.
    expect(ms.rowCount).toBe(12);
    const rows = Array.from({ length: 11 }, (_, i) =>
      (ms.getRow(i + 2).values as unknown[]).slice(1),
    );
    const first = rows[0] ?? [];
    expect(first.slice(1, 12)).toEqual([
      '大河路街道办事处',
      '二-1',
      '本单位推行行政指导的意见',
      '文件',
      '大河路街道推行行政指导的意见.doc',
      undefined,
      24000,
      wall('2015-05-20T14:32'),
      'dahelu@huiji.example',
      '是',
      '已计入',
    ]);
    expect(first[12]).toBe(
      '发件地址 dahelu@huiji.example 属于大河路街道办事处；文件名中有关键词“行政指导的意见”→ 二-1',
    );
    expect(ms.getRow(2).getCell(9).numFmt).toBe('yyyy-mm-dd hh:mm');
    const link = rows.find((r) => r[4] === '链接') ?? [];
    expect(link.slice(1, 11)).toEqual([
      '区人力资源和社会保障局',
      '八-2',
      '法律顾问参与文件审核、重大行政决策等视频资料',
      '链接',
      'https://wx.mail.qq.com/ftn/download?func=3&k=6c3d2a1f&key=9e8b7a',
      '7xk2',
      undefined,
      wall('2015-06-04T15:02'),
      'renshe@huiji.example',
      '是',
    ]);
    const qq = rows.find((r) => r[5] === '服务型行政执法学习会议纪要.doc') ?? [];
    expect(qq.slice(9, 12)).toEqual(['3021887465@qq.com', '是', '已计入']);
    expect(String(qq[12])).toContain('王敏 确认发件地址 3021887465@qq.com 属于迎宾路街道办事处');
  });

  it('export --format csv: the same tables for programs (UTF-8 with BOM)', async () => {
    const file = path.join(dir, 'eval.csv');
    const r = await baosong(['export', '--out', file, '--at', '2015-06-05'], env);
    expect(r.code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('\uFEFF排名,单位,一 报送日期,一 情况,二-1 报送日期')).toBe(true);
    const guxing = text.split('\r\n')[1];
    expect(guxing).toMatch(/^1,古荥镇人民政府,2015-05-27,✓ 按时报送,,✗ 逾期未报,2015-05-27,/);
    expect(guxing).toMatch(/,11,2,2,0,3,18\.2%,40\.0%$/);
    const mats = readFileSync(path.join(dir, 'eval-材料清单.csv'), 'utf8').split('\r\n');
    expect(mats[1]).toMatch(
      /^\d+,大河路街道办事处,二-1,本单位推行行政指导的意见,文件,大河路街道推行行政指导的意见\.doc,,24000,2015-05-20 14:32,/,
    );
  });

  it('export --materials: folders per unit and item, Windows-safe names, .url for links, an index sheet', async () => {
    const out = path.join(dir, 'materials');
    const r = await baosong(['export', '--materials', out], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('文件 13 个，链接 1 个');
    const doc = path.join(
      out,
      '大河路街道办事处',
      '2.1 本单位推行行政指导的意见',
      '2015-05-20 大河路街道推行行政指导的意见.doc',
    );
    expect(readFileSync(doc)).toEqual(fakeDoc('dahelu-2.1'));
    const scan = path.join(
      out,
      '区交通运输局',
      '2.1 本单位推行行政指导的意见',
      '2015-05-30 scan0001.pdf',
    );
    expect(existsSync(scan)).toBe(true);
    const url = path.join(
      out,
      '区人力资源和社会保障局',
      '8.2 法律顾问参与文件审核、重大行政决策等视频资料',
      '2015-06-04 下载链接 wx.mail.qq.com 提取码7xk2.url',
    );
    expect(readFileSync(url, 'utf8')).toBe(
      '[InternetShortcut]\r\nURL=https://wx.mail.qq.com/ftn/download?func=3&k=6c3d2a1f&key=9e8b7a\r\n',
    );
    expect(
      existsSync(
        path.join(
          out,
          '区城管执法局',
          '4.1 开展以城市管理执法规范和服务型行政执法为主要培训',
          '2015-08-04 培训现场1.jpg',
        ),
      ),
    ).toBe(true);

    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(path.join(out, '材料索引.xlsx'));
    const ws = wb.getWorksheet('材料索引');
    if (!ws) throw new Error('no index');
    expect(ws.rowCount).toBe(15);
    const entry = Array.from({ length: 14 }, (_, i) => ws.getRow(i + 2)).find(
      (row) => row.getCell(5).value === '大河路街道推行行政指导的意见.doc',
    );
    expect(entry?.getCell(1).value).toBe('大河路街道办事处');
    expect(entry?.getCell(2).value).toBe('2.1');
    expect(entry?.getCell(4).value).toEqual({
      text: '大河路街道办事处/2.1 本单位推行行政指导的意见/2015-05-20 大河路街道推行行政指导的意见.doc',
      hyperlink:
        '大河路街道办事处/2.1 本单位推行行政指导的意见/2015-05-20 大河路街道推行行政指导的意见.doc',
    });
    expect(entry?.getCell(8).value).toEqual(wall('2015-05-20T14:32'));
  });

  it('checklist import: the 2015 notice prints the default checklist', async () => {
    const r = await baosong(['checklist', 'import', NOTICE], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const got = (YAML.parse(r.stdout) as { checklist: unknown }).checklist;
    const want = (YAML.parse(readFileSync(DEFAULT_YAML, 'utf8')) as { checklist: unknown })
      .checklist;
    expect(got).toEqual(want);
    const raw = await baosong(['checklist', 'import', NOTICE, '--no-base', '--year', '2015'], env);
    expect(raw.code).toBe(0);
    expect(raw.stdout).toContain('由标题生成，请核对');
  });

  it('export and import refuse what they cannot do', async () => {
    const e = await baosong(['export'], env);
    expect(e.code).toBe(2);
    expect(e.stderr).toContain('--out FILE');
    const at = await baosong(
      ['export', '--out', path.join(dir, 'x.xlsx'), '--at', 'yesterday'],
      env,
    );
    expect(at.code).toBe(2);
    expect(at.stderr).toContain('is not a date');
  });
});

describe.skipIf(!requireDovecot())('check against a real Dovecot and SMTP server', () => {
  let imap: DovecotServer;
  let smtp: SmtpCapture;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    [imap, smtp] = await Promise.all([startDovecot(), startSmtpServer()]);
    for (const s of demoSamples().slice(0, 3))
      await imap.append(s.raw, { internalDate: s.receivedAt });
    dir = mkdtempSync(path.join(os.tmpdir(), 'baosong-check-'));
    env = {
      ...serverEnv(imap, smtp, path.join(dir, 'data')),
    };
  });
  afterAll(async () => {
    await Promise.all([cleanupDovecot(imap), smtp?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('GIVEN working servers WHEN check runs THEN it lists capabilities and the mailbox size, sends nothing, exits 0', async () => {
    const r = await baosong(['check', '--config', DEFAULT_YAML], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✓ IMAP capabilities: .*\bIDLE\b/);
    expect(r.stdout).toMatch(/✓ IMAP mailbox: INBOX: 3 messages, [\d.]+ KB, UIDVALIDITY \d+/);
    expect(r.stdout).toContain('✓ SMTP login');
    expect(r.stdout).toContain('check: everything works');
    expect(smtp.messages).toHaveLength(0);
  });

  it('GIVEN a wrong password WHEN check runs THEN it fails with the 授权码 hint', async () => {
    const r = await baosong(['check'], { ...env, BAOSONG_IMAP_PASSWORD: 'webmail-login-password' });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✗ IMAP login');
    expect(r.stdout).toContain('login refused for test');
    expect(r.stdout).toContain('授权码');
    expect(r.stdout).toContain('not the password used to log in to webmail');
    expect(r.stdout).toContain('✓ SMTP login'); // the other checks still run
  });

  it('GIVEN tls on a plain port WHEN check runs THEN it names the TLS/port mismatch', async () => {
    const r = await baosong(['check', '--json'], { ...env, BAOSONG_IMAP_TLS: 'true' });
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout) as {
      lines: { ok: boolean; what: string; diagnosis?: { problem: string } }[];
    };
    expect(j.lines.find((l) => !l.ok)?.diagnosis?.problem).toContain('TLS/port mismatch');
  });

  it('GIVEN an invalid config WHEN check runs THEN every problem is listed and it exits 1', async () => {
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'from: nobody\n');
    const r = await baosong(['check', '--config', bad], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✗ config');
    expect(r.stdout).toContain('from');
  });
});
