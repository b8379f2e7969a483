// Reads config/*.yaml, applies BAOSONG_* environment overrides, validates everything at once
// and returns a deep-frozen Config. This is the only module that reads the environment.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import type * as z from 'zod';
import type { Item, Unit } from '../core/types.js';
import { allowedKeysAt, configSchema, EMAIL_RE, type RawConfig } from './schema.js';
import type { Config } from './types.js';
import { deadlineProblems } from '../core/status.js';

/** <repo root>/config/default.yaml; this file sits two levels below the root in src/ and dist/. */
export const DEFAULT_CONFIG_PATH = fileURLToPath(
  new URL('../../config/default.yaml', import.meta.url),
);

/** Every problem found in a configuration, each as `<file>: <key path>: <expected, found>`. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID' as const;
  readonly problems: string[];

  constructor(problems: string[]) {
    const n = problems.length;
    super(
      `invalid configuration (${n} problem${n === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  ${p}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot read the configuration file: ${errText(err)}`]);
  }
  return parseConfig(text, file, env);
}

/** Like loadConfig() but from text already in hand; `file` is only used in messages. */
export function parseConfig(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const problems: string[] = [];
  const at = (key: string, what: string) => problems.push(`${file}: ${key}: ${what}`);

  // --- YAML syntax ------------------------------------------------------------------------
  const doc = YAML.parseDocument(text.replace(/^\uFEFF/, ''), { uniqueKeys: true });
  for (const e of doc.errors) {
    const pos = e.linePos?.[0];
    const where = pos ? `line ${pos.line}, column ${pos.col}` : 'YAML';
    const msg = e.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '').trim();
    problems.push(`${file}: ${where}: ${msg}`);
  }
  const envResult = readEnv(env);
  if (doc.errors.length > 0) throw new ConfigError([...problems, ...envResult.problems]);

  // `code: 2.1` / `code: 2.10` are numbers to YAML: keep the text exactly as written.
  YAML.visit(doc, {
    Pair(_, pair) {
      if (
        YAML.isScalar(pair.key) &&
        pair.key.value === 'code' &&
        YAML.isScalar(pair.value) &&
        typeof pair.value.value === 'number'
      ) {
        pair.value.value = pair.value.source ?? String(pair.value.value);
      }
    },
  });
  const raw: unknown = doc.toJS();
  if (!isRecord(raw)) {
    throw new ConfigError([
      `${file}: (top level): expected a mapping of settings, found ${describe(raw)}`,
      ...envResult.problems,
    ]);
  }

  // --- secrets are never in the file ----------------------------------------------------
  for (const section of ['imap', 'smtp'] as const) {
    const s = raw[section];
    if (isRecord(s) && 'password' in s) {
      const v = `BAOSONG_${section.toUpperCase()}_PASSWORD`;
      at(`${section}.password`, `secrets never live in the file: use ${v} or ${v}_FILE`);
      delete s.password;
    }
  }

  // --- environment overrides --------------------------------------------------------------
  problems.push(...envResult.problems);
  for (const { key, value } of envResult.overrides) setIn(raw, key, value);

  // --- schema, then cross-field rules on the raw data (so both kinds come out together) --
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      for (const [key, what] of formatIssue(issue)) at(key, what);
    }
  }
  crossCheck(raw, at);

  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const config = build(parsed.data, file, envResult.secrets);
  // A deadline the parser cannot read would silently never be reminded of: stop here.
  const late = deadlineProblems(
    config.checklist.items,
    config.checklist.year,
    config.checklist.timezone,
  );
  if (late.length > 0) throw new ConfigError(late.map((p) => `${file}: checklist: ${p}`));
  return deepFreeze(config);
}

// ---------------------------------------------------------------------------------------
// Environment

