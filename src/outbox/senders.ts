// Adapters that deliver one mail. Only this file imports nodemailer.
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { OutboxRow } from '../store/sqlite.js';

export interface MailSender {
  send(mail: OutboxRow): Promise<void>;
  close(): void;
}

/** A failed send: `permanent` for a 5xx answer (retrying cannot help), else temporary. */
export class SendError extends Error {
  readonly code = 'SEND_FAILED';
  constructor(
    message: string,
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function toNodemailer(from: string, m: OutboxRow): SendMailOptions {
  const { 'In-Reply-To': inReplyTo, References: references, ...headers } = m.headers;
  return {
    from,
    to: m.to,
    subject: m.subject,
    text: m.text,
    html: m.html,
    messageId: m.mailMessageId,
    inReplyTo,
    references,
    headers,
    attachments: (m.attachments ?? []).map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      content: Buffer.from(a.content, 'base64'),
    })),
  };
}

export interface SmtpSettings {
  host: string;
  port: number;
  tls: boolean;
  user: string;
  password: string;
}

export class SmtpSender implements MailSender {
  private readonly transport: Transporter;

  constructor(
    settings: SmtpSettings,
    private readonly from: string,
  ) {
    this.transport = nodemailer.createTransport({
      host: settings.host,
      port: settings.port,
      secure: settings.tls,
      auth: settings.user ? { user: settings.user, pass: settings.password } : undefined,
      // Chinese providers answer slowly at times; fail a try, not the daemon.
      connectionTimeout: 20_000,
      greetingTimeout: 20_000,
      socketTimeout: 60_000,
      // Loopback test servers and some intranet relays have no TLS; never downgrade when tls=true.
      ignoreTLS: !settings.tls,
    });
  }

  async send(mail: OutboxRow): Promise<void> {
    try {
      await this.transport.sendMail(toNodemailer(this.from, mail));
    } catch (err) {
      const e = err as { responseCode?: number; message?: string };
      const permanent =
        typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600;
      throw new SendError(`SMTP: ${e.message ?? String(err)}`, permanent, { cause: err });
    }
  }

  close(): void {
    this.transport.close();
  }
}

/** Writes each mail as an .eml file instead of sending it: for the demo and dry runs. */
export class FileSender implements MailSender {
  private readonly transport = nodemailer.createTransport({ streamTransport: true, buffer: true });

  constructor(
    private readonly dir: string,
    private readonly from: string,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  async send(mail: OutboxRow): Promise<void> {
    const info = (await this.transport.sendMail(toNodemailer(this.from, mail))) as {
      message: Buffer;
    };
    const name = `${String(mail.id).padStart(4, '0')}-${mail.kind}-${mail.to.replace(/[^a-z0-9@._-]/gi, '_')}.eml`;
    const tmp = path.join(this.dir, `.${name}.tmp`);
    writeFileSync(tmp, info.message);
    renameSync(tmp, path.join(this.dir, name));
  }

  close(): void {}
}
