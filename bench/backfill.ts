// Child process: baosong's full intake of a mailbox into an empty data folder, wired as the
// daemon wires it (buildApp, parse threads as `run` has them): download, store the raw mail,
// parse, classify, store files and rows, queue receipts. Timed from before buildApp to the end
// of the catch-up. Sending the queued receipts is the outbox's work, not intake's, and is left
// out (the catch-up here has no afterBatch); the latency run covers sending.
import { loadConfig } from '../src/config/load.js';
import { ImapSource } from '../src/intake/imap.js';
import { defaultParseWorkers } from '../src/intake/parse-pool.js';
import { createLogger } from '../src/log.js';
import { buildApp } from '../src/main.js';
import { reportToParent } from './child.js';

const configFile = process.argv[2];
if (!configFile) throw new Error('usage: backfill.js CONFIG');
const workers = process.env.BENCH_PARSE_WORKERS;
const config = loadConfig(configFile, process.env);
const log = createLogger(process.env.BAOSONG_LOG_LEVEL ?? 'info', false);
const t0 = performance.now();
const app = buildApp(config, {
  log,
  parseWorkers: workers !== undefined ? Number(workers) : defaultParseWorkers(),
});
const source = new ImapSource({ settings: config.imap, store: app.store, intake: app.intake, log });
const results = await source.once();
const ms = performance.now() - t0;
const counts = app.store.messageCounts();
const outbox = app.store.outboxCounts();
const materials = (
  app.store.db.prepare('SELECT COUNT(*) AS n FROM materials').get() as { n: number }
).n;
app.close();
reportToParent({ messages: results.length, ms, counts, outbox, materials });