type EnvKind = 'text' | 'port' | 'bool' | 'email';
const ENV_OVERRIDES: { name: string; key: string[]; kind: EnvKind }[] = [
  { name: 'BAOSONG_IMAP_HOST', key: ['imap', 'host'], kind: 'text' },
  { name: 'BAOSONG_IMAP_PORT', key: ['imap', 'port'], kind: 'port' },
  { name: 'BAOSONG_IMAP_TLS', key: ['imap', 'tls'], kind: 'bool' },
  { name: 'BAOSONG_IMAP_USER', key: ['imap', 'user'], kind: 'text' },
  { name: 'BAOSONG_SMTP_HOST', key: ['smtp', 'host'], kind: 'text' },
  { name: 'BAOSONG_SMTP_PORT', key: ['smtp', 'port'], kind: 'port' },
  { name: 'BAOSONG_SMTP_TLS', key: ['smtp', 'tls'], kind: 'bool' },
  { name: 'BAOSONG_SMTP_USER', key: ['smtp', 'user'], kind: 'text' },
  { name: 'BAOSONG_FROM', key: ['from'], kind: 'email' },
  { name: 'BAOSONG_DATA_DIR', key: ['dataDir'], kind: 'text' },
];

interface EnvResult {
  overrides: { key: string[]; value: unknown }[];
  secrets: { imap: string; smtp: string };
  problems: string[];
}

/** An empty variable counts as unset (`FOO=` in a compose file). */
function readEnv(env: NodeJS.ProcessEnv): EnvResult {
  const problems: string[] = [];
  const overrides: EnvResult['overrides'] = [];
  const bad = (name: string, key: string, what: string) =>
    problems.push(`environment ${name} (overrides ${key}): ${what}`);

  for (const { name, key, kind } of ENV_OVERRIDES) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    const shown = JSON.stringify(v);
    const dotted = key.join('.');
    if (kind === 'port') {
      const n = /^[0-9]+$/.test(v) ? Number(v) : NaN;
      if (Number.isInteger(n) && n >= 1 && n <= 65535) overrides.push({ key, value: n });
      else bad(name, dotted, `expected a port number from 1 to 65535, found ${shown}`);
    } else if (kind === 'bool') {
      if (v === 'true' || v === 'false') overrides.push({ key, value: v === 'true' });
      else bad(name, dotted, `expected true or false, found ${shown}`);
    } else if (kind === 'email') {
      if (EMAIL_RE.test(v.trim())) overrides.push({ key, value: v.trim() });
      else bad(name, dotted, `expected an e-mail address like name@example.com, found ${shown}`);
    } else if (v.trim() === '') {
      bad(name, dotted, `expected non-empty text, found ${shown}`);
    } else {
      overrides.push({ key, value: v });
    }
  }

  const secret = (base: string): string => {
    const direct = env[base];
    const fileVar = env[`${base}_FILE`];
    if (direct && fileVar) {
      problems.push(`environment ${base}: set either ${base} or ${base}_FILE, not both`);
      return '';
    }
    if (fileVar) {
      try {
        return readFileSync(path.resolve(fileVar), 'utf8').replace(/[\r\n]+$/, '');
      } catch (err) {
        problems.push(`environment ${base}_FILE: cannot read ${fileVar}: ${errText(err)}`);
        return '';
      }
    }
    return direct ?? '';
  };
  const secrets = { imap: secret('BAOSONG_IMAP_PASSWORD'), smtp: secret('BAOSONG_SMTP_PASSWORD') };
  return { overrides, secrets, problems };
}

/** Sets raw[a][b] = value, creating the section if absent; leaves a malformed section to the schema. */
function setIn(raw: Record<string, unknown>, key: string[], value: unknown): void {
  let obj = raw;
  for (const k of key.slice(0, -1)) {
    const next = obj[k];
    if (next === undefined || next === null) obj[k] = {};
    else if (!isRecord(next)) return;
    obj = obj[k] as Record<string, unknown>;
  }
  obj[key[key.length - 1]!] = value;
}

// ---------------------------------------------------------------------------------------
// Messages

export function keyPath(p: readonly PropertyKey[]): string {
  let s = '';
  for (const seg of p) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else s += s === '' ? String(seg) : `.${String(seg)}`;
  }
  return s === '' ? '(top level)' : s;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value';
  if (typeof v === 'string') {
    const t = v.length > 60 ? `${v.slice(0, 57)}...` : v;
    return JSON.stringify(t);
  }
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : `a list of ${v.length}`;
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  null: 'null',
};

