import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_CONFIG_PATH,
  loadConfig,
  parseConfig,
} from '../../src/config/load.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const UNITS_TSV = path.resolve(REPO_ROOT, '../shared/seed/units.tsv');
const DEFAULT_TEXT = readFileSync(DEFAULT_CONFIG_PATH, 'utf8');

/** A small valid config; tests break one thing at a time. */
const MINIMAL = `
campaign:
  name: 测试
  year: 2015
  timezone: Asia/Shanghai
  office: 办公室
  officeAddresses: [office@example.com]
from: desk@example.com
dataDir: ./data
imap:
  host: imap.example.com
  port: 993
  tls: true
  user: desk@example.com
  mailbox: INBOX
  pollSeconds: 60
  moveTo: null
smtp:
  host: smtp.example.com
  port: 465
  tls: true
  user: desk@example.com
receipts:
  perSenderPerHour: 5
checklist:
  - code: '1'
    title: 年度方案
    deadline: 5月底之前
    keywords: [年度方案]
  - code: '2'
    title: 推行行政指导情况
    deadline: 5月底之前
    appliesTo: [urban]
    items:
      - code: '2.1'
        title: 意见
        keywords: [指导意见]
      - code: '2.2'
        title: 文书
        deadline: 9月上旬
        appliesTo: []
        keywords: [文书]
units:
  - code: a
    name: 甲镇人民政府
    shortNames: [甲镇]
    tags: [town, urban]
    addresses: [a@example.com]
  - code: b
    name: 乙街道办事处
    shortNames: [乙街道]
    tags: [street]
    addresses: [b@example.com]
`;

const startsWith = (prefix: string) =>
  expect.stringMatching(new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));

function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(text, 'test.yaml', env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('CONFIG_INVALID');
    return (err as ConfigError).problems;
  }
  throw new Error('expected the config to be rejected');
}

