// What a failed connection means, in plain words: the likely cause and the fix. Pure: the
// probe's failure and the settings in, sentences out. The words are those of the errors the
// libraries and Chinese providers actually give (Sina, QQ, NetEase 163/126/yeah.net).
import type { ProbeFailure } from './probes.js';

export interface Diagnosis {
  /** One line: what went wrong. */
  problem: string;
  /** Most likely first. */
  causes: string[];
  fixes: string[];
}

export interface ServerSettings {
  host: string;
  port: number;
  tls: boolean;
  user: string;
}

type Protocol = 'IMAP' | 'SMTP';

/** Where each provider hides the switch and the 授权码, by the host's domain. */
export function webmailSteps(host: string): string {
  const h = host.toLowerCase();
  if (/(^|\.)qq\.com$/.test(h) || /exmail\.qq/.test(h))
    return 'QQ Mail: 设置 → 账户 → POP3/IMAP/SMTP服务 → 开启 IMAP/SMTP 服务, then 生成授权码';
  if (/(^|\.)(163|126|yeah)\.net$|(^|\.)(163|126|188)\.com$/.test(h))
    return 'NetEase (163/126): 设置 → POP3/SMTP/IMAP → 开启 IMAP/SMTP 服务, then 新增授权密码';
  if (/(^|\.)sina\.(com|cn)$/.test(h))
    return 'Sina: 设置 → 客户端 pop/imap/smtp → 开启 IMAP/SMTP 服务, then 获取授权码';
  return "the mailbox's webmail settings (POP3/IMAP/SMTP, 客户端授权码)";
}

export function isNetEase(host: string): boolean {
  return /(^|\.)(163|126|188)\.com$|(^|\.)(163|126|yeah)\.net$|netease/i.test(host);
}

const TLS_WORDS =
  /wrong version number|ssl3_get_record|packet length too long|unknown protocol|http request|EPROTO|ERR_SSL|tls|ssl/i;
const CERT_CODES =
  /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_GET_ISSUER/i;

function envVar(p: Protocol, what: string): string {
  return `BAOSONG_${p}_${what}`;
}

function key(p: Protocol, k: string): string {
  return `${p.toLowerCase()}.${k}`;
}

/** The usual port for each protocol and TLS mode. */
function usualPorts(p: Protocol): { tls: number; plain: string } {
  return p === 'IMAP' ? { tls: 993, plain: '143' } : { tls: 465, plain: '25 or 587' };
}

