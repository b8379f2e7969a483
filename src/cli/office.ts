// The office's commands: the review queue, the year-end exports, backfill of old mail, the
// checklist import, `check` and the roster. Registered on the main program by
// src/cli/index.ts; each builds the app at the composition root and runs one use case.
import { Option, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { ChecklistImportError, checklistFromNotice, checklistYaml } from '../checklist/import.js';
import { appliesTo } from '../core/classify.js';
import { SystemClock } from '../core/clock.js';
import { displayCode } from '../core/codes.js';
import { formatDateTime } from '../core/deadlines.js';
import { statusMatrixFromColumns } from '../core/status.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { writeCsv } from '../export/csv.js';
import { materialsTable, matrixTable, notesTable } from '../export/tables.js';
import { Backfill, type ImportProgress, type ImportSummary } from '../intake/backfill.js';
import type { App, AppOptions } from '../main.js';
import {
  ReviewDesk,
  ReviewError,
  parseTarget,
  type DecisionResult,
  type ReviewEntry,
} from '../review/desk.js';
import { WAIT_HINT, type WaitReason } from '../review/reasons.js';
import { ReviewStore } from '../store/review-store.js';
import { loadSubmissionColumns } from '../store/status-queries.js';
import { renderCheck, runCheck } from './check.js';
import { parseAt } from './status.js';

export interface OfficeCommandDeps {
  /** The --config given to the program (or the default). */
  configFile: () => string;
  buildApp: (config: Config, opts: AppOptions) => App;
  /** A quiet logger: these commands print for a person. */
  logger: () => Logger;
  out?: { write(s: string): unknown; isTTY?: boolean };
  err?: { write(s: string): unknown; isTTY?: boolean };
}

function who(by: string | undefined): string {
  if (by && by.trim()) return by.trim();
  try {
    return os.userInfo().username || 'clerk';
  } catch {
    return 'clerk';
  }
}

function day(iso: string, tz: string): string {
  return formatDateTime(new Date(iso), tz);
}

// ---------------------------------------------------------------------------------------
// Review

function renderQueue(entries: ReviewEntry[], config: Config): string {
  const tz = config.checklist.timezone;
  const unitName = new Map(config.units.map((u) => [u.code, u.name]));
  if (entries.length === 0) return '复核队列是空的：没有等待决定的材料或邮件。\n';
  const lines = [`待复核 ${entries.length} 件（先收到的在前）`, ''];
  const kinds = new Set<WaitReason>();
  for (const e of entries) {
    const sender = e.from ? `${e.from}${e.fromName ? `（${e.fromName}）` : ''}` : '（无发件人）';
    lines.push(`[${e.id}] ${day(e.receivedAt, tz)}  ${sender}  “${e.subject || '（无主题）'}”`);
    if (e.kind === 'material') {
      lines.push(
        `    ${e.materialKind === 'link' ? `链接 ${e.filename}${e.accessCode ? `（提取码 ${e.accessCode}）` : ''}` : e.filename || '（无文件名）'}`,
      );
      const guess = [
        e.unit ? (unitName.get(e.unit) ?? e.unit) + `（${e.unit}）` : '',
        e.item ? `${displayCode(e.item)}（${e.item}）` : '',
      ]
        .filter(Boolean)
        .join(' ');
      if (guess) lines.push(`    可能是：${guess}`);
    }
    lines.push(`    原因：${e.whyText.join('；')}`);
    lines.push(`    详情：${e.reason}`);
    for (const w of e.why) if (w !== 'unreadable') kinds.add(w);
  }
  lines.push('', '处理：');
  for (const k of kinds) lines.push(`  ${WAIT_HINT[k]}`);
  lines.push('  review reject ID --reason 原因（不计入，告知发件人）；加 --quiet 不发更正回执');
  return lines.join('\n') + '\n';
}

function renderDecision(r: DecisionResult, config: Config): string {
  const unitName = new Map(config.units.map((u) => [u.code, u.name]));
  const status = { credited: '已计入', review: '待复核', rejected: '已退回' } as const;
  const lines = [`决定 #${r.decision} 已记录（${r.action}）`];
  for (const c of r.changed) {
    const u = c.after.unit ? (unitName.get(c.after.unit) ?? c.after.unit) : '未确定单位';
    const it = c.after.item ? displayCode(c.after.item) : '未确定事项';
    lines.push(
      `  材料 ${c.after.id}：${status[c.before.status]} → ${status[c.after.status]}  ${u} ${it}`,
    );
  }
  if (r.learned)
    lines.push(
      `  已记住：${r.learned.address} 属于${unitName.get(r.learned.unit) ?? r.learned.unit}` +
        (r.learned.previous && r.learned.previous !== r.learned.unit
          ? `（原记为${unitName.get(r.learned.previous) ?? r.learned.previous}）`
          : '') +
        '，今后来自该地址的材料直接计入',
    );
  for (const rc of r.receipts) {
    if (rc.outcome === 'queued') lines.push(`  更正回执：已排队发往 ${rc.to}`);
    else if (rc.outcome === 'quiet') lines.push('  更正回执：不发送（--quiet）');
    else lines.push(`  更正回执：不发送（${rc.why ?? ''}）`);
  }
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------
// Import

function renderSummary(s: ImportSummary, sendReceipts: boolean, sent: number | null): string {
  const lines = [`导入完成：${s.files} 个文件，${s.messages} 封邮件`];
  lines.push(
    `  新登记：${s.recorded}（报送 ${s.submissions} 封，材料 ${s.materials.credited + s.materials.review} 件：已计入 ${s.materials.credited}，待复核 ${s.materials.review}）`,
  );
  lines.push(`  重复（已登记过）：${s.duplicates}`);
  const aside = Object.entries(s.setAside).sort((a, b) => b[1] - a[1]);
  lines.push(`  未作为报送：${aside.reduce((n, [, c]) => n + c, 0)}`);
  for (const [why, n] of aside) lines.push(`    ${why}：${n}`);
  for (const k of s.skipped) lines.push(`  跳过 ${k.path}：${k.why}`);
  if (s.materials.review) lines.push(`待复核的材料请用 review list 查看。`);
  lines.push(
    sendReceipts
      ? `回执：已发送 ${sent ?? 0} 封（未发出的由服务稍后重试）`
      : '回执：未发送（补录的历史邮件；需要时加 --send-receipts）',
  );
  return lines.join('\n') + '\n';
}

function progressBar(err: { write(s: string): unknown }): (p: ImportProgress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 100 && p.bytesDone < p.bytesTotal) return;
    last = now;
    const frac = p.bytesTotal ? Math.min(1, p.bytesDone / p.bytesTotal) : 1;
    const width = 24;
    const full = Math.round(frac * width);
    const name = path.basename(p.file);
    err.write(
      `\r[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${p.messages} 封  ${name.length > 30 ? `…${name.slice(-29)}` : name}\u001b[K`,
    );
  };
}