describe('default config', () => {
  const cfg = loadConfig(DEFAULT_CONFIG_PATH, {});

  it('loads with the campaign settings', () => {
    expect(cfg.file).toBe(DEFAULT_CONFIG_PATH);
    expect(cfg.campaign.name).toBe('惠济区2015年推进服务型行政执法建设');
    expect(cfg.campaign.office).toBe('区依法行政工作领导小组办公室');
    expect(cfg.campaign.officeAddresses).toEqual(['hifz9199@sina.com']);
    expect(cfg.from).toBe('hifz9199@sina.com');
    expect(cfg.dataDir).toBe(path.resolve('data'));
    expect(cfg.imap).toEqual({
      host: 'imap.sina.com',
      port: 993,
      tls: true,
      user: 'hifz9199@sina.com',
      password: '',
      mailbox: 'INBOX',
      pollSeconds: 60,
      moveTo: null,
    });
    expect(cfg.smtp).toEqual({
      host: 'smtp.sina.com',
      port: 465,
      tls: true,
      user: 'hifz9199@sina.com',
      password: '',
    });
    expect(cfg.receipts.perSenderPerHour).toBe(5);
    expect(cfg.checklist.year).toBe(2015);
    expect(cfg.checklist.timezone).toBe('Asia/Shanghai');
  });

  it('has the 18 items of the notice, in order', () => {
    expect(cfg.checklist.items.map((i) => i.code)).toEqual(
      '1 2.1 2.2 2.3 3.1 3.2 4.1 4.2 4.3 5 6.1 6.2 6.3 7.1 7.2 8.1 8.2 9'.split(' '),
    );
    for (const item of cfg.checklist.items) {
      expect(item.title).not.toBe('');
      expect(item.deadline).not.toBe('');
      expect(item.keywords.length).toBeGreaterThan(0);
    }
  });

  it('flattens groups and inherits deadline and appliesTo', () => {
    const byCode = new Map(cfg.checklist.items.map((i) => [i.code, i]));
    const get = (code: string) => {
      const item = byCode.get(code);
      if (!item) throw new Error(`no item ${code}`);
      return item;
    };
    expect(get('1').group).toBeUndefined();
    expect(get('1').groupTitle).toBe(get('1').title);
    expect(get('1').deadline).toBe('5月底之前');
    expect(get('2.2')).toMatchObject({
      group: '2',
      groupTitle: '推行行政指导情况',
      deadline: '5月底之前',
      appliesTo: [],
    });
    expect(get('3.2').deadline).toBe('9月上旬');
    expect(get('4.1').deadline).toBe('8月上旬');
    expect(get('4.2').deadline).toBe('灵活安排时间');
    expect(get('4.3').deadline).toBe('现场检查时抽查');
    for (const code of ['4.1', '4.2', '4.3']) expect(get(code).appliesTo).toEqual(['urban']);
    for (const code of ['6.1', '6.2', '6.3']) expect(get(code).appliesTo).toEqual(['mediation']);
    expect(get('6.1').deadline).toBe('6月底之前');
    expect(get('6.2').deadline).toBe('7月底之前');
    expect(get('7.1').keywords).toEqual(expect.arrayContaining(['督导体系', '督導體系']));
    expect(get('9').deadline).toBe('及时报送');
  });

  it('has the 22 units of units.tsv, field by field', () => {
    const rows = readFileSync(UNITS_TSV, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(1)
      .map((l) => l.split('\t'));
    expect(rows).toHaveLength(22);
    expect(cfg.units).toHaveLength(22);
    rows.forEach(([code, name, shortNames, tags, addresses], i) => {
      const split = (s: string | undefined) => (s ? s.split(';') : []);
      expect(cfg.units[i]).toEqual({
        code,
        name,
        shortNames: split(shortNames),
        tags: split(tags),
        addresses: split(addresses),
      });
    });
  });

  it('is deeply frozen', () => {
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(Object.isFrozen(cfg.imap)).toBe(true);
    expect(Object.isFrozen(cfg.checklist.items[0]?.keywords)).toBe(true);
    expect(Object.isFrozen(cfg.units[0]?.addresses)).toBe(true);
  });
});

describe('environment overrides', () => {
  it('apply over the file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'baosong-config-'));
    const pwFile = path.join(dir, 'smtp.pw');
    writeFileSync(pwFile, 's3cret pass\n');
    const cfg = parseConfig(MINIMAL, 'test.yaml', {
      BAOSONG_IMAP_HOST: 'imap.other.test',
      BAOSONG_IMAP_PORT: '143',
      BAOSONG_IMAP_TLS: 'false',
      BAOSONG_IMAP_USER: 'other',
      BAOSONG_IMAP_PASSWORD: 'imap-pw',
      BAOSONG_SMTP_HOST: 'smtp.other.test',
      BAOSONG_SMTP_PORT: '587',
      BAOSONG_SMTP_TLS: 'false',
      BAOSONG_SMTP_USER: 'other-smtp',
      BAOSONG_SMTP_PASSWORD_FILE: pwFile,
      BAOSONG_FROM: 'Desk2@Example.com',
      BAOSONG_DATA_DIR: dir,
    });
    expect(cfg.imap).toMatchObject({
      host: 'imap.other.test',
      port: 143,
      tls: false,
      user: 'other',
      password: 'imap-pw',
    });
    expect(cfg.smtp).toEqual({
      host: 'smtp.other.test',
      port: 587,
      tls: false,
      user: 'other-smtp',
      password: 's3cret pass',
    });
    expect(cfg.from).toBe('desk2@example.com');
    expect(cfg.dataDir).toBe(dir);
  });

  it('leave passwords empty when unset, and resolve a relative dataDir against cwd', () => {
    const cfg = parseConfig(MINIMAL, 'test.yaml', { BAOSONG_DATA_DIR: 'var/d' });
    expect(cfg.imap.password).toBe('');
    expect(cfg.smtp.password).toBe('');
    expect(cfg.dataDir).toBe(path.resolve(process.cwd(), 'var/d'));
  });

  it('can supply a setting the file leaves out', () => {
    const text = MINIMAL.replace('  host: imap.example.com\n', '');
    expect(problemsOf(text)).toEqual(['test.yaml: imap.host: missing: expected a host name']);
    expect(parseConfig(text, 'test.yaml', { BAOSONG_IMAP_HOST: 'h.test' }).imap.host).toBe(
      'h.test',
    );
  });

  it.each([
    [
      'BAOSONG_IMAP_TLS',
      'maybe',
      /^environment BAOSONG_IMAP_TLS .*expected true or false.*"maybe"/,
    ],
    ['BAOSONG_SMTP_TLS', 'yes', /^environment BAOSONG_SMTP_TLS .*expected true or false/],
    ['BAOSONG_IMAP_PORT', '0', /^environment BAOSONG_IMAP_PORT .*expected a port number/],
    ['BAOSONG_SMTP_PORT', '99999', /^environment BAOSONG_SMTP_PORT .*expected a port number/],
    ['BAOSONG_SMTP_PORT', '465x', /^environment BAOSONG_SMTP_PORT .*expected a port number/],
    ['BAOSONG_FROM', 'not-an-address', /^environment BAOSONG_FROM .*e-mail address/],
    ['BAOSONG_IMAP_PASSWORD_FILE', '/nonexistent/pw', /^environment BAOSONG_IMAP_PASSWORD_FILE/],
  ])('rejects %s=%s naming the variable', (name, value, pattern) => {
    const problems = problemsOf(MINIMAL, { [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(pattern);
  });

  it('rejects a password given both directly and as a file', () => {
    expect(
      problemsOf(MINIMAL, { BAOSONG_SMTP_PASSWORD: 'x', BAOSONG_SMTP_PASSWORD_FILE: '/x' }),
    ).toEqual([
      'environment BAOSONG_SMTP_PASSWORD: set either BAOSONG_SMTP_PASSWORD or BAOSONG_SMTP_PASSWORD_FILE, not both',
    ]);
  });
});

describe('bad configs', () => {
  const cases: [string, (t: string) => string, string[]][] = [
    ['port 0', (t) => t.replace('port: 993', 'port: 0'), ['imap.port: expected a port number']],
    [
      'port as text',
      (t) => t.replace('port: 465', "port: '465'"),
      ['smtp.port: expected a number'],
    ],
    [
      'misspelt key',
      (t) => t.replace('  host: imap', '  hots: imap'),
      ['imap.hots: unknown key (did you mean "host"?)', 'imap.host: missing'],
    ],
    [
      'shortened key',
      (t) => t.replace('pollSeconds: 60', 'pollSecs: 60'),
      ['imap.pollSecs: unknown key (did you mean "pollSeconds"?)'],
    ],
    ['unknown top-level key', (t) => `${t}extra: 1\n`, ['extra: unknown key']],
    [
      'tls not boolean',
      (t) => t.replace('tls: true', 'tls: yes'),
      ['imap.tls: expected true or false, found "yes"'],
    ],
    [
      'bad timezone',
      (t) => t.replace('Asia/Shanghai', 'Asia/Beijing'),
      ['campaign.timezone: expected an IANA time zone'],
    ],
    [
      'bad address',
      (t) => t.replace('from: desk@example.com', 'from: desk'),
      ['from: expected an e-mail address'],
    ],
    [
      'empty deadline',
      (t) => t.replace('deadline: 9月上旬', "deadline: ''"),
      ['checklist[1].items[1].deadline: expected a deadline'],
    ],
    [
      'sub-item deadline not text',
      (t) => t.replace('deadline: 9月上旬', 'deadline: [9月]'),
      ['checklist[1].items[1].deadline: expected a deadline such as 5月底之前, found a list of 1'],
    ],
    [
      'group without deadline',
      (t) => t.replace('推行行政指导情况\n    deadline: 5月底之前\n', '推行行政指导情况\n'),
      ['checklist[1].deadline: missing'],
    ],
    [
      'sub-item with a foreign code',
      (t) => t.replace("code: '2.2'", "code: '3.2'"),
      ['checklist[1].items[1].code: expected a code starting with "2."'],
    ],
    [
      'code without the dot',
      (t) => t.replace("code: '2.2'", "code: '22'"),
      ['checklist[1].items[1].code: expected a code starting with "2."'],
    ],
    [
      'duplicate item code',
      (t) => t.replace("code: '2.2'", "code: '2.1'"),
      [
        'checklist[1].items[1].code: duplicate item code "2.1" (already at checklist[1].items[0].code)',
      ],
    ],
    [
      'item without keywords',
      (t) => t.replace('    keywords: [年度方案]\n', ''),
      ['checklist[0].keywords: missing'],
    ],
    [
      'empty keywords',
      (t) => t.replace('keywords: [年度方案]', 'keywords: []'),
      ['checklist[0].keywords: expected at least one keyword, found an empty list'],
    ],
    [
      'keywords on a group',
      (t) => t.replace('    appliesTo: [urban]\n', '    appliesTo: [urban]\n    keywords: [x]\n'),
      ['checklist[1].keywords: expected keywords on the sub-items only'],
    ],
    [
      'nested sub-items',
      (t) =>
        t.replace('        keywords: [文书]\n', '        keywords: [文书]\n        items: []\n'),
      ['checklist[1].items[1].items: unknown key'],
    ],
    [
      'unknown appliesTo tag',
      (t) => t.replace('appliesTo: [urban]', 'appliesTo: [urbam]'),
      ['checklist[1].appliesTo[0]: expected a tag that some unit carries'],
    ],
    [
      'duplicate unit code',
      (t) => t.replace('code: b', 'code: a'),
      ['units[1].code: duplicate unit code "a" (already at units[0].code)'],
    ],
    [
      'address under two units',
      (t) => t.replace('[b@example.com]', '[b@example.com, A@Example.com]'),
      [
        'units[1].addresses[1]: address "a@example.com" is already listed under units[0].addresses[0]',
      ],
    ],
    [
      'invalid unit address',
      (t) => t.replace('[b@example.com]', '[b@example]'),
      [
        'units[1].addresses[0]: expected an e-mail address like name@example.com, found "b@example"',
      ],
    ],
    [
      'shared short name',
      (t) => t.replace('[乙街道]', '[甲镇]'),
      ['units[1].shortNames[0]: name "甲镇" (b) is also used at units[0].shortNames[0]'],
    ],
    [
      'bad unit code',
      (t) => t.replace('code: b', 'code: B 2'),
      ['units[1].code: expected a unit code'],
    ],
    [
      'no units',
      (t) => t.slice(0, t.indexOf('units:')) + 'units: []\n',
      ['units: expected at least one unit, found an empty list'],
    ],
    [
      'moveTo not text',
      (t) => t.replace('moveTo: null', 'moveTo: 5'),
      ['imap.moveTo: expected a mailbox name, found 5'],
    ],
    [
      'negative receipts',
      (t) => t.replace('perSenderPerHour: 5', 'perSenderPerHour: -1'),
      ['receipts.perSenderPerHour: expected a whole number, 0 or more, found -1'],
    ],
  ];

  it.each(cases)('%s', (_name, edit, expected) => {
    const text = edit(MINIMAL);
    expect(text).not.toBe(MINIMAL);
    const problems = problemsOf(text);
    for (const e of expected) {
      expect(problems).toContainEqual(startsWith(`test.yaml: ${e}`));
    }
  });

  it('reports several problems in one file all at once', () => {
    const text = MINIMAL.replace('port: 993', 'port: 0')
      .replace('  host: smtp', '  hots: smtp')
      .replace("code: '2.2'", "code: '2.1'")
      .replace('code: b', 'code: a')
      .replace('deadline: 9月上旬', "deadline: ''");
    const problems = problemsOf(text, { BAOSONG_IMAP_TLS: 'maybe' });
    const expected = [
      'imap.port: expected a port number from 1 to 65535, found 0',
      'smtp.hots: unknown key (did you mean "host"?)',
      'smtp.host: missing',
      'checklist[1].items[1].code: duplicate item code "2.1"',
      'units[1].code: duplicate unit code "a"',
      'checklist[1].items[1].deadline: expected a deadline',
    ];
    for (const e of expected) expect(problems).toContainEqual(startsWith(`test.yaml: ${e}`));
    expect(problems).toContainEqual(startsWith('environment BAOSONG_IMAP_TLS'));
    expect(problems).toHaveLength(expected.length + 1);
  });

  it('rejects a password in the file, pointing at the environment', () => {
    const text = MINIMAL.replace(
      '  user: desk@example.com\n  mailbox',
      '  user: desk@example.com\n  password: hunter2\n  mailbox',
    );
    expect(problemsOf(text)).toEqual([
      'test.yaml: imap.password: secrets never live in the file: use BAOSONG_IMAP_PASSWORD or BAOSONG_IMAP_PASSWORD_FILE',
    ]);
    const smtp = `${MINIMAL.replace('  port: 465\n', '  port: 465\n  password: x\n')}`;
    expect(problemsOf(smtp)[0]).toMatch(
      /^test\.yaml: smtp\.password: secrets never live in the file: use BAOSONG_SMTP_PASSWORD/,
    );
  });

  it('names the line of a YAML syntax error', () => {
    const text = MINIMAL.replace('  port: 993\n', '  port: [993\n');
    const problems = problemsOf(text);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatch(/^test\.yaml: line \d+, column \d+: /);
  });

  it('rejects duplicate YAML keys with their line', () => {
    const text = MINIMAL.replace('  port: 993\n', '  port: 993\n  port: 994\n');
    expect(problemsOf(text)[0]).toMatch(/^test\.yaml: line 13, column 3: Map keys must be unique/);
  });

  it('rejects a file that is not a mapping', () => {
    expect(problemsOf('- a\n- b\n')).toEqual([
      'test.yaml: (top level): expected a mapping of settings, found a list of 2',
    ]);
  });

  it('reports a missing file as a ConfigError', () => {
    expect(() => loadConfig('/nonexistent/baosong.yaml', {})).toThrow(ConfigError);
  });
});

describe('parsing details', () => {
  it('keeps unquoted codes exactly as written', () => {
    const text = MINIMAL.replace("code: '2.1'", 'code: 2.10').replace("code: '2'", 'code: 2');
    const cfg = parseConfig(text.replace("code: '2.2'", 'code: 2.2'), 'test.yaml', {});
    expect(cfg.checklist.items.map((i) => i.code)).toEqual(['1', '2.10', '2.2']);
  });

  it('inherits from the group and lets a sub-item override', () => {
    const cfg = parseConfig(MINIMAL, 'test.yaml', {});
    expect(cfg.checklist.items[1]).toEqual({
      code: '2.1',
      group: '2',
      groupTitle: '推行行政指导情况',
      title: '意见',
      deadline: '5月底之前',
      appliesTo: ['urban'],
      keywords: ['指导意见'],
    });
    expect(cfg.checklist.items[2]).toMatchObject({ deadline: '9月上旬', appliesTo: [] });
    expect('group' in cfg.checklist.items[0]!).toBe(false);
  });

  it('fills defaults and lower-cases addresses', () => {
    const text = MINIMAL.replace('  mailbox: INBOX\n  pollSeconds: 60\n  moveTo: null\n', '')
      .replace('receipts:\n  perSenderPerHour: 5\n', '')
      .replace('[a@example.com]', '[A@Example.COM]');
    const cfg = parseConfig(text, 'test.yaml', {});
    expect(cfg.imap).toMatchObject({ mailbox: 'INBOX', pollSeconds: 60, moveTo: null });
    expect(cfg.receipts.perSenderPerHour).toBe(5);
    expect(cfg.units[0]?.addresses).toEqual(['a@example.com']);
  });

  it('default.yaml has no password and is what DEFAULT_CONFIG_PATH points to', () => {
    expect(DEFAULT_CONFIG_PATH).toBe(path.join(REPO_ROOT, 'config', 'default.yaml'));
    expect(DEFAULT_TEXT).not.toMatch(/^\s*password\s*:/m);
  });
});

describe('trust.authservIds', () => {
  it('defaults to trusting no Authentication-Results header', () => {
    expect(parseConfig(DEFAULT_TEXT, 'default.yaml', {}).trust.authservIds).toEqual([]);
  });

  it('takes server names, lower-cased', () => {
    const text = DEFAULT_TEXT.replace('  authservIds: []', '  authservIds: [MX.Sina.net]');
    expect(parseConfig(text, 'c.yaml', {}).trust.authservIds).toEqual(['mx.sina.net']);
  });

  it('names the key when a value is not a server name', () => {
    const text = DEFAULT_TEXT.replace(
      '  authservIds: []',
      "  authservIds: ['mx.sina.net; dmarc=pass']",
    );
    expect(() => parseConfig(text, 'c.yaml', {})).toThrow(/trust\.authservIds\[0\]/);
  });
});