export function diagnose(p: Protocol, f: ProbeFailure, s: ServerSettings): Diagnosis {
  const text = `${f.message} ${f.response ?? ''}`;
  const ports = usualPorts(p);
  const steps = webmailSteps(s.host);
  // nodemailer wraps socket errors as ESOCKET/ECONNECTION with the system code in the text.
  const sys =
    /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH)\b/.exec(
      f.message,
    )?.[1];
  const code =
    f.code === 'ESOCKET' || f.code === 'ECONNECTION' || !f.code ? (sys ?? f.code ?? '') : f.code;

  // --- refused logins ------------------------------------------------------------------
  const authRefused =
    f.authenticationFailed ||
    code === 'EAUTH' ||
    code === 'AUTHENTICATIONFAILED' ||
    f.responseCode === 535 ||
    f.responseCode === 534 ||
    (f.step === 'login' && f.response !== null);
  if (/unsafe login|kefu@188\.com|ID command|\bID\b.*required/i.test(text)) {
    return {
      problem: `${p}: the server refused the session as an "unsafe login" (${oneLine(f.response ?? f.message)})`,
      causes: [
        'NetEase-family servers (163/126/yeah.net) refuse SELECT until the client identifies itself with the IMAP ID command; baosong sends it, so the account itself is still marked unsafe',
        'the 授权码 was created before IMAP was switched on, or the account has not logged in to webmail since a security prompt',
      ],
      fixes: [
        `log in to the webmail once, answer any security prompt, make sure IMAP is on (${webmailSteps(s.host)}) and create a new 授权码`,
        `then set ${envVar(p, 'PASSWORD')} to it and run check again`,
      ],
    };
  }
  // QQ answers every refused login with one sentence naming both causes ("service is not
  // open, password is incorrect, …"): that is the 授权码 case below, which names both.
  if (
    /not open|not enabled|is disabled|service is not|未开启|没有开启|未开通|IMAP.*closed|SMTP.*closed/i.test(
      text,
    ) &&
    !/password|密码|授权码|authoriz/i.test(text)
  ) {
    return {
      problem: `${p}: the provider says the ${p} service is not switched on for ${s.user} (${oneLine(f.response ?? f.message)})`,
      causes: [`${p} access is off by default at Chinese providers`],
      fixes: [`switch it on: ${steps}`, `then put the 授权码 it gives in ${envVar(p, 'PASSWORD')}`],
    };
  }
  if (authRefused) {
    return {
      problem: `${p}: login refused for ${s.user} (${oneLine(f.response ?? f.message)})`,
      causes: [
        `wrong 授权码: ${envVar(p, 'PASSWORD')} must be the client authorisation code (客户端授权码), not the password used to log in to webmail`,
        'the 授权码 was revoked or replaced by a newer one',
        `${p} is not switched on in webmail (several providers answer that with the same refusal)`,
        `${key(p, 'user')} must be the whole address (name@provider.com)`,
      ],
      fixes: [
        `create a new 授权码: ${steps}`,
        `set ${envVar(p, 'PASSWORD')} (or ${envVar(p, 'PASSWORD')}_FILE) to it; check ${key(p, 'user')} is "${s.user}"`,
        'providers lock an account after several bad logins in a row: fix the code before trying again',
      ],
    };
  }

  // --- mailbox --------------------------------------------------------------------------
  if (f.step === 'select') {
    if (/doesn't exist|does not exist|NONEXISTENT|not found|no such/i.test(text))
      return {
        problem: `IMAP: the mailbox folder does not exist (${oneLine(f.response ?? f.message)})`,
        causes: ['imap.mailbox names a folder the account does not have'],
        fixes: ['set imap.mailbox to INBOX (or a folder name exactly as the server lists it)'],
      };
    return {
      problem: `IMAP: logged in, but the server would not open the mailbox (${oneLine(f.response ?? f.message)})`,
      causes: isNetEase(s.host)
        ? [
            'NetEase-family servers refuse to open a mailbox for clients they do not trust (the ID command)',
          ]
        : ['the folder is not readable for this account'],
      fixes: isNetEase(s.host)
        ? [`log in to the webmail once, switch IMAP on (${steps}) and create a new 授权码`]
        : ['check imap.mailbox and the account in webmail'],
    };
  }

  // --- the connection ------------------------------------------------------------------
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return {
      problem: `${p}: the host name ${s.host} was not found`,
      causes: [
        `a typo in ${key(p, 'host')}`,
        'no DNS on this machine (offline, or a network that blocks lookups)',
      ],
      fixes: [
        `use the provider's name, e.g. ${p === 'IMAP' ? 'imap.sina.com, imap.qq.com, imap.163.com' : 'smtp.sina.com, smtp.qq.com, smtp.163.com'}`,
      ],
    };
  }
  if (CERT_CODES.test(code) || /certificate/i.test(f.message)) {
    return {
      problem: `${p}: the server's TLS certificate is not trusted (${oneLine(f.message)})`,
      causes: [
        `${key(p, 'host')} is not the name on the certificate (an IP address or an alias)`,
        'a proxy or firewall on this network intercepts TLS',
      ],
      fixes: [`use the provider's own host name in ${key(p, 'host')}`, 'try from another network'],
    };
  }
  const tlsMismatch =
    (s.tls && (TLS_WORDS.test(f.message) || code.startsWith('ERR_SSL'))) ||
    (!s.tls &&
      (code === 'GREETING_TIMEOUT' ||
        /greeting/i.test(f.message) ||
        code === 'ECONNRESET' ||
        code === 'ETIMEDOUT') &&
      (s.port === ports.tls || /use TLS/i.test(f.message)));
  if (tlsMismatch) {
    return s.tls
      ? {
          problem: `${p}: TLS/port mismatch: ${key(p, 'tls')} is true but ${s.host}:${s.port} does not speak TLS (${oneLine(f.message)})`,
          causes: [
            `port ${s.port} is a plain (or STARTTLS) port; TLS from the first byte is on port ${ports.tls}`,
          ],
          fixes: [
            `set ${key(p, 'port')}: ${ports.tls} with ${key(p, 'tls')}: true (what Chinese providers use)`,
            `or, for a server without TLS on port ${s.port}, set ${key(p, 'tls')}: false`,
          ],
        }
      : {
          problem: `${p}: TLS/port mismatch: ${key(p, 'tls')} is false but ${s.host}:${s.port} waits for TLS (${oneLine(f.message)})`,
          causes: [
            `port ${s.port} expects TLS from the first byte, so the server never greets a plain connection`,
          ],
          fixes: [
            `set ${key(p, 'tls')}: true (${envVar(p, 'TLS')}=true) for port ${s.port}`,
            `or use the plain port ${ports.plain} with ${key(p, 'tls')}: false`,
          ],
        };
  }
  if (code === 'ECONNREFUSED') {
    return {
      problem: `${p}: nothing accepts connections at ${s.host}:${s.port}`,
      causes: [
        `a wrong ${key(p, 'port')} (usually ${ports.tls} with TLS)`,
        'a firewall on this network',
      ],
      fixes: [
        `set ${key(p, 'port')}: ${ports.tls} and ${key(p, 'tls')}: true`,
        'check that this machine may reach the port',
      ],
    };
  }
  if (
    ['ETIMEDOUT', 'GREETING_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code) ||
    /timed? ?out|time/i.test(f.message)
  ) {
    return {
      problem: `${p}: no answer from ${s.host}:${s.port} (${oneLine(f.message)})`,
      causes: [
        'a firewall drops the connection (government networks often allow only web traffic)',
        `a TLS/port mismatch: ${key(p, 'tls')} is ${s.tls} on port ${s.port}`,
      ],
      fixes: [
        `ask the network administrator to allow outgoing TCP ${s.port} to ${s.host}`,
        `check ${key(p, 'port')} ${ports.tls} with ${key(p, 'tls')}: true`,
      ],
    };
  }
  return {
    problem: `${p}: ${oneLine(f.message)}${f.response ? ` (server: ${oneLine(f.response)})` : ''}`,
    causes: ["see the server's words above"],
    fixes: [`check ${key(p, 'host')}, ${key(p, 'port')} and ${key(p, 'tls')}, and try again`],
  };
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 160 ? `${t.slice(0, 157)}...` : t;
}