// ---------------------------------------------------------------------------------------
// Units

function unitsJson(config: Config, learned: ReturnType<ReviewStore['learnedAddresses']>) {
  return config.units.map((u) => ({
    code: u.code,
    name: u.name,
    shortNames: u.shortNames,
    tags: u.tags,
    addresses: [
      ...u.addresses.map((a) => ({ address: a, source: 'config' as const })),
      ...learned
        .filter(
          (l) => l.unit === u.code && !config.units.some((x) => x.addresses.includes(l.address)),
        )
        .map((l) => ({
          address: l.address,
          source: 'learned' as const,
          learnedAt: l.learnedAt,
          learnedBy: l.learnedBy,
          decision: l.decision,
        })),
    ],
    items: config.checklist.items.filter((i) => appliesTo(i, u)).map((i) => i.code),
  }));
}

// ---------------------------------------------------------------------------------------

export function registerOfficeCommands(program: Command, deps: OfficeCommandDeps): void {
  const out = deps.out ?? process.stdout;
  const errOut = deps.err ?? process.stderr;
  const config = () => loadConfig(deps.configFile());

  /** Runs an action on an app, closing it; review and usage errors exit 2 with their words. */
  const withApp = async <T>(
    cmd: Command,
    fn: (app: App, cfg: Config) => Promise<T> | T,
    opts: Partial<AppOptions> = {},
  ): Promise<T> => {
    const cfg = config();
    const app = deps.buildApp(cfg, { log: deps.logger(), ...opts });
    try {
      return await fn(app, cfg);
    } catch (err) {
      if (err instanceof ReviewError || err instanceof UsageProblem)
        return cmd.error(`baosong: ${err.message}`, { exitCode: 2 });
      throw err;
    } finally {
      app.close();
    }
  };

  const desk = (app: App, cfg: Config) =>
    new ReviewDesk({
      store: app.store,
      reviews: new ReviewStore(app.store.db),
      config: cfg,
      clock: new SystemClock(),
      log: app.log,
    });

  /** Sends the corrected receipts now; what the server refuses stays for the daemon. */
  const sendNow = async (app: App, r: DecisionResult) => {
    if (!r.receipts.some((x) => x.outcome === 'queued')) return;
    const f = await app.outbox.flush();
    if (f.sent) out.write(`  已发送 ${f.sent} 封\n`);
    if (f.retry || f.failed)
      out.write(`  ${f.retry + f.failed} 封未发出，服务稍后重试（见日志）\n`);
  };

  const review = program
    .command('review')
    .description('the review queue: what baosong could not decide, and the decisions');

  review
    .command('list')
    .description('every material and message waiting for a decision, with why')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }, cmd: Command) =>
      withApp(cmd, (app, cfg) => {
        const entries = desk(app, cfg).list();
        out.write(opts.json ? JSON.stringify(entries, null, 2) + '\n' : renderQueue(entries, cfg));
      }),
    );

  const decisionOptions = (c: Command) =>
    c
      .option('--by <name>', 'who decides (goes to the audit table); default: the login name')
      .option('--quiet', 'no corrected receipt to the sender')
      .option('--json', 'print JSON');

  type DecisionOpts = { by?: string; quiet?: boolean; json?: boolean };
  /** A review decision's action: take it on the desk, print it, send the corrected receipt. */
  const decision =
    <O extends DecisionOpts>(
      take: (
        d: ReviewDesk,
        target: ReturnType<typeof parseTarget>,
        opts: O,
        meta: { by: string; quiet: boolean },
      ) => DecisionResult,
    ) =>
    (id: string, opts: O, cmd: Command) =>
      withApp(cmd, async (app, cfg) => {
        const r = take(desk(app, cfg), parseTarget(id), opts, {
          by: who(opts.by),
          quiet: opts.quiet ?? false,
        });
        out.write(opts.json ? JSON.stringify(r, null, 2) + '\n' : renderDecision(r, cfg));
        await sendNow(app, r);
      });

  decisionOptions(
    review
      .command('assign')
      .description('credit a material to a unit and an item')
      .argument(
        '<id>',
        'the ID review list shows (a material number, or m<number> for a message with one material)',
      )
      .requiredOption('--unit <code>', 'unit code (see units)')
      .requiredOption('--item <code>', 'item code, e.g. 2.1 (or 二-1)'),
  ).action(
    decision<DecisionOpts & { unit: string; item: string }>((d, target, o, meta) =>
      d.assign(target, o.unit, o.item, meta),
    ),
  );

  decisionOptions(
    review
      .command('confirm-sender')
      .description(
        "the sender's address belongs to this unit: credit what waits from it, and remember it",
      )
      .argument('<id>', 'a material number or m<number> (a message) from that sender')
      .requiredOption('--unit <code>', 'unit code (see units)'),
  ).action(
    decision<DecisionOpts & { unit: string }>((d, target, o, meta) =>
      d.confirmSender(target, o.unit, meta),
    ),
  );

  decisionOptions(
    review
      .command('reject')
      .description('set a material (or m<number>: a whole message) aside; it counts for nothing')
      .argument('<id>', 'a material number or m<number>')
      .requiredOption('--reason <text>', 'why: the sender is told'),
  ).action(
    decision<DecisionOpts & { reason: string }>((d, target, o, meta) =>
      d.reject(target, o.reason, meta),
    ),
  );

  review
    .command('log')
    .description('the audit: every decision, who took it and when')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }, cmd: Command) =>
      withApp(cmd, (app, cfg) => {
        const rows = new ReviewStore(app.store.db).decisions();
        if (opts.json) {
          out.write(JSON.stringify(rows, null, 2) + '\n');
          return;
        }
        for (const d of rows)
          out.write(
            `#${d.id} ${day(d.decidedAt, cfg.checklist.timezone)} ${d.decidedBy} ${d.action} m${d.message}${d.material ? ` 材料${d.material}` : ''}${d.note ? ` “${d.note}”` : ''}\n`,
          );
        out.write(`${rows.length} decisions\n`);
      }),
    );

  // --- export -----------------------------------------------------------------------------
  program
    .command('export')
    .description('the year-end evaluation as xlsx or csv, and/or every material as folders')
    .addOption(
      new Option('--format <format>', 'xlsx or csv (default: from --out)').choices(['xlsx', 'csv']),
    )
    .option('--out <file>', 'the workbook (or csv) to write')
    .option('--at <date>', 'as of this date (campaign zone), e.g. 2015-10-31; default now')
    .option('--materials <dir>', 'copy every material into DIR/<unit>/<item>/ with an index sheet')
    .action(
      (
        opts: { format?: 'xlsx' | 'csv'; out?: string; at?: string; materials?: string },
        cmd: Command,
      ) =>
        withApp(cmd, async (app, cfg) => {
          if (!opts.out && !opts.materials)
            throw new UsageProblem(
              'say what to write: --out FILE (xlsx or csv) and/or --materials DIR',
            );
          const tz = cfg.checklist.timezone;
          let at: Date;
          try {
            at = opts.at ? parseAt(opts.at, tz) : new Date();
          } catch (err) {
            throw new UsageProblem((err as Error).message);
          }
          const now = new Date();
          const materials = app.store.materials();
          const matrix = statusMatrixFromColumns(
            cfg.units,
            cfg.checklist.items,
            loadSubmissionColumns(app.store.db, at),
            at,
            { year: cfg.checklist.year, timeZone: tz, dueSoonDays: cfg.reminders.dueSoonDays },
          );
          if (opts.out) {
            const format = opts.format ?? (/\.csv$/i.test(opts.out) ? 'csv' : 'xlsx');
            const sheet1 = matrixTable(matrix);
            const sheet2 = materialsTable(materials, matrix, tz);
            if (format === 'xlsx') {
              // exceljs is ~28 MB of heap: loaded only by export, never by the daemon.
              const { writeXlsx } = await import('../export/xlsx.js');
              await writeXlsx(
                opts.out,
                [sheet1, sheet2, notesTable(matrix, cfg.campaign.name)],
                now,
              );
              out.write(
                `已写入 ${opts.out}（${sheet1.rows.length} 个单位，${sheet2.rows.length} 件材料，截至 ${formatDateTime(at, tz)}）\n`,
              );
            } else {
              const second = opts.out.replace(/(\.csv)?$/i, '-材料清单.csv');
              writeCsv(opts.out, sheet1);
              writeCsv(second, sheet2);
              out.write(`已写入 ${opts.out} 和 ${second}（截至 ${formatDateTime(at, tz)}）\n`);
            }
          }
          if (opts.materials) {
            const { exportMaterials } = await import('../export/materials.js');
            const r = await exportMaterials({
              dir: opts.materials,
              dataRoot: cfg.dataDir,
              materials,
              units: cfg.units,
              items: cfg.checklist.items,
              timeZone: tz,
              at,
              now,
            });
            out.write(
              `已导出到 ${r.dir}：文件 ${r.copied} 个，链接 ${r.links} 个${r.missing ? `，找不到的文件 ${r.missing} 个（见索引）` : ''}；索引 ${r.index}\n`,
            );
          }
        }),
    );

  // --- import -----------------------------------------------------------------------------
  program
    .command('import')
    .description('backfill: .eml files, folders of them and mbox files through the intake pipeline')
    .argument(
      '<paths...>',
      '.eml files, folders, mbox files (Thunderbird folders, webmail exports)',
    )
    .option('--send-receipts', 'answer the imported mail with receipts (default: record only)')
    .option('--json', 'print the summary as JSON')
    .action((paths: string[], opts: { sendReceipts?: boolean; json?: boolean }, cmd: Command) =>
      withApp(
        cmd,
        async (app) => {
          const reviews = new ReviewStore(app.store.db);
          const backfill = new Backfill({
            intake: app.intake,
            store: app.store,
            materialsOf: (id) => reviews.materialsOf(id),
          });
          const tty = errOut.isTTY === true && !opts.json;
          const summary = await backfill.run(paths, tty ? progressBar(errOut) : undefined);
          if (tty) errOut.write('\r\u001b[K');
          let sent: number | null = null;
          if (opts.sendReceipts) sent = (await app.outbox.flush()).sent;
          out.write(
            opts.json
              ? JSON.stringify({ ...summary, receiptsSent: sent }, null, 2) + '\n'
              : renderSummary(summary, opts.sendReceipts ?? false, sent),
          );
        },
        { intake: { sendReceipts: opts.sendReceipts ?? false } },
      ),
    );

  // --- checklist import ---------------------------------------------------------------------
  const checklist = program.command('checklist').description("the notice's checklist");
  checklist
    .command('import')
    .description(
      "read the 督导内容细则 table of a notice and print the config's checklist: as YAML",
    )
    .argument('<file>', 'the notice as text (the table tab-separated, as copied from the document)')
    .option('--year <yyyy>', 'the campaign year the deadlines are read in (default: the notice’s)')
    .option('--no-base', 'do not keep keywords and wording from the config in use')
    .action((file: string, opts: { year?: string; base: boolean }, cmd: Command) => {
      let base: Config | null = null;
      if (opts.base) base = config();
      const year = opts.year === undefined ? undefined : Number(opts.year);
      if (year !== undefined && !(Number.isInteger(year) && year >= 2000 && year <= 2100))
        return cmd.error(`baosong: --year "${opts.year}" is not a year like 2016`, { exitCode: 2 });
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        return cmd.error(`baosong: cannot read ${file}: ${(err as Error).message}`, {
          exitCode: 2,
        });
      }
      try {
        const r = checklistFromNotice(text, {
          ...(year !== undefined ? { year } : {}),
          timeZone: base?.checklist.timezone ?? 'Asia/Shanghai',
          ...(base
            ? { tags: new Set(base.units.flatMap((u) => u.tags)), base: base.checklist.items }
            : {}),
        });
        out.write(checklistYaml(r, path.basename(file)));
        for (const p of r.problems) errOut.write(`baosong: ${p}\n`);
        if (r.dropped.length)
          errOut.write(
            `baosong: items of the current config not in this notice: ${r.dropped.join(', ')}\n`,
          );
        if (r.problems.length) process.exitCode = 1;
      } catch (err) {
        if (err instanceof ChecklistImportError)
          return cmd.error(`baosong: ${err.message}`, { exitCode: 2 });
        throw err;
      }
    });

  // --- check --------------------------------------------------------------------------------
  program
    .command('check')
    .description(
      'validate the config, log in to IMAP and SMTP, show capabilities and mailbox size; sends nothing',
    )
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const r = await runCheck(deps.configFile());
      out.write(opts.json ? JSON.stringify(r, null, 2) + '\n' : renderCheck(r));
      if (!r.ok) process.exitCode = 1;
    });

  // --- units --------------------------------------------------------------------------------
  program
    .command('units')
    .description(
      'the roster: every known address (config and learned in review), tags, items that apply',
    )
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }, cmd: Command) =>
      withApp(cmd, (app, cfg) => {
        const rows = unitsJson(cfg, new ReviewStore(app.store.db).learnedAddresses());
        if (opts.json) {
          out.write(JSON.stringify(rows, null, 2) + '\n');
          return;
        }
        const tz = cfg.checklist.timezone;
        const lines: string[] = [];
        for (const u of rows) {
          lines.push(`${u.name}（${u.code}）  标签：${u.tags.join('、') || '—'}`);
          if (u.shortNames.length) lines.push(`  简称：${u.shortNames.join('、')}`);
          if (u.addresses.length === 0) lines.push('  地址：（无）');
          u.addresses.forEach((a, i) => {
            const src =
              a.source === 'config'
                ? '配置文件'
                : `复核确认，${'learnedBy' in a ? a.learnedBy : ''} ${'learnedAt' in a ? day(a.learnedAt, tz) : ''}`;
            lines.push(`  ${i === 0 ? '地址：' : '      '}${a.address}（${src}）`);
          });
          lines.push(
            `  适用事项（${u.items.length}/${cfg.checklist.items.length}）：${u.items.map(displayCode).join('、')}`,
          );
        }
        lines.push(`${rows.length} 个单位`);
        out.write(lines.join('\n') + '\n');
      }),
    );
}

/** A request that cannot be carried out as given: the message says what to do. */
class UsageProblem extends Error {}
