// `npm run demo`: the real pipeline on embedded defaults. A temporary data folder, the folder
// source filled with a dozen realistic submissions, receipts written as .eml files.
import { mkdtempSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { displayCode } from '../core/codes.js';
import { FixedClock } from '../core/clock.js';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../config/load.js';
import { demoSamples } from '../demo/samples.js';
import { ingestFolder } from '../intake/folder.js';
import { createLogger } from '../log.js';
import { buildApp } from '../main.js';

async function main(): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'baosong-demo-'));
  const inbox = path.join(root, 'inbox');
  const sentDir = path.join(root, 'sent');
  mkdirSync(inbox);
  for (const s of demoSamples()) {
    const file = path.join(inbox, `${s.name}.eml`);
    writeFileSync(file, s.raw);
    utimesSync(file, s.receivedAt, s.receivedAt);
  }

  // The default config, with only the data folder moved; nothing is read from the environment.
  const config = loadConfig(DEFAULT_CONFIG_PATH, { BAOSONG_DATA_DIR: path.join(root, 'data') });
  // The campaign is in 2015: run as of 5 June 2015 so receipts show what is still owed.
  const clock = new FixedClock(new Date('2015-06-05T10:00:00+08:00'));
  const log = createLogger('warn');
  const app = buildApp(config, { log, clock, outboxToFolder: sentDir });
  try {
    const results = await ingestFolder(inbox, app.intake);
    await app.outbox.flush();

    const unitName = new Map(config.units.map((u) => [u.code, u.name]));
    const out: string[] = ['', `baosong 演示：${results.length} 封邮件`, ''];
    for (const { file, result } of results) {
      const what =
        result.status === 'duplicate'
          ? '重复，已忽略'
          : result.kind === 'not_submission'
            ? `不是报送（${result.reason}）`
            : result.status === 'failed'
              ? `已搁置（${result.reason}）`
              : '已登记';
      out.push(`  ${path.basename(file).padEnd(34)} ${what}`);
    }
    out.push('', '材料：');
    for (const m of app.store.materials()) {
      const who = m.unit ? (unitName.get(m.unit) ?? m.unit) : '单位未定';
      const item = m.item ? displayCode(m.item) : '事项未定';
      const mark = m.status === 'credited' ? '✓ 已计入' : '? 待确认';
      const name = m.kind === 'link' ? `链接 ${m.filename.slice(0, 40)}…` : m.filename;
      out.push(`  ${mark}  ${who} / ${item}  ${name}`);
    }
    const sent = readdirSync(sentDir).sort();
    out.push(
      '',
      `回执 ${sent.length} 封，写在 ${sentDir}/`,
      ...sent.map((f) => `  ${f}`),
      '',
      `数据库：${path.join(config.dataDir, 'baosong.db')}`,
      `查看全部材料：bin/baosong materials --json   （设置 BAOSONG_DATA_DIR=${config.dataDir}）`,
      '',
    );
    process.stdout.write(out.join('\n'));
  } finally {
    app.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
