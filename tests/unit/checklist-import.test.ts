// The notice's 督导内容细则 table → the config's checklist. The 2015 notice must give back
// config/default.yaml's checklist: everything from the notice alone except the keywords
// (a notice has none) and two titles the operator shortened; everything, keywords included,
// with the default config as the base.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import {
  checklistFromNotice,
  checklistYaml,
  chineseNumber,
  sameWording,
  type ChecklistImport,
} from '../../src/checklist/import.js';
import { DEFAULT_CONFIG_PATH, loadConfig, parseConfig } from '../../src/config/load.js';

const NOTICE = fileURLToPath(new URL('../../../shared/seed/notice-2015.md', import.meta.url));
const notice = readFileSync(NOTICE, 'utf8');
const config = loadConfig(DEFAULT_CONFIG_PATH, {});
const tags = new Set(config.units.flatMap((u) => u.tags));
const TZ = 'Asia/Shanghai';

/** default.yaml with its checklist: replaced by the imported one, loaded like any config. */
function loadWith(r: ChecklistImport) {
  const yaml = checklistYaml(r, 'notice-2015.md');
  const imported = YAML.parse(yaml) as { checklist: unknown };
  const doc = YAML.parseDocument(readFileSync(DEFAULT_CONFIG_PATH, 'utf8'));
  doc.set('checklist', doc.createNode(imported.checklist));
  return {
    yaml,
    raw: imported.checklist,
    config: parseConfig(doc.toString(), 'imported.yaml', {}),
  };
}

const defaultRaw = (
  YAML.parse(readFileSync(DEFAULT_CONFIG_PATH, 'utf8')) as { checklist: Record<string, unknown>[] }
).checklist;

describe('checklist import: the 2015 notice gives the default checklist', () => {
  it('GIVEN the default config as base WHEN the 2015 notice is imported THEN the checklist is default.yaml’s, keywords and all', () => {
    const r = checklistFromNotice(notice, { timeZone: TZ, tags, base: config.checklist.items });
    expect(r.year).toBe(2015);
    expect(r.problems).toEqual([]);
    expect(r.dropped).toEqual([]);
    const { raw, config: loaded } = loadWith(r);
    // The YAML as written in default.yaml: same rows, same nesting, same keys.
    expect(raw).toEqual(defaultRaw);
    // And through the loader: the same validated items.
    expect(loaded.checklist.items).toEqual(config.checklist.items);
  });

  it('GIVEN no base WHEN imported THEN codes, nesting, deadlines, applicability and titles come from the notice alone', () => {
    const r = checklistFromNotice(notice, { timeZone: TZ, tags });
    expect(r.problems).toEqual([]);
    const { config: loaded } = loadWith(r);
    const got = loaded.checklist.items.map(({ keywords: _k, ...rest }) => rest);
    const want = config.checklist.items.map(({ keywords: _k, ...rest }) => rest);
    // The operator shortened two titles in default.yaml; the notice's words are longer.
    const edited: Record<string, string> = {
      '5': '行政执法调研报告（执法机构的设置与人员配置、执法制度建设、职责履行、执法装备和经费保障，执法中存在的主要问题，推进服务型行政执法的现状和困难，解决问题的办法）',
      '6.2':
        '在公安、医疗、消费者权益保护、劳动争议、征地拆迁等与群众利益密切相关领域建立健全行政调解工作机制',
    };
    expect(got).toEqual(
      want.map((i) =>
        edited[i.code]
          ? { ...i, title: edited[i.code], ...(i.group ? {} : { groupTitle: edited[i.code] }) }
          : i,
      ),
    );
    // Keywords are drafted from the title, and say so.
    for (const i of loaded.checklist.items) expect(i.keywords.length).toBeGreaterThan(0);
  });

  it('reads what the table only implies: merged deadline cells, 督導體系, 查看相关文件, the on-site item and the 说明', () => {
    const r = checklistFromNotice(notice, { timeZone: TZ, tags });
    const yaml = checklistYaml(r, 'notice-2015.md');
    const flat = r.items.flatMap((i) => [i, ...(i.items ?? [])]);
    const at = (code: string) => flat.find((i) => i.code === code);
    expect(at('2.2')?.deadline).toBeUndefined(); // merged cell: the group's 5月底之前
    expect(at('8.2')?.deadline).toBe('10月上旬'); // written in its own cell: kept
    expect(at('7.1')?.title).toBe('督导体系建立情况');
    expect(at('7.1')?.comments.title).toBe('通知原文：督導體系建立情况');
    expect(at('8.1')?.title).toBe('法律顾问制度相关文件');
    expect(at('4.3')?.deadline).toBe('现场检查时抽查');
    expect(at('4.3')?.comments.deadline).toContain('9月上旬');
    expect(at('4')?.appliesTo).toEqual(['urban']);
    expect(at('6')?.appliesTo).toEqual(['mediation']);
    expect(yaml).toContain('appliesTo: [urban] # 说明：主要由区城管执法局落实');
    expect(yaml).toContain("- code: '2.1'");
  });
});

