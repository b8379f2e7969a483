import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';

describe('secrets never reach the log', () => {
  it('GIVEN the passwords are set WHEN the config, its sections or client options are logged THEN the passwords do not appear', () => {
    const out: string[] = [];
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c.toString());
        cb();
      },
    });
    const config = loadConfig(DEFAULT_CONFIG_PATH, {
      BAOSONG_IMAP_PASSWORD: 'imap-授权码-1234',
      BAOSONG_SMTP_PASSWORD: 'smtp-授权码-5678',
    });
    const log = createLogger('info', false, sink);
    log.info({ config }, 'whole config');
    log.info({ imap: config.imap, smtp: config.smtp }, 'sections');
    log.info(config.imap, 'imap section itself');
    log.info({ client: { auth: { user: 'u', pass: config.imap.password } } }, 'imapflow options');
    log.info(
      { transport: { auth: { user: 'u', pass: config.smtp.password } } },
      'nodemailer options',
    );
    const text = out.join('');
    expect(out).toHaveLength(5);
    expect(text).not.toContain('1234');
    expect(text).not.toContain('5678');
    expect(text.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(6);
  });
});
