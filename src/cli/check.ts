// `check`: is this installation ready? The config, the data folder, IMAP and SMTP, each
// checked the way the daemon uses them; every failure in plain words with its likely cause
// and fix; nothing is sent and the mailbox is not changed. Exit 0 when everything works, 1
// otherwise.
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { diagnose, type Diagnosis } from '../check/diagnose.js';
import { probeImap, probeSmtp, type ImapReport, type SmtpReport } from '../check/probes.js';
import { deadlineProblems } from '../core/status.js';
import { ConfigError, loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';

export interface CheckLine {
  ok: boolean;
  what: string;
  detail: string;
  diagnosis?: Diagnosis;
}

export interface CheckResult {
  ok: boolean;
  lines: CheckLine[];
  imap: ImapReport | null;
  smtp: SmtpReport | null;
}

function mb(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(1)} MB`
    : `${(bytes / 1024).toFixed(1)} KB`;
}

/** The nearest folder that exists on the way to `dir`: where it will be created. */
function writableFolder(dir: string): string | null {
  let d = path.resolve(dir);
  for (;;) {
    if (existsSync(d)) {
      try {
        accessSync(d, constants.W_OK);
        return d;
      } catch {
        return null;
      }
    }
    const up = path.dirname(d);
    if (up === d) return null;
    d = up;
  }
}

export async function runCheck(
  configFile: string,
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CheckResult> {
  const lines: CheckLine[] = [];
  let config: Config;
  try {
    config = loadConfig(configFile, opts.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    lines.push({
      ok: false,
      what: 'config',
      detail: `${configFile} has ${err.problems.length} problem(s)`,
      diagnosis: {
        problem: 'the configuration is not valid',
        causes: err.problems,
        fixes: ['correct each key named above (the message says what was expected)'],
      },
    });
    return { ok: false, lines, imap: null, smtp: null };
  }

  const deadlines = deadlineProblems(
    config.checklist.items,
    config.checklist.year,
    config.checklist.timezone,
  );
  lines.push(
    deadlines.length
      ? {
          ok: false,
          what: 'config',
          detail: `${configFile}: deadlines the parser does not understand`,
          diagnosis: {
            problem: 'some checklist deadlines cannot be read, so nobody would be reminded of them',
            causes: deadlines,
            fixes: [
              'write them like 5月底之前, 9月上旬, 6月30日前, 2015-06-30, 及时报送, 灵活安排时间',
            ],
          },
        }
      : {
          ok: true,
          what: 'config',
          detail: `${configFile}: valid (${config.checklist.items.length} items, ${config.units.length} units, campaign year ${config.checklist.year})`,
        },
  );

  const writable = writableFolder(config.dataDir);
  lines.push(
    writable
      ? { ok: true, what: 'data folder', detail: `${config.dataDir} (writable)` }
      : {
          ok: false,
          what: 'data folder',
          detail: `${config.dataDir} cannot be created or written`,
          diagnosis: {
            problem: 'baosong cannot write its database and the received files',
            causes: ['the folder belongs to another user, or its disk is read-only'],
            fixes: ['set dataDir (or BAOSONG_DATA_DIR) to a folder this user may write'],
          },
        },
  );

  // --- IMAP ------------------------------------------------------------------------------
  const i = config.imap;
  const imapWhere = `${i.host}:${i.port}${i.tls ? ' (TLS)' : ' (no TLS)'} as ${i.user}`;
  let imap: ImapReport | null = null;
  if (!i.password) {
    lines.push({
      ok: false,
      what: 'IMAP',
      detail: `${imapWhere}: no password`,
      diagnosis: {
        problem: 'no IMAP password is set',
        causes: ['BAOSONG_IMAP_PASSWORD (or BAOSONG_IMAP_PASSWORD_FILE) is empty'],
        fixes: [
          "set it to the mailbox's 授权码 (client authorisation code, made in webmail), not the webmail login password",
        ],
      },
    });
  } else {
    imap = await probeImap(i, opts.timeoutMs);
    if (imap.failure) {
      lines.push({
        ok: false,
        what: `IMAP ${imap.failure.step}`,
        detail: imapWhere,
        diagnosis: diagnose('IMAP', imap.failure, i),
      });
    } else {
      const box = imap.mailbox;
      lines.push({ ok: true, what: 'IMAP login', detail: imapWhere });
      lines.push({
        ok: true,
        what: 'IMAP capabilities',
        detail:
          imap.capabilities.join(' ') +
          (imap.serverId ? ` — server: ${Object.values(imap.serverId).join(' ')}` : ''),
      });
      if (box)
        lines.push({
          ok: true,
          what: 'IMAP mailbox',
          detail: `${box.name}: ${box.messages} messages${box.bytes !== null ? `, ${mb(box.bytes)}` : ''}, UIDVALIDITY ${box.uidValidity}${
            imap.quota?.limitBytes
              ? `; quota ${mb(imap.quota.usedBytes ?? 0)} of ${mb(imap.quota.limitBytes)}`
              : ''
          }`,
        });
      if (!imap.capabilities.includes('IDLE'))
        lines.push({
          ok: true,
          what: 'IMAP note',
          detail: `no IDLE: new mail is noticed by polling every ${i.pollSeconds} s (imap.pollSeconds)`,
        });
      if (i.moveTo && imap.moveToExists === false)
        lines.push({
          ok: false,
          what: 'IMAP moveTo',
          detail: `folder "${i.moveTo}" does not exist`,
          diagnosis: {
            problem: `imap.moveTo names a folder the mailbox does not have`,
            causes: ['a typo, or the folder was not created'],
            fixes: [`create "${i.moveTo}" in webmail, or set imap.moveTo: null`],
          },
        });
    }
  }

  // --- SMTP ------------------------------------------------------------------------------
  const s = config.smtp;
  const smtpWhere = `${s.host}:${s.port}${s.tls ? ' (TLS)' : ' (no TLS)'} as ${s.user}`;
  let smtp: SmtpReport | null = null;
  if (s.user && !s.password) {
    lines.push({
      ok: false,
      what: 'SMTP',
      detail: `${smtpWhere}: no password`,
      diagnosis: {
        problem: 'no SMTP password is set: receipts and reminders cannot be sent',
        causes: ['BAOSONG_SMTP_PASSWORD (or BAOSONG_SMTP_PASSWORD_FILE) is empty'],
        fixes: ["set it to the mailbox's 授权码 (usually the same code as for IMAP)"],
      },
    });
  } else {
    smtp = await probeSmtp(s, opts.timeoutMs);
    if (smtp.failure) {
      lines.push({
        ok: false,
        what: `SMTP ${smtp.failure.step}`,
        detail: smtpWhere,
        diagnosis: diagnose('SMTP', smtp.failure, s),
      });
    } else {
      lines.push({ ok: true, what: 'SMTP login', detail: `${smtpWhere} (nothing sent)` });
      lines.push({
        ok: true,
        what: 'SMTP extensions',
        detail:
          [
            ...smtp.extensions,
            ...(smtp.authMethods.length ? [`AUTH ${smtp.authMethods.join(' ')}`] : []),
          ].join(' ') || '(none announced)',
      });
    }
  }
  return { ok: lines.every((l) => l.ok), lines, imap, smtp };
}

export function renderCheck(r: CheckResult): string {
  const out: string[] = [];
  for (const l of r.lines) {
    out.push(`${l.ok ? '✓' : '✗'} ${l.what}: ${l.detail}`);
    if (l.diagnosis) {
      out.push(`    ${l.diagnosis.problem}`);
      out.push('    likely cause:');
      for (const c of l.diagnosis.causes) out.push(`      - ${c}`);
      out.push('    fix:');
      for (const f of l.diagnosis.fixes) out.push(`      - ${f}`);
    }
  }
  const bad = r.lines.filter((l) => !l.ok).length;
  out.push(
    '',
    bad === 0
      ? 'check: everything works (nothing was sent, the mailbox was not changed)'
      : `check: ${bad} problem${bad === 1 ? '' : 's'} (nothing was sent, the mailbox was not changed)`,
  );
  return out.join('\n') + '\n';
}
