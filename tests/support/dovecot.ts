/**
 * Real-server test harness: a private Dovecot IMAP server per test file.
 *
 * Every call to startDovecot() writes its own config into a fresh temp dir and runs
 * `dovecot -c FILE` as root, listening on 127.0.0.1 and a free port, with base_dir,
 * state_dir, logs and mail all inside that temp dir. Nothing under /etc or /var/run
 * is touched, so several vitest workers can each run their own server in parallel.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';

const execFileP = promisify(execFile);

export const DOVECOT_BIN = '/usr/sbin/dovecot';
const DOVEADM_BIN = '/usr/bin/doveadm';
const MAIL_UID = 5000;
const MAIL_GID = 5000;
const DOVECOT_PACKAGE = 'dovecot-imapd';

export interface DovecotServer {
  host: string;
  port: number;
  user: string;
  password: string;
  /** APPEND a raw RFC822 message to INBOX (or given mailbox) with the given INTERNALDATE; returns the UID */
  append(
    raw: Buffer | string,
    opts?: { internalDate?: Date; mailbox?: string; flags?: string[] },
  ): Promise<number>;
  /** A client logged in as the test user (the caller logs out) */
  client(): Promise<ImapFlow>;
  /** Drop and recreate the INBOX so UIDVALIDITY changes */
  recreateInbox(): Promise<void>;
  /** Stop the server; resolves once every Dovecot process is gone and the port is closed */
  stop(): Promise<void>;
  /** (Re)start with the same config, the same port and the same mail */
  start(): Promise<void>;
  /** The private temp dir holding config, logs, runtime files and mail */
  dir: string;
}

export interface StartDovecotOptions {
  user?: string;
  password?: string;
}

/** True when the Dovecot binary is installed. */
export function dovecotAvailable(): boolean {
  return existsSync(DOVECOT_BIN);
}

let warned = false;

/**
 * For `describe.skipIf(!requireDovecot())`. Returns true when Dovecot is installed.
 * When it is missing: throws under CI (CI must fail, never skip), otherwise prints a
 * note and returns false so the suite is skipped on a developer machine.
 */
export function requireDovecot(): boolean {
  if (dovecotAvailable()) return true;
  if (process.env.CI) {
    throw new Error(`Dovecot is missing: apt-get install ${DOVECOT_PACKAGE}`);
  }
  if (!warned) {
    warned = true;
    console.warn(
      `[tests] Dovecot (${DOVECOT_BIN}) is missing: skipping real-IMAP tests. ` +
        `Install it with: apt-get install ${DOVECOT_PACKAGE}`,
    );
  }
  return false;
}

/** A TCP port that was free a moment ago (bound to port 0 and released). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('could not get a free port'));
        return;
      }
      srv.close(() => resolve(addr.port));
    });
  });
}

function canConnect(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean): void => {
      sock.removeAllListeners();
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/**
 * True once the server sends its IMAP greeting. Better than a bare TCP connect: the
 * login process that served the probe is fully up and leaves cleanly after LOGOUT,
 * whereas one killed mid-start-up can hold a following shutdown for 5 s.
 */
function imapGreets(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    let buf = '';
    let greeted = false;
    const done = (ok: boolean): void => {
      // later events call done() again, which is harmless: a promise settles once
      clearTimeout(timer);
      resolve(ok);
    };
    const timer = setTimeout(() => {
      sock.destroy();
      done(false);
    }, timeoutMs);
    sock.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      if (!greeted && buf.includes('\r\n')) {
        greeted = true;
        if (!buf.startsWith('* OK')) {
          sock.destroy();
          done(false);
          return;
        }
        sock.write('a LOGOUT\r\n');
      }
      if (greeted && /\r\na OK/.test(buf)) {
        sock.end();
        done(true);
      }
    });
    sock.once('close', () => done(greeted));
    sock.once('error', () => {
      sock.destroy();
      done(false);
    });
  });
}

/**
 * A vitest worker can be killed (or a test can forget stop()) and the daemonized
 * master would outlive it. A tiny detached watchdog SIGTERMs the master once this
 * Node process is gone. Returns the watchdog's pid; stop() ends it.
 */
function spawnWatchdog(masterPid: number): number | undefined {
  const script =
    `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${masterPid} 2>/dev/null; do sleep 1; done; ` +
    `kill -0 ${process.pid} 2>/dev/null || kill -TERM ${masterPid} 2>/dev/null; exit 0`;
  const child = spawn('/bin/sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  child.unref();
  return child.pid;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** True while the pid exists and is not a zombie. */
function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ..." – comm may contain spaces/parens, the state follows the last ')'
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The pid and all its descendants (from /proc). */
function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // process went away while we looked
    }
  }
  const out: number[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Pick names that exist on this machine for Dovecot's unprivileged service users. */
function serviceUsers(): { internalUser: string; loginUser: string } {
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    // ignore
  }
  const has = (name: string): boolean => new RegExp(`^${name}:`, 'm').test(passwd);
  // The Debian package creates `dovecot` and `dovenull`. Login processes refuse to run
  // as root, and Dovecot wants the login user to differ from the internal user.
  const internalUser = has('dovecot') ? 'dovecot' : 'root';
  const loginUser = has('dovenull') ? 'dovenull' : 'nobody';
  return { internalUser, loginUser };
}

