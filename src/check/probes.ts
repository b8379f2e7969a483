// Thin adapters for `check`: log in to IMAP and SMTP the way the daemon does, report what the
// servers say, send nothing and change nothing. Errors come back as data (where it failed and
// the library's words) for diagnose.ts to explain; nothing here decides what they mean.
import { ImapFlow } from 'imapflow';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { Config } from '../config/types.js';

/** A probe gives up on a silent server after this long: a TLS/port mismatch often looks
 * like a server that never greets, and the operator is waiting at the terminal. */
export const PROBE_TIMEOUT_MS = 15_000;

export type ProbeStep = 'connect' | 'login' | 'select' | 'size';

export interface ProbeFailure {
  step: ProbeStep;
  message: string;
  /** Node or library error code: ECONNREFUSED, ENOTFOUND, EAUTH, ERR_SSL_…, ETIMEDOUT… */
  code: string | null;
  /** What the server answered, when it answered. */
  response: string | null;
  responseCode: number | null;
  authenticationFailed: boolean;
}

export type ImapSettingsForProbe = Omit<Config['imap'], 'pollSeconds'>;

export interface ImapReport {
  capabilities: string[];
  /** The server's answer to the ID command (NetEase-family servers require sending it). */
  serverId: Record<string, string> | null;
  mailbox: {
    name: string;
    messages: number;
    uidValidity: string;
    /** Total size in bytes, from STATUS=SIZE or the messages' sizes; null if unknown. */
    bytes: number | null;
  } | null;
  quota: { usedBytes: number | null; limitBytes: number | null } | null;
  /** imap.moveTo exists (null when not configured). */
  moveToExists: boolean | null;
  failure: ProbeFailure | null;
}

