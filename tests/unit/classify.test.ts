import { describe, expect, it } from 'vitest';
import { Classifier } from '../../src/core/classify.js';
import type { ParsedAttachment, ParsedMail } from '../../src/core/types.js';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../src/config/load.js';

const config = loadConfig(DEFAULT_CONFIG_PATH, {});
const classifier = new Classifier({
  items: config.checklist.items,
  units: config.units,
  ownAddress: config.from,
});

function file(filename: string, extra: Partial<ParsedAttachment> = {}): ParsedAttachment {
  return {
    filename,
    contentType: 'application/msword',
    size: 30_000,
    sha256: 'x'.repeat(64),
    path: '/tmp/x',
    inline: false,
    ...extra,
  };
}

function mail(p: Partial<ParsedMail> & { files?: string[] }): ParsedMail {
  return {
    messageId: 'm1@example',
    fromAddress: 'dahelu@huiji.example',
    fromName: null,
    returnPath: null,
    subject: '',
    text: '',
    headers: {},
    contentType: 'multipart/mixed',
    attachments: (p.files ?? []).map((f) => file(f)),
    ...p,
  };
}

function materials(m: ParsedMail) {
  const d = classifier.classify(m);
  if (d.kind !== 'submission') throw new Error(`not a submission: ${d.reason}`);
  return d.materials.map((x) => ({ unit: x.unit, item: x.item, status: x.status }));
}

describe('item per attachment', () => {
  it.each([
    // subject, files, expected items per file
    ['大河路街道 行政指导意见', ['附件1.doc'], ['2.1']],
    ['报送材料', ['大河路街道行政指导意见.doc'], ['2.1']],
    ['Fw: 二-1', ['材料.docx'], ['2.1']],
    ['（二）3', ['案例汇编.doc'], ['2.3']],
    ['报送材料', ['二-2 指导文书.pdf', '五 调研报告.docx'], ['2.2', '5']],
    ['', ['2015年服务型执法年度方案.doc'], ['1']],
    ['', ['调研报告.docx'], ['5']],
    // the most specific keyword wins: 调解案例 is 6.3, not 2.3 典型案例/案例
    ['', ['调解案例3则.doc'], [null]], // 6.3 does not apply to a street office: review, item kept
    ['大河路街道 第二项', ['行政指导文书.doc'], ['2.2']],
    ['大河路街道 第二项', ['材料.doc'], [null]],
    ['', ['会议纪要.doc', 'IMG_001.jpg'], ['3.1', null]],
    // the subject's code covers files without a signal of their own
    ['三-2 培训考试材料', ['IMG_001.jpg', 'IMG_002.jpg'], ['3.2', '3.2']],
    // a file's own keyword beats the subject's code
    ['二-1', ['行政指导意见.doc', '典型案例.doc'], ['2.1', '2.3']],
    // several codes in the subject, file without a signal: review
    ['二-1、二-3', ['scan.pdf'], [null]],
  ])('%s + %j', (subject, files, expected) => {
    const got = materials(mail({ subject, files }));
    expect(got.map((g) => (g.status === 'credited' ? g.item : null))).toEqual(expected);
  });

  it('keeps the item but asks for review when it does not apply to the unit', () => {
    const [m] = materials(mail({ files: ['调解案例3则.doc'] }));
    expect(m).toEqual({ unit: 'dahelu', item: '6.3', status: 'review' });
  });

  it('a unit with mediation duties gets 6.3 for 调解案例', () => {
    const [m] = materials(
      mail({ fromAddress: 'gongshang@huiji.example', files: ['调解案例3则.doc'] }),
    );
    expect(m).toEqual({ unit: 'gongshang', item: '6.3', status: 'credited' });
  });

  it('uses the body when neither filename nor subject say anything', () => {
    const got = materials(
      mail({
        subject: '报送',
        text: '附件是我办的基层执法调研报告，请查收。',
        files: ['新建文档.docx'],
      }),
    );
    expect(got[0]?.item).toBe('5');
  });

  it('ties go to review with both candidates in the reason', () => {
    const d = classifier.classify(mail({ files: ['会议纪要和调研报告.doc'] }));
    expect(d.kind === 'submission' && d.materials[0]?.status).toBe('review');
    expect(d.kind === 'submission' && d.materials[0]?.reason).toMatch(/三-1.*五|五.*三-1/);
  });
});

describe('unit of the sender', () => {
  it.each([
    // from, fromName, subject, files, unit, confirmed
    ['dahelu@huiji.example', null, '', ['a.doc'], 'dahelu', true],
    ['DaHeLu@Huiji.Example', null, '', ['a.doc'], 'dahelu', true],
    ['dhlfj_fzk@police.example', null, '', ['a.doc'], 'ga-dahelu', true],
    ['1234567@qq.com', null, '大河路街道 行政指导意见', ['a.doc'], 'dahelu', false],
    ['1234567@qq.com', null, '报送', ['长兴路分局调研报告.docx'], 'ga-changxinglu', false],
    ['zhang@163.com', '古荥镇 张三', '报送', ['a.doc'], 'guxing', false],
    ['zhang@163.com', null, '报送', ['a.doc'], null, false],
    // 大河路分局 is longer than anything 大河路街道 offers in this text: no confusion
    ['x@sina.com', null, '公安大河路分局 调研报告', ['a.doc'], 'ga-dahelu', false],
    ['x@sina.com', null, '大河路街道、长兴路街道联合报送', ['a.doc'], null, false],
  ])('%s %s %s', (fromAddress, fromName, subject, files, unit, confirmed) => {
    const d = classifier.classify(mail({ fromAddress, fromName, subject, files }));
    if (d.kind !== 'submission') throw new Error(d.reason);
    expect([d.unit.unit, d.unit.confirmed]).toEqual([unit, confirmed]);
    if (!confirmed) expect(d.materials.every((m) => m.status === 'review')).toBe(true);
  });
});