function buildConfig(dir: string, port: number): string {
  const { internalUser, loginUser } = serviceUsers();
  return `# generated by tests/support/dovecot.ts
protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
info_log_path = ${dir}/dovecot.log
debug_log_path = ${dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:${dir}/mail/%u
mail_uid = ${MAIL_UID}
mail_gid = ${MAIL_GID}
first_valid_uid = ${MAIL_UID}
last_valid_uid = ${MAIL_UID}
default_internal_user = ${internalUser}
default_internal_group = ${internalUser === 'root' ? 'root' : internalUser}
default_login_user = ${loginUser}
# no anti-brute-force delays in tests
auth_failure_delay = 0
# tests may open several sessions at once (default limit is 10 per user and IP)
mail_max_userip_connections = 100
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = static
  args = uid=${MAIL_UID} gid=${MAIL_GID} home=${dir}/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
`;
}

class DovecotInstance implements DovecotServer {
  readonly host = '127.0.0.1';
  port: number;
  readonly user: string;
  readonly password: string;
  readonly dir: string;
  private running = false;
  private watchdog: number | undefined;

  constructor(dir: string, port: number, user: string, password: string) {
    this.dir = dir;
    this.port = port;
    this.user = user;
    this.password = password;
  }

  get configFile(): string {
    return path.join(this.dir, 'dovecot.conf');
  }

  get logFile(): string {
    return path.join(this.dir, 'dovecot.log');
  }

  async writeConfig(): Promise<void> {
    await writeFile(this.configFile, buildConfig(this.dir, this.port));
  }

  private async logTail(): Promise<string> {
    try {
      const log = await readFile(this.logFile, 'utf8');
      return log.split('\n').slice(-20).join('\n');
    } catch {
      return '(no log)';
    }
  }