function failure(step: ProbeStep, err: unknown): ProbeFailure {
  const e = err as {
    message?: string;
    code?: string;
    responseText?: string;
    response?: string;
    responseCode?: number;
    serverResponseCode?: string;
    authenticationFailed?: boolean;
    cause?: { code?: string; message?: string };
  };
  return {
    step,
    message: e.message ?? String(err),
    code: e.code ?? e.cause?.code ?? e.serverResponseCode ?? null,
    response: e.responseText ?? e.response ?? null,
    responseCode: typeof e.responseCode === 'number' ? e.responseCode : null,
    authenticationFailed: e.authenticationFailed === true,
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`no answer within ${ms / 1000} s while ${what}`) as Error & {
        code: string;
      };
      err.code = 'ETIMEDOUT';
      reject(err);
    }, ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export async function probeImap(
  s: ImapSettingsForProbe,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<ImapReport> {
  const report: ImapReport = {
    capabilities: [],
    serverId: null,
    mailbox: null,
    quota: null,
    moveToExists: null,
    failure: null,
  };
  const client = new ImapFlow({
    host: s.host,
    port: s.port,
    secure: s.tls,
    auth: { user: s.user, pass: s.password },
    // As the daemon does: NetEase-family servers refuse SELECT without the ID command.
    clientInfo: { name: 'baosong', version: '0.1.0', vendor: 'baosong' },
    logger: false,
    disableAutoIdle: true,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs * 2,
    tls: { rejectUnauthorized: true },
  });
  let lastError: unknown = null;
  client.on('error', (err: unknown) => {
    lastError = err;
  });
  let step: ProbeStep = 'connect';
  try {
    await withTimeout(client.connect(), timeoutMs * 2, 'connecting and logging in');
    report.capabilities = [...client.capabilities.keys()].sort();
    const id = client.serverInfo as Record<string, unknown> | null;
    report.serverId = id
      ? Object.fromEntries(Object.entries(id).map(([k, v]) => [k, String(v)]))
      : null;
    step = 'select';
    const box = await withTimeout(
      client.mailboxOpen(s.mailbox, { readOnly: true }),
      timeoutMs,
      `opening ${s.mailbox}`,
    );
    report.mailbox = {
      name: s.mailbox,
      messages: box.exists,
      uidValidity: String(box.uidValidity),
      bytes: null,
    };
    step = 'size';
    if (client.capabilities.has('STATUS=SIZE') || client.capabilities.has('IMAP4rev2')) {
      const st = await withTimeout(client.status(s.mailbox, { size: true }), timeoutMs, 'STATUS');
      if (st && typeof st.size === 'number') report.mailbox.bytes = st.size;
    }
    if (report.mailbox.bytes === null) {
      let bytes = 0;
      if (box.exists > 0) {
        for await (const m of client.fetch('1:*', { size: true })) bytes += m.size ?? 0;
      }
      report.mailbox.bytes = bytes;
    }
    if (client.capabilities.has('QUOTA')) {
      const q = await client.getQuota(s.mailbox).catch(() => false as const);
      if (q && q.storage)
        report.quota = {
          usedBytes: typeof q.storage.usage === 'number' ? q.storage.usage : null,
          limitBytes: typeof q.storage.limit === 'number' ? q.storage.limit : null,
        };
    }
    if (s.moveTo) {
      const list = await client.list();
      report.moveToExists = list.some((m) => m.path === s.moveTo);
    }
  } catch (err) {
    const e = err as { authenticationFailed?: boolean };
    // imapflow rejects connect() for the login too: a refused login is the login step.
    const at: ProbeStep = step === 'connect' && e.authenticationFailed ? 'login' : step;
    report.failure = failure(at, err ?? lastError);
    if (step === 'connect' && report.failure.response && !e.authenticationFailed) {
      // An answer from the server means the connection worked: the login was refused.
      if (/login|auth|password|fail/i.test(report.failure.response)) report.failure.step = 'login';
    }
  } finally {
    try {
      await withTimeout(client.logout(), 3000, 'logging out');
    } catch {
      client.close();
    }
  }
  return report;
}

export interface SmtpSettingsForProbe {
  host: string;
  port: number;
  tls: boolean;
  user: string;
  password: string;
}

export interface SmtpReport {
  /** EHLO extensions the server announced (SIZE, STARTTLS, AUTH…). */
  extensions: string[];
  authMethods: string[];
  secure: boolean;
  failure: ProbeFailure | null;
}

/** Connects, says EHLO, logs in and quits: what `SmtpSender` needs, with no MAIL FROM. */
export async function probeSmtp(
  s: SmtpSettingsForProbe,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<SmtpReport> {
  const report: SmtpReport = { extensions: [], authMethods: [], secure: false, failure: null };
  const conn = new SMTPConnection({
    host: s.host,
    port: s.port,
    secure: s.tls,
    // As SmtpSender: no downgrade when tls is on, no STARTTLS attempt on loopback test servers.
    ignoreTLS: !s.tls,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs * 2,
    logger: false,
  });
  const inner = conn as unknown as { _supportedExtensions?: string[]; _supportedAuth?: string[] };
  let step: ProbeStep = 'connect';
  // nodemailer reports a failed connection as an 'error' event, not through the callback.
  let failed: (err: unknown) => void = () => undefined;
  conn.on('error', (err) => failed(err));
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        failed = reject;
        conn.connect((err) => (err ? reject(err) : resolve()));
      }),
      timeoutMs * 2,
      'connecting',
    );
    report.extensions = [...(inner._supportedExtensions ?? [])];
    report.authMethods = [...(inner._supportedAuth ?? [])];
    report.secure = conn.secure;
    step = 'login';
    if (s.user) {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          failed = reject;
          conn.login({ user: s.user, pass: s.password }, (err) => (err ? reject(err) : resolve()));
        }),
        timeoutMs,
        'logging in',
      );
    }
  } catch (err) {
    report.failure = failure(step, err);
  } finally {
    try {
      conn.quit();
    } catch {
      conn.close();
    }
  }
  return report;
}
