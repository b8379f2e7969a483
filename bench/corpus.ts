// Seeded, realistic mail for the benchmark: what a district mailbox holds after a campaign.
// Roster senders and clerks' personal QQ/163 addresses; GBK, GB2312 and UTF-8 subjects;
// Chinese filenames in RFC 2047, RFC 2231 and raw 8-bit; 20-100 KB with one to three
// attachments; some forwarded (message/rfc822), some with QQ 超大附件 / Sina 中转站 links in
// an HTML body; a few auto-replies and thank-yous. The same seed gives the same bytes.
import type { Config } from '../src/config/types.js';
import { composeMail, fakeDoc, type ComposeAttachment } from '../src/demo/compose.js';

export function prng(seed: number): () => number {
  // mulberry32
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export interface BenchMail {
  raw: Buffer;
  internalDate: Date;
  messageId: string;
  /** Roster sender whose receipt is expected (for the latency run). */
  rosterSender: boolean;
}

const CN_DIGITS = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
const PERSONAL = ['qq.com', '163.com', 'sina.com', '126.com'];
const DOC_TYPES: [string, string][] = [
  ['.doc', 'application/msword'],
  ['.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  ['.pdf', 'application/pdf'],
  ['.jpg', 'image/jpeg'],
  ['.xls', 'application/vnd.ms-excel'],
];
const GREETINGS = ['区法制办：', '您好！', '领导好，', '法制办王主任：', ''];
const BODIES = [
  '附件为我单位报送材料，请查收。',
  '按照通知要求，现将有关材料报送如下，请审阅。',
  '材料见附件，如有问题请联系。',
  '见附件。',
  '请查收，谢谢！',
];

/** "二-1", "2.1", "（二）1", "二": the styles units write item codes in. */
function codeStyle(code: string, r: () => number): string {
  const [g, s] = code.split('.');
  const cn = CN_DIGITS[Number(g)] ?? g;
  const k = Math.floor(r() * 4);
  if (!s) return k < 2 ? `${cn}` : `${g}`;
  if (k === 0) return `${cn}-${s}`;
  if (k === 1) return `${g}.${s}`;
  if (k === 2) return `（${cn}）${s}`;
  return `${cn}之${s}`;
}

function pick<T>(xs: readonly T[], r: () => number): T {
  const x = xs[Math.floor(r() * xs.length)];
  if (x === undefined) throw new Error('pick from an empty list');
  return x;
}

/** `count` messages, deterministic for (config, seed). */
export function generateMail(config: Config, count: number, seed = 20150519): BenchMail[] {
  const r = prng(seed);
  const items = config.checklist.items.filter((i) => i.keywords.length > 0);
  const units = config.units.filter((u) => u.addresses.length > 0);
  const out: BenchMail[] = [];
  const campaignStart = Date.UTC(2015, 4, 5, 1, 0); // 5 May 2015, 09:00 in Shanghai
  for (let n = 0; n < count; n++) {
    const unit = pick(units, r);
    const item = pick(items, r);
    const shortName = pick(unit.shortNames.length ? unit.shortNames : [unit.name], r);
    const personal = r() < 0.2;
    const from = personal
      ? `${Math.floor(1e9 + r() * 9e9)}@${pick(PERSONAL, r)}`
      : pick(unit.addresses, r);
    const cs = r();
    const charset = cs < 0.55 ? 'gbk' : cs < 0.65 ? 'gb2312' : 'utf-8';
    const date = new Date(campaignStart + Math.floor((n / count) * 150 * 86_400_000 + r() * 3.6e6));
    const messageId = `bench-${seed}-${n}@${personal ? 'webmail.example' : 'huiji.example'}`;

    // A few mails are not submissions at all.
    const odd = r();
    if (odd < 0.02) {
      out.push({
        raw: composeMail({
          from,
          subject: '自动回复：报送材料',
          date,
          messageId,
          charset,
          headers: { 'Auto-Submitted': 'auto-replied' },
          text: '您好，我已休假，下周一返回。',
        }),
        internalDate: date,
        messageId,
        rosterSender: false,
      });
      continue;
    }
    if (odd < 0.04) {
      out.push({
        raw: composeMail({
          from,
          subject: '回复：回执',
          date,
          messageId,
          charset,
          text: '收到，谢谢！',
        }),
        internalDate: date,
        messageId,
        rosterSender: false,
      });
      continue;
    }

    // Subject: unit + keyword, a bare code, a forward marker, or nothing useful.
    const kw = pick(item.keywords, r);
    const s = r();
    let subject =
      s < 0.4
        ? `${shortName} ${kw}`
        : s < 0.6
          ? `${codeStyle(item.code, r)} ${kw}`
          : s < 0.75
            ? `${shortName}报送材料`
            : s < 0.85
              ? '报送材料'
              : s < 0.95
                ? `（${codeStyle(item.code, r)}）${shortName}${kw}`
                : '';
    // Size: 20-100 KB on the wire; base64 makes 3 bytes 4 (plus line breaks).
    const wire = 20_000 + Math.floor(r() * 80_000);
    const files = 1 + Math.floor(r() * 3);
    const payload = Math.max(2_000, Math.floor((wire - 1_500) * 0.74));
    const attachments: ComposeAttachment[] = [];
    for (let k = 0; k < files; k++) {
      const [ext, type] = pick(DOC_TYPES, r);
      const fileKw = k === 0 ? kw : pick(item.keywords, r);
      const filename =
        r() < 0.5
          ? `${shortName}${fileKw}${k ? `（${k + 1}）` : ''}${ext}`
          : `${fileKw}-${n}-${k}${ext}`;
      const ns = r();
      attachments.push({
        filename,
        content: fakeDoc(`bench-${seed}-${n}-${k}`, Math.floor(payload / files)),
        contentType: type,
        nameStyle: ns < 0.6 ? 'rfc2047' : ns < 0.85 ? 'rfc2231' : 'raw',
      });
    }
    const greeting = pick(GREETINGS, r);
    const body = `${greeting}\r\n${pick(BODIES, r)}\r\n${shortName}`;

    let forwarded: Buffer | undefined;
    if (r() < 0.12) {
      // A clerk forwards what a sub-office sent: the files travel inside message/rfc822.
      const inner = attachments.splice(0, Math.max(1, attachments.length - 1));
      forwarded = composeMail({
        from: `${Math.floor(1e8 + r() * 9e8)}@${pick(PERSONAL, r)}`,
        to: from,
        subject: `${shortName}${kw}`,
        date: new Date(date.getTime() - 86_400_000),
        messageId: `inner-${messageId}`,
        charset,
        text: `${greeting}\r\n${pick(BODIES, r)}`,
        attachments: inner,
      });
      subject = `Fw: ${subject || kw}`;
    }

    let html: string | undefined;
    let text: string | undefined = body;
    if (r() < 0.12) {
      // 超大附件 / 中转站: the video is a link with an access code, not an attachment.
      const code = Math.floor(r() * 36 ** 4)
        .toString(36)
        .padStart(4, '0');
      const link =
        r() < 0.5
          ? `https://wx.mail.qq.com/ftn/download?func=3&amp;k=${code}${n}&amp;key=${(n * 7919).toString(16)}`
          : `https://mail.sina.com.cn/filecenter/download.php?id=${n}${code}`;
      html =
        `<div>${greeting}</div><div>${pick(BODIES, r)}</div>` +
        `<div>视频较大，已用超大附件发送：<a href="${link}">${shortName}法律顾问审核视频.mp4 (312MB)</a></div>` +
        `<div>提取码：${code}</div><div>${shortName}</div>`;
      if (r() < 0.5) text = undefined;
    }

    out.push({
      raw: composeMail({
        from,
        fromName: r() < 0.6 ? shortName : undefined,
        subject,
        date,
        messageId,
        charset,
        text,
        html,
        attachments,
        forwarded,
      }),
      internalDate: date,
      messageId,
      rosterSender: !personal,
    });
  }
  return out;
}

/**
 * One message with a single attachment of `bytes` (base64 on the wire): the 8.2 video. Built
 * line by line, as composeMail's string handling would need gigabytes for it.
 */
export function bigMail(bytes: number, seed = 82): Buffer {
  const block = fakeDoc(`video-${seed}`, 57 * 1024 * 16); // a whole number of 57-byte lines
  const head = Buffer.from(
    [
      'From: "=?GBK?B?yMvJ577W?=" <renshe@huiji.example>',
      'To: hifz9199@sina.com',
      `Subject: =?UTF-8?B?${Buffer.from('人社局 法律顾问参与重大决策审核视频').toString('base64')}?=`,
      'Date: Thu, 08 Oct 2015 02:00:00 +0000',
      `Message-ID: <big-${seed}@huiji.example>`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="----=_Part_big"',
      '',
      '------=_Part_big',
      'Content-Type: text/plain; charset="utf-8"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('视频见附件。').toString('base64'),
      '------=_Part_big',
      'Content-Type: video/mp4',
      'Content-Transfer-Encoding: base64',
      `Content-Disposition: attachment; filename*=UTF-8''${encodeURIComponent('法律顾问审核视频.mp4')}`,
      '',
      '',
    ].join('\r\n'),
  );
  // 57 bytes make one 76-character base64 line
  const lines: Buffer[] = [head];
  let left = bytes;
  while (left > 0) {
    const take = Math.min(left, block.length);
    const b64 = block.subarray(0, take).toString('base64');
    const out = Buffer.alloc(b64.length + Math.ceil(b64.length / 76) * 2);
    let o = 0;
    for (let i = 0; i < b64.length; i += 76) {
      o += out.write(b64.slice(i, i + 76), o, 'latin1');
      o += out.write('\r\n', o, 'latin1');
    }
    lines.push(out.subarray(0, o));
    left -= take;
  }
  lines.push(Buffer.from('------=_Part_big--\r\n'));
  return Buffer.concat(lines);
}