  private masterPid(): number | undefined {
    try {
      const pid = Number(readFileSync(path.join(this.dir, 'run', 'master.pid'), 'utf8').trim());
      return Number.isFinite(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Run `dovecot -c FILE` (it daemonizes) and wait until the port accepts connections.
   * Throws, with code EADDRINUSE when the port was taken, on failure.
   */
  async start(): Promise<void> {
    if (this.running) return;
    // After stop() the old master can linger as a zombie until PID 1 reaps it, and
    // dovecot refuses to start while master.pid names a pid that kill(0) still finds.
    const stale = this.masterPid();
    if (stale !== undefined && !pidAlive(stale)) {
      await rm(path.join(this.dir, 'run', 'master.pid'), { force: true });
    }
    // Wait for the foreground process to exit, not for its stdio to close: the
    // daemonized master can keep inherited pipes open, so stderr goes to a file.
    const errFile = path.join(this.dir, 'dovecot.stderr');
    const errFd = openSync(errFile, 'w');
    let code: number | null;
    try {
      code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(DOVECOT_BIN, ['-c', this.configFile], {
          stdio: ['ignore', errFd, errFd],
        });
        child.once('error', reject);
        child.once('exit', (c) => resolve(c));
      });
    } finally {
      closeSync(errFd);
    }
    if (code !== 0) {
      const text = `${readFileSync(errFile, 'utf8')}\n${await this.logTail()}`;
      const out: NodeJS.ErrnoException = new Error(
        `dovecot failed to start (port ${this.port}, exit ${code}):\n${text}`,
      );
      if (/Address already in use/i.test(text)) out.code = 'EADDRINUSE';
      throw out;
    }
    this.running = true;
    const deadline = Date.now() + 10_000;
    // master.pid is written by the daemonized master, possibly after `dovecot` exits
    let master: number | undefined;
    while ((master = this.masterPid()) === undefined || !(await imapGreets(this.host, this.port))) {
      if (Date.now() > deadline) {
        const tail = await this.logTail();
        await this.stop().catch(() => undefined);
        throw new Error(`dovecot did not accept connections on port ${this.port}\n${tail}`);
      }
      await sleep(5);
    }
    this.watchdog = spawnWatchdog(master);
  }

  async stop(): Promise<void> {
    const master = this.masterPid();
    const pids = master !== undefined && pidAlive(master) ? processTree(master) : [];
    if (pids.length > 0) {
      // This is what `doveadm -c FILE stop` does (SIGTERM to the pid in master.pid),
      // but doveadm then polls slowly and takes ~2.5 s; we poll /proc ourselves.
      // The master itself needs ~1.1 s: it sleeps 1 s to let its log process drain.
      try {
        process.kill(master!, 'SIGTERM');
      } catch {
        // already gone
      }
      // wait for the whole tree to be gone (normally ~1.1 s); SIGKILL stragglers after 3 s
      const deadline = Date.now() + 3_000;
      while (pids.some(pidAlive)) {
        if (Date.now() > deadline) {
          for (const pid of pids) {
            try {
              if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
            } catch {
              // ignore
            }
          }
          await sleep(50);
          break;
        }
        await sleep(10);
      }
    }
    if (this.watchdog !== undefined) {
      try {
        process.kill(this.watchdog, 'SIGTERM');
      } catch {
        // already gone
      }
      this.watchdog = undefined;
    }
    // and the port really is closed
    const deadline = Date.now() + 5_000;
    while (await canConnect(this.host, this.port, 200)) {
      if (Date.now() > deadline) {
        throw new Error(`dovecot port ${this.port} still accepts connections after stop`);
      }
      await sleep(20);
    }
    this.running = false;
  }

  async client(): Promise<ImapFlow> {
    const client = new ImapFlow({
      host: this.host,
      port: this.port,
      secure: false,
      auth: { user: this.user, pass: this.password },
      logger: false,
    });
    // an unhandled 'error' event would crash the worker
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  async append(
    raw: Buffer | string,
    opts: { internalDate?: Date; mailbox?: string; flags?: string[] } = {},
  ): Promise<number> {
    const mailbox = opts.mailbox ?? 'INBOX';
    const client = await this.client();
    try {
      if (mailbox.toUpperCase() !== 'INBOX') {
        const list = await client.list();
        if (!list.some((m) => m.path === mailbox)) await client.mailboxCreate(mailbox);
      }
      const res = await client.append(mailbox, raw, opts.flags ?? [], opts.internalDate);
      if (!res || typeof res.uid !== 'number') {
        throw new Error(`APPEND to ${mailbox} returned no UID`);
      }
      return res.uid;
    } finally {
      await client.logout().catch(() => client.close());
    }
  }

  private async inboxUidValidity(): Promise<bigint | undefined> {
    const client = await this.client();
    try {
      const st = await client.status('INBOX', { uidValidity: true });
      return st ? st.uidValidity : undefined;
    } finally {
      await client.logout().catch(() => client.close());
    }
  }

  /**
   * Drop the INBOX (all its messages, index and uid list) and let Dovecot create it anew.
   * The INBOX of a maildir++ user is the user's root dir: other folders (".Name") and
   * the `dovecot-uidvalidity*` files, which make the next UIDVALIDITY differ, are kept.
   */
  async recreateInbox(): Promise<void> {
    const before = await this.inboxUidValidity();
    const inboxDir = path.join(this.dir, 'mail', this.user);
    for (const entry of readdirSync(inboxDir)) {
      if (entry.startsWith('.') || entry.startsWith('dovecot-uidvalidity')) continue;
      if (entry === 'subscriptions') continue;
      await rm(path.join(inboxDir, entry), { recursive: true, force: true });
    }
    let after = await this.inboxUidValidity();
    if (after === undefined || after === before) {
      // never expected, but make the contract hold regardless
      const next = String((before ?? 0n) + 1n);
      await execFileP(
        DOVEADM_BIN,
        [
          '-c',
          this.configFile,
          'mailbox',
          'update',
          '-u',
          this.user,
          '--uid-validity',
          next,
          'INBOX',
        ],
        { timeout: 10_000 },
      );
      after = await this.inboxUidValidity();
    }
    if (after === before) throw new Error('recreateInbox: UIDVALIDITY did not change');
  }
}

/**
 * Start a private Dovecot IMAP server (plaintext, 127.0.0.1, a free port) with one
 * user (default test/secret) whose mail lives in a temp dir. In afterAll call
 * stop(), which keeps the temp dir (and its dovecot.log) for debugging, or
 * cleanupDovecot(server), which stops it and removes the temp dir.
 */
export async function startDovecot(opts: StartDovecotOptions = {}): Promise<DovecotServer> {
  if (!dovecotAvailable()) {
    throw new Error(`Dovecot is missing: apt-get install ${DOVECOT_PACKAGE}`);
  }
  const user = opts.user ?? 'test';
  const password = opts.password ?? 'secret';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'baosong-dovecot-'));
  // Dovecot's unprivileged processes (mail uid 5000, login user) must reach into it
  await chmod(dir, 0o755);
  await mkdir(path.join(dir, 'mail'));
  await chown(path.join(dir, 'mail'), MAIL_UID, MAIL_GID);
  await writeFile(path.join(dir, 'users'), `${user}:{PLAIN}${password}::::::\n`);
  await chmod(path.join(dir, 'users'), 0o644);

  // The port from freePort() may be taken by another worker before dovecot binds it:
  // retry with a new port in that case.
  let lastErr: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const server = new DovecotInstance(dir, await freePort(), user, password);
    await server.writeConfig();
    try {
      await server.start();
      return server;
    } catch (err) {
      lastErr = err;
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
    }
  }
  throw lastErr;
}

/** Stop the server (if running) and delete its temp dir. */
export async function cleanupDovecot(server: DovecotServer | undefined): Promise<void> {
  if (!server) return;
  await server.stop();
  await rm(server.dir, { recursive: true, force: true });
}
