// Download links of webmail large-attachment services and cloud drives. Videos for item 8.2
// do not fit in a mail, so QQ/Sina/163 put a link (often with an access code) in the body.
import type { LinkMaterial } from './types.js';

/** Hosts and paths that mean "this link is a file", with the label a clerk recognises. */
const PROVIDERS: { label: string; re: RegExp }[] = [
  {
    label: 'QQ邮箱超大附件',
    re: /(^|\.)(mail|wx\.mail|iwx\.mail|exmail)\.qq\.com\/.*(ftn|download)/i,
  },
  { label: 'QQ邮箱超大附件', re: /(^|\.)ftn\.qq\.com\//i },
  {
    label: '新浪邮箱中转站',
    re: /(^|\.)sina\.com(\.cn)?\/.*(filecenter|download|zhongzhuan|transfer|attach)/i,
  },
  { label: '新浪微盘', re: /(^|\.)vdisk\.weibo\.com\//i },
  {
    label: '网易邮箱超大附件',
    re: /(^|\.)(163|126|yeah)\.(com|net)\/.*(large-attachment|largeattach|fj|ftn)/i,
  },
  { label: '网易邮箱超大附件', re: /(^|\.)(dashi|fm)\.163\.com\//i },
  { label: '百度网盘', re: /(^|\.)pan\.baidu\.com\/(s\/|share)/i },
  { label: '阿里云盘', re: /(^|\.)(aliyundrive|alipan)\.com\/s\//i },
  { label: '天翼云盘', re: /(^|\.)cloud\.189\.cn\/(t\/|web\/share)/i },
  { label: '微云', re: /(^|\.)share\.weiyun\.com\//i },
  { label: '蓝奏云', re: /(^|\.)lanzou[a-z]?\.com\//i },
  { label: '115网盘', re: /(^|\.)115(cdn)?\.com\/s\//i },
  { label: '夸克网盘', re: /(^|\.)pan\.quark\.cn\/s\//i },
  { label: '坚果云', re: /(^|\.)jianguoyun\.com\/p\//i },
];

const URL_RE = /https?:\/\/[^\s<>"'，。；、）)】\]]+/gi;
const CODE_RE =
  /(?:提取码|提取密码|访问码|取件码|密码|验证码|code)\s*[:：]?\s*([A-Za-z0-9]{4,8})(?![A-Za-z0-9])/i;

/** Finds the download links in a body text, each with its access code and surrounding line. */
export function findDownloadLinks(text: string): LinkMaterial[] {
  const lines = text.split(/\r?\n/);
  const found = new Map<string, LinkMaterial>();
  lines.forEach((line, i) => {
    for (const m of line.matchAll(URL_RE)) {
      const url = m[0].replace(/[.,;:!?]+$/, '');
      const hostAndPath = url.replace(/^https?:\/\//i, '');
      const provider = PROVIDERS.find((p) => p.re.test(hostAndPath));
      if (!provider || found.has(url)) continue;
      // The code is written after the link on the same line or the next, sometimes before it.
      const after = line.slice((m.index ?? 0) + m[0].length) + '\n' + (lines[i + 1] ?? '');
      const before = line.slice(0, m.index ?? 0) + '\n' + (lines[i - 1] ?? '');
      const code = CODE_RE.exec(after)?.[1] ?? CODE_RE.exec(before)?.[1] ?? null;
      const context = [lines[i - 1] ?? '', line, lines[i + 1] ?? '']
        .join('\n')
        .replace(URL_RE, ' ');
      found.set(url, { url, accessCode: code, provider: provider.label, context });
    }
  });
  return [...found.values()];
}
