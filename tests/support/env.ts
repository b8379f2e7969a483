// The environment an operator would set to point baosong at the test servers.
import type { DovecotServer } from './dovecot.js';
import type { SmtpCapture } from './smtp.js';

export function serverEnv(
  imap: Pick<DovecotServer, 'host' | 'port' | 'user' | 'password'>,
  smtp: Pick<SmtpCapture, 'host' | 'port'>,
  dataDir: string,
): Record<string, string> {
  return {
    BAOSONG_IMAP_HOST: imap.host,
    BAOSONG_IMAP_PORT: String(imap.port),
    BAOSONG_IMAP_TLS: 'false',
    BAOSONG_IMAP_USER: imap.user,
    BAOSONG_IMAP_PASSWORD: imap.password,
    BAOSONG_SMTP_HOST: smtp.host,
    BAOSONG_SMTP_PORT: String(smtp.port),
    BAOSONG_SMTP_TLS: 'false',
    BAOSONG_SMTP_PASSWORD: 'secret',
    BAOSONG_DATA_DIR: dataDir,
  };
}