function formatIssue(issue: z.core.$ZodIssue): [string, string][] {
  const key = keyPath(issue.path);
  const hasInput = 'input' in issue && issue.input !== undefined;
  const found = hasInput ? `, found ${describe(issue.input)}` : '';
  const custom = issue.message.startsWith('expected ') ? issue.message : null;

  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(issue.path);
      return issue.keys.map((k) => {
        const near = nearest(k, allowed);
        const hint = near
          ? `did you mean "${near}"?`
          : allowed.length > 0
            ? `expected one of ${allowed.join(', ')}`
            : 'not allowed here';
        return [keyPath([...issue.path, k]), `unknown key (${hint})`];
      });
    }
    case 'invalid_type': {
      const exp = custom ?? `expected ${EXPECTED[issue.expected] ?? issue.expected}`;
      return [[key, hasInput ? `${exp}${found}` : `missing: ${exp}`]];
    }
    default:
      return [[key, custom ? `${custom}${found}` : `${issue.message}${found}`]];
  }
}

function nearest(word: string, candidates: string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  if (best !== null && bestD <= Math.max(1, Math.floor(word.length / 3))) return best;
  // a shortened or lengthened key: pollSecs -> pollSeconds
  const w = word.toLowerCase();
  const prefixed = candidates.filter((c) => {
    const l = c.toLowerCase();
    return Math.min(w.length, l.length) >= 4 && (l.startsWith(w.slice(0, 4)) || w.startsWith(l));
  });
  return prefixed.length === 1 ? prefixed[0]! : null;
}

