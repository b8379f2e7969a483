/**
 * Real-server test harness: a capturing SMTP server (smtp-server) on 127.0.0.1.
 *
 * Plaintext only (no TLS, STARTTLS disabled), AUTH optional and any PLAIN/LOGIN
 * user/password accepted. Every received message is kept as raw bytes and parsed
 * with mailparser. setMode() injects RCPT TO failures (451 / 550).
 */
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

export type RcptVerdict = 'accept' | 'tempfail' | 'permfail';
export type SmtpMode = RcptVerdict | ((rcpt: string) => RcptVerdict);

export interface CapturedMail {
  /** MAIL FROM address ('' for the null sender) */
  from: string;
  /** accepted RCPT TO addresses */
  to: string[];
  /** the message exactly as received in DATA (dot-unstuffed) */
  raw: Buffer;
  /** mailparser's parse of raw */
  parsed: ParsedMail;
  /** shortcut for parsed.headers (lower-case header names) */
  headers: ParsedMail['headers'];
  /** AUTH user name if the client authenticated */
  authUser?: string;
  receivedAt: Date;
}

export interface SmtpCapture {
  host: string;
  port: number;
  /** every message received so far, in order */
  messages: CapturedMail[];
  /** RCPT TO addresses the server refused, with the code it answered */
  rejected: { rcpt: string; code: number }[];
  /** resolves once at least `count` messages were received; rejects after timeoutMs */
  waitFor(count: number, timeoutMs?: number): Promise<CapturedMail[]>;
  /** 'tempfail' answers RCPT TO with 451, 'permfail' with 550; a function decides per recipient */
  setMode(mode: SmtpMode): void;
  /** forget captured messages and rejections */
  clear(): void;
  /** stop listening and drop open connections; resolves when the port is closed */
  stop(): Promise<void>;
  /** listen again on the same port */
  start(): Promise<void>;
}

export interface StartSmtpOptions {
  /** port to listen on (default: a free one) */
  port?: number;
  /** initial RCPT mode (default 'accept') */
  mode?: SmtpMode;
  /** print smtp-server's protocol log (default false) */
  debug?: boolean;
}

interface RcptError extends Error {
  responseCode?: number;
}

class SmtpCaptureServer implements SmtpCapture {
  readonly host = '127.0.0.1';
  port: number;
  readonly messages: CapturedMail[] = [];
  readonly rejected: { rcpt: string; code: number }[] = [];
  private mode: SmtpMode;
  private server: SMTPServer | undefined;
  private waiters = new Set<() => void>();
  private readonly debug: boolean;

  constructor(port: number, mode: SmtpMode, debug: boolean) {
    this.port = port;
    this.mode = mode;
    this.debug = debug;
  }

  setMode(mode: SmtpMode): void {
    this.mode = mode;
  }

  clear(): void {
    this.messages.length = 0;
    this.rejected.length = 0;
  }

  private verdict(rcpt: string): RcptVerdict {
    return typeof this.mode === 'function' ? this.mode(rcpt) : this.mode;
  }

  private createServer(): SMTPServer {
    return new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS'],
      authOptional: true,
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      logger: this.debug,
      banner: 'baosong test SMTP',
      // stop() closes connections itself; never wait 30 s
      closeTimeout: 1000,
      onAuth: (auth, _session, callback) => {
        callback(null, { user: auth.username ?? 'anonymous' });
      },
      onRcptTo: (address: SMTPServerAddress, _session, callback) => {
        const v = this.verdict(address.address);
        if (v === 'accept') return callback();
        const code = v === 'tempfail' ? 451 : 550;
        const err: RcptError = new Error(
          v === 'tempfail'
            ? `4.3.0 <${address.address}>: temporary failure (test harness)`
            : `5.1.1 <${address.address}>: recipient rejected (test harness)`,
        );
        err.responseCode = code;
        this.rejected.push({ rcpt: address.address, code });
        callback(err);
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', (err: Error) => callback(err));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          const mailFrom = session.envelope.mailFrom;
          const from = mailFrom === false ? '' : mailFrom.address;
          const to = session.envelope.rcptTo.map((r) => r.address);
          const authUser =
            session.user === undefined || session.user === null ? undefined : String(session.user);
          simpleParser(raw).then(
            (parsed) => {
              this.messages.push({
                from,
                to,
                raw,
                parsed,
                headers: parsed.headers,
                authUser,
                receivedAt: new Date(),
              });
              for (const w of [...this.waiters]) w();
              callback();
            },
            (err: Error) => callback(err),
          );
        });
      },
    });
  }

  waitFor(count: number, timeoutMs = 5000): Promise<CapturedMail[]> {
    if (this.messages.length >= count) return Promise.resolve([...this.messages]);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.messages.length >= count) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve([...this.messages]);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(
            `SMTP capture: timed out after ${timeoutMs} ms waiting for ${count} message(s), ` +
              `got ${this.messages.length}` +
              (this.rejected.length > 0
                ? ` (rejected RCPTs: ${this.rejected.map((r) => `${r.rcpt}=${r.code}`).join(', ')})`
                : ''),
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  start(): Promise<void> {
    if (this.server) return Promise.resolve();
    const server = this.createServer();
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        server.server.removeListener('listening', onListening);
        reject(err);
      };
      const onListening = (): void => {
        server.server.removeListener('error', onError);
        // later errors (e.g. a client resetting the socket) must not crash the worker
        server.on('error', () => undefined);
        const addr = server.server.address();
        if (addr && typeof addr !== 'string') this.port = addr.port;
        this.server = server;
        resolve();
      };
      server.server.once('error', onError);
      server.server.once('listening', onListening);
      server.listen(this.port, this.host);
    });
  }

  stop(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    this.server = undefined;
    return new Promise((resolve) => {
      server.close(() => resolve());
      // don't wait for clients (e.g. a nodemailer pool) to QUIT
      for (const conn of server.connections) {
        try {
          conn.close();
        } catch {
          // already closing
        }
      }
    });
  }
}

/** Start a capturing SMTP server on 127.0.0.1 (a free port unless opts.port is given). */
export async function startSmtpServer(opts: StartSmtpOptions = {}): Promise<SmtpCapture> {
  // port 0 lets the kernel pick a free port (no race); start() records the real
  // port so that a restart listens on the same one
  const s = new SmtpCaptureServer(opts.port ?? 0, opts.mode ?? 'accept', opts.debug ?? false);
  await s.start();
  return s;
}