describe('what is not a submission', () => {
  it.each([
    [{ subject: '收到，谢谢', files: [] }, '没有附件或下载链接'],
    [{ subject: '自动回复：休假中', files: ['a.doc'] }, '自动回复'],
    [{ headers: { 'auto-submitted': 'auto-replied' }, files: ['a.doc'] }, 'Auto-Submitted'],
    [{ headers: { precedence: 'bulk' }, files: ['a.doc'] }, 'Precedence'],
    [{ headers: { 'list-id': '<x.example>' }, files: ['a.doc'] }, 'List-Id'],
    [{ returnPath: '', files: ['a.doc'] }, 'Return-Path'],
    [{ fromAddress: 'mailer-daemon@sina.com', files: ['a.doc'] }, '退信'],
    [{ contentType: 'multipart/report', files: ['a.doc'] }, '退信'],
    [{ fromAddress: 'hifz9199@sina.com', files: ['a.doc'] }, '本邮箱'],
    [{ subject: 'Undeliverable: 报送材料', files: ['a.doc'] }, '退信'],
  ] as [Partial<ParsedMail> & { files: string[] }, string][])('%j', (m, reason) => {
    const d = classifier.classify(mail(m));
    expect(d.kind).toBe('not_submission');
    expect(d.kind === 'not_submission' && d.reason).toContain(reason);
  });

  it('Auto-Submitted: no is a person', () => {
    expect(
      classifier.classify(mail({ headers: { 'auto-submitted': 'no' }, files: ['a.doc'] })).kind,
    ).toBe('submission');
  });

  it('a small inline image is a signature logo, not material', () => {
    const m = mail({ subject: '收到' });
    m.attachments = [file('logo.png', { contentType: 'image/png', inline: true, size: 3_000 })];
    const d = classifier.classify(m);
    expect(d).toEqual({ kind: 'not_submission', reason: '没有附件或下载链接' });
  });

  it('a large inline photo is material', () => {
    const m = mail({ subject: '七-2 检查照片' });
    m.attachments = [
      file('IMG_2001.jpg', { contentType: 'image/jpeg', inline: true, size: 900_000 }),
    ];
    expect(materials(m)).toEqual([{ unit: 'dahelu', item: '7.2', status: 'credited' }]);
  });

  it('a no-reply sender is recorded but not answered', () => {
    const d = classifier.classify(
      mail({ fromAddress: 'noreply@huiji.example', subject: '大河路街道 五', files: ['a.doc'] }),
    );
    expect(d.kind === 'submission' && d.reply).toEqual({
      allowed: false,
      reason: expect.stringContaining('不接收回复'),
    });
  });
});

describe('download links are material', () => {
  it('records a QQ large-attachment link with the item from the text beside it', () => {
    const text = [
      '各位领导：',
      '法律顾问审核视频较大，用超大附件发送：',
      'https://wx.mail.qq.com/ftn/download?func=3&k=abc123&key=xyz',
      '提取码：8k2d',
    ].join('\n');
    const d = classifier.classify(mail({ subject: '大河路街道报送', text }));
    if (d.kind !== 'submission') throw new Error(d.reason);
    expect(d.materials).toHaveLength(1);
    expect(d.materials[0]).toMatchObject({
      kind: 'link',
      item: '8.2',
      accessCode: '8k2d',
      status: 'credited',
    });
  });
});

describe('spoofed senders', () => {
  const trusting = new Classifier({
    items: config.checklist.items,
    units: config.units,
    ownAddress: config.from,
    trustedAuthServIds: ['mx.sina.net'],
  });
  const withAuth = (ar: string) =>
    trusting.classify(
      mail({
        headers: { 'authentication-results': ar },
        subject: '大河路街道 五',
        files: ['调研报告.doc'],
      }),
    );

  it('GIVEN DMARC fails at the trusted server THEN nothing is credited, the material waits for review and no receipt goes out', () => {
    const d = withAuth('mx.sina.net; dmarc=fail header.from=huiji.example; spf=fail');
    if (d.kind !== 'submission') throw new Error(d.reason);
    expect(d.unit).toMatchObject({ unit: 'dahelu', confirmed: false });
    expect(d.unit.reason).toContain('dmarc=fail');
    expect(d.materials.map((m) => m.status)).toEqual(['review']);
    expect(d.reply).toEqual({ allowed: false, reason: '发件人身份校验未通过' });
  });

  it('GIVEN the checks pass THEN the unit is confirmed', () => {
    const d = withAuth('mx.sina.net; dmarc=pass; spf=pass');
    expect(d.kind === 'submission' && d.unit.confirmed).toBe(true);
  });

  it('GIVEN a failing header from a server we do not trust THEN it is ignored', () => {
    const d = withAuth('attacker.example; dmarc=fail');
    expect(d.kind === 'submission' && d.unit.confirmed).toBe(true);
  });
});