/** Optimal-string-alignment distance: a swap of two neighbours ("hots"/"host") counts as one. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]![j]!;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let v = Math.min(
        at(i - 1, j) + 1,
        at(i, j - 1) + 1,
        at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, at(i - 2, j - 2) + 1);
      d[i]![j] = v;
    }
  }
  return at(a.length, b.length);
}

// ---------------------------------------------------------------------------------------
// Cross-field rules, checked on the raw (possibly malformed) data: skip what the schema reports.

function crossCheck(raw: Record<string, unknown>, at: (key: string, what: string) => void): void {
  const units = Array.isArray(raw.units) ? raw.units : [];
  const checklist = Array.isArray(raw.checklist) ? raw.checklist : [];

  // units: codes, addresses, names
  const unitCodes = new Map<string, string>();
  const addresses = new Map<string, { unit: number; key: string }>();
  const names = new Map<string, { unit: number; key: string }>();
  const knownTags = new Set<string>();
  units.forEach((u, i) => {
    if (!isRecord(u)) return;
    const base = `units[${i}]`;
    if (typeof u.code === 'string') {
      const prev = unitCodes.get(u.code);
      if (prev) at(`${base}.code`, `duplicate unit code "${u.code}" (already at ${prev})`);
      else unitCodes.set(u.code, `${base}.code`);
    }
    const label = typeof u.code === 'string' ? ` (${u.code})` : '';
    if (Array.isArray(u.addresses)) {
      u.addresses.forEach((a, j) => {
        if (typeof a !== 'string') return;
        const addr = a.trim().toLowerCase();
        const key = `${base}.addresses[${j}]`;
        const prev = addresses.get(addr);
        if (!prev) addresses.set(addr, { unit: i, key });
        else if (prev.unit === i) at(key, `address "${addr}" is listed twice (see ${prev.key})`);
        else
          at(key, `address "${addr}" is already listed under ${prev.key}: one address, one unit`);
      });
    }
    const nameKeys: [string, unknown][] = [[`${base}.name`, u.name]];
    if (Array.isArray(u.shortNames))
      u.shortNames.forEach((s, j) => nameKeys.push([`${base}.shortNames[${j}]`, s]));
    for (const [key, n] of nameKeys) {
      if (typeof n !== 'string' || n.trim() === '') continue;
      const prev = names.get(n.trim());
      if (!prev) names.set(n.trim(), { unit: i, key });
      else if (prev.unit !== i)
        at(
          key,
          `name "${n.trim()}"${label} is also used at ${prev.key}: names must tell units apart`,
        );
    }
    if (Array.isArray(u.tags)) for (const t of u.tags) if (typeof t === 'string') knownTags.add(t);
  });

  // checklist: codes, numbering, keywords on the right level, tags that exist
  const itemCodes = new Map<string, string>();
  const registerCode = (code: unknown, key: string) => {
    if (typeof code !== 'string') return;
    const prev = itemCodes.get(code);
    if (prev) at(key, `duplicate item code "${code}" (already at ${prev})`);
    else itemCodes.set(code, key);
  };
  const checkTags = (tags: unknown, key: string) => {
    if (!Array.isArray(tags) || knownTags.size === 0) return;
    tags.forEach((t, k) => {
      if (typeof t === 'string' && !knownTags.has(t))
        at(
          `${key}[${k}]`,
          `expected a tag that some unit carries (${[...knownTags].join(', ')}), found "${t}"`,
        );
    });
  };
  checklist.forEach((it, i) => {
    if (!isRecord(it)) return;
    const base = `checklist[${i}]`;
    registerCode(it.code, `${base}.code`);
    checkTags(it.appliesTo, `${base}.appliesTo`);
    if ('items' in it && it.items !== undefined) {
      if ('keywords' in it)
        at(
          `${base}.keywords`,
          'expected keywords on the sub-items only (this item has items:), found keywords on the group',
        );
    } else if (!('keywords' in it)) {
      at(`${base}.keywords`, 'missing: expected a list of keywords (or items: with sub-items)');
    }
    if (!Array.isArray(it.items)) return;
    it.items.forEach((sub, j) => {
      if (!isRecord(sub)) return;
      const key = `${base}.items[${j}]`;
      registerCode(sub.code, `${key}.code`);
      checkTags(sub.appliesTo, `${key}.appliesTo`);
      if (
        typeof it.code === 'string' &&
        typeof sub.code === 'string' &&
        !sub.code.startsWith(`${it.code}.`)
      )
        at(`${key}.code`, `expected a code starting with "${it.code}.", found "${sub.code}"`);
    });
  });
}

// ---------------------------------------------------------------------------------------
// Build

function build(c: RawConfig, file: string, secrets: { imap: string; smtp: string }): Config {
  const items: Item[] = [];
  for (const it of c.checklist) {
    if (it.items) {
      for (const sub of it.items) {
        items.push({
          code: sub.code,
          group: it.code,
          groupTitle: it.title.trim(),
          title: sub.title.trim(),
          deadline: (sub.deadline ?? it.deadline).trim(),
          appliesTo: [...(sub.appliesTo ?? it.appliesTo ?? [])].map((t) => t.trim()),
          keywords: sub.keywords.map((k) => k.trim()),
        });
      }
    } else {
      items.push({
        code: it.code,
        groupTitle: it.title.trim(),
        title: it.title.trim(),
        deadline: it.deadline.trim(),
        appliesTo: (it.appliesTo ?? []).map((t) => t.trim()),
        keywords: (it.keywords ?? []).map((k) => k.trim()),
      });
    }
  }
  const units: Unit[] = c.units.map((u) => ({
    code: u.code,
    name: u.name.trim(),
    shortNames: u.shortNames.map((s) => s.trim()),
    tags: u.tags.map((t) => t.trim()),
    addresses: u.addresses.map(lowerAddr),
  }));
  return {
    file,
    campaign: {
      name: c.campaign.name.trim(),
      office: c.campaign.office.trim(),
      officeAddresses: c.campaign.officeAddresses.map(lowerAddr),
    },
    from: lowerAddr(c.from),
    dataDir: path.resolve(c.dataDir),
    imap: {
      host: c.imap.host.trim(),
      port: c.imap.port,
      tls: c.imap.tls,
      user: c.imap.user.trim(),
      password: secrets.imap,
      mailbox: c.imap.mailbox,
      pollSeconds: c.imap.pollSeconds,
      moveTo: c.imap.moveTo,
    },
    smtp: {
      host: c.smtp.host.trim(),
      port: c.smtp.port,
      tls: c.smtp.tls,
      user: c.smtp.user.trim(),
      password: secrets.smtp,
    },
    receipts: { perSenderPerHour: c.receipts.perSenderPerHour },
    reminders: { ...c.reminders },
    limits: { maxAttachmentMb: c.limits.maxAttachmentMb, maxMessageMb: c.limits.maxMessageMb },
    trust: { authservIds: c.trust.authservIds.map((id) => id.toLowerCase()) },
    checklist: { year: c.campaign.year, timezone: c.campaign.timezone, items },
    units,
  };
}

// ---------------------------------------------------------------------------------------
// Helpers

const lowerAddr = (a: string) => a.trim().toLowerCase();

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}
