// What `check` tells the operator for each way a connection fails: the words the libraries
// and the Chinese providers really give, mapped to a cause and a fix.
import { describe, expect, it } from 'vitest';
import { diagnose, webmailSteps } from '../../src/check/diagnose.js';
import type { ProbeFailure } from '../../src/check/probes.js';

const f = (p: Partial<ProbeFailure>): ProbeFailure => ({
  step: 'connect',
  message: 'Command failed',
  code: null,
  response: null,
  responseCode: null,
  authenticationFailed: false,
  ...p,
});
const sina = { host: 'imap.sina.com', port: 993, tls: true, user: 'hifz9199@sina.com' };
const text = (d: ReturnType<typeof diagnose>) => [d.problem, ...d.causes, ...d.fixes].join('\n');

describe('diagnose', () => {
  it.each([
    [
      'Dovecot/Sina: AUTHENTICATIONFAILED',
      'IMAP' as const,
      f({
        step: 'login',
        code: 'AUTHENTICATIONFAILED',
        response: 'Authentication failed.',
        authenticationFailed: true,
      }),
      sina,
      [
        /login refused/,
        /授权码/,
        /not the password used to log in to webmail/,
        /Sina: 设置 → 客户端/,
      ],
    ],
    [
      'QQ: one sentence for every refusal',
      'IMAP' as const,
      f({
        step: 'login',
        authenticationFailed: true,
        response:
          'Login fail. Account is abnormal, service is not open, password is incorrect, login frequency limited, or system is busy.',
      }),
      { ...sina, host: 'imap.qq.com' },
      [/login refused/, /授权码/, /not switched on/, /QQ Mail/],
    ],
    [
      'IMAP switched off',
      'IMAP' as const,
      f({
        step: 'login',
        authenticationFailed: true,
        response: 'IMAP service is not open for this account',
      }),
      sina,
      [/not switched on/, /开启 IMAP/],
    ],
    [
      'NetEase without ID',
      'IMAP' as const,
      f({ step: 'select', response: 'SELECT Unsafe Login. Please contact kefu@188.com for help' }),
      { ...sina, host: 'imap.163.com' },
      [/unsafe login/, /ID command/, /NetEase/],
    ],
    [
      'TLS on a plain port',
      'IMAP' as const,
      f({ code: 'ERR_SSL_WRONG_VERSION_NUMBER', message: 'ssl3_get_record:wrong version number' }),
      { ...sina, port: 143 },
      [/TLS\/port mismatch/, /port 993/],
    ],
    [
      'no TLS on the TLS port',
      'IMAP' as const,
      f({
        code: 'GREETING_TIMEOUT',
        message: 'Failed to receive greeting from server in required time. Maybe should use TLS?',
      }),
      { ...sina, tls: false },
      [/TLS\/port mismatch/, /imap\.tls: true/],
    ],
    [
      'SMTP 535 from QQ',
      'SMTP' as const,
      f({
        step: 'login',
        code: 'EAUTH',
        responseCode: 535,
        response: '535 Login Fail. Please enter your authorization code to login.',
      }),
      { host: 'smtp.qq.com', port: 465, tls: true, user: 'x@qq.com' },
      [/SMTP: login refused/, /BAOSONG_SMTP_PASSWORD/, /授权码/],
    ],
    [
      'SMTP without TLS on 465',
      'SMTP' as const,
      f({ code: 'ETIMEDOUT', message: 'Greeting never received' }),
      { host: 'smtp.sina.com', port: 465, tls: false, user: 'x@sina.com' },
      [/TLS\/port mismatch/, /smtp\.tls: true/],
    ],
    [
      'host name typo',
      'IMAP' as const,
      f({ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND imap.sian.com' }),
      { ...sina, host: 'imap.sian.com' },
      [/was not found/, /imap\.sina\.com/],
    ],
    [
      'port closed',
      'SMTP' as const,
      f({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }),
      { host: 'smtp.sina.com', port: 25, tls: false, user: 'x@sina.com' },
      [/nothing accepts connections/, /465/],
    ],
    [
      'SMTP port closed (nodemailer: ESOCKET)',
      'SMTP' as const,
      f({ code: 'ESOCKET', message: 'connect ECONNREFUSED 10.0.0.1:465' }),
      { host: '10.0.0.1', port: 465, tls: true, user: 'x@sina.com' },
      [/nothing accepts connections at 10\.0\.0\.1:465/],
    ],
    [
      'a wrong mailbox name',
      'IMAP' as const,
      f({ step: 'select', response: "Mailbox doesn't exist: Inbox2" }),
      sina,
      [/does not exist/, /INBOX/],
    ],
    [
      'an untrusted certificate',
      'IMAP' as const,
      f({
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
        message: "Hostname/IP does not match certificate's altnames",
      }),
      { ...sina, host: '1.2.3.4' },
      [/certificate is not trusted/],
    ],
  ])('%s', (_name, protocol, failure, settings, patterns) => {
    const t = text(diagnose(protocol, failure, settings));
    for (const p of patterns) expect(t).toMatch(p);
  });

  it('names the webmail switches of each provider', () => {
    expect(webmailSteps('imap.qq.com')).toContain('QQ Mail');
    expect(webmailSteps('imap.126.com')).toContain('NetEase');
    expect(webmailSteps('mail.example.org')).toContain('客户端授权码');
  });
});