describe('checklist import: a notice as next year might write it', () => {
  const table = (rows: string[], notes = '') =>
    ['# 2016年 通知', '', '序号\t项目\t需报送材料\t完成时间', ...rows, '', notes].join('\n');

  it('flags a deadline the parser does not understand, and keeps going', () => {
    const r = checklistFromNotice(
      table([
        '一\t方案\t年度方案。\t下个月吧',
        '二\t案例\t1. 典型案例。\t6月底之前',
        '\t\t2. 调解案例。\t',
      ]),
      { timeZone: TZ },
    );
    expect(r.year).toBe(2016);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toContain('下个月吧');
    expect(r.items.map((i) => i.code)).toEqual(['1', '2']);
    expect(r.items[1]?.items?.map((i) => [i.code, i.title])).toEqual([
      ['2.1', '典型案例'],
      ['2.2', '调解案例'],
    ]);
  });

  it('a 说明 naming no unit kind stays a comment; an unknown tag is not used', () => {
    const r = checklistFromNotice(
      table(
        ['一\t方案\t年度方案。\t5月底之前', '二\t城管\t城管论坛资料。\t灵活安排时间'],
        '说明：第一项由各单位办公室落实；第二项主要由区城管执法局落实。',
      ),
      { timeZone: TZ, tags: new Set(['town']) },
    );
    expect(r.items[0]?.appliesTo).toBeUndefined();
    expect(r.items[0]?.comments.appliesTo).toContain('未能对应到单位类别');
    expect(r.items[1]?.appliesTo).toBeUndefined(); // no unit carries "urban" in that roster
  });

  it('with a base, a changed item under an old number gets drafted keywords and a note', () => {
    const r = checklistFromNotice(table(['一\t宣传\t普法宣传活动照片。\t5月底之前']), {
      timeZone: TZ,
      base: config.checklist.items,
    });
    const one = r.items[0];
    expect(one?.title).toBe('普法宣传活动照片');
    expect(one?.keywords).toContain('普法宣传活动照片');
    expect(one?.comments.keywords).toContain('原配置的 1');
    expect(r.dropped).toContain('2.1');
  });

  it('no table: a plain error', () => {
    expect(() => checklistFromNotice('没有表格', { timeZone: TZ })).toThrow(/序号/);
  });

  it.each([
    ['一', 1],
    ['九', 9],
    ['十', 10],
    ['十一', 11],
    ['二十三', 23],
    ['12', 12],
  ])('chineseNumber(%s) = %d', (s, n) => expect(chineseNumber(s)).toBe(n));

  it('sameWording: a shortening is the same wording, another task is not', () => {
    expect(sameWording('在公安等领域建立机制', '在公安、医疗等与群众利益相关领域建立机制')).toBe(
      true,
    );
    expect(sameWording('普法宣传活动照片', '本单位推进服务型行政执法建设年度方案')).toBe(false);
  });
});
