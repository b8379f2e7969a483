// The composition root: config → adapters → use cases. The only place that decides which
// concrete adapter is used; everything below receives its collaborators.
import path from 'node:path';
import type { Logger } from 'pino';
import { Classifier } from './core/classify.js';
import { SystemClock, type Clock } from './core/clock.js';
import type { Config } from './config/types.js';
import { ImapSource } from './intake/imap.js';
import { Intake, type IntakeOptions } from './intake/pipeline.js';
import { Outbox } from './outbox/outbox.js';
import { FileSender, SmtpSender, type MailSender } from './outbox/senders.js';
import { DataFolder } from './store/files.js';
import { SqliteStore } from './store/sqlite.js';

export interface AppOptions {
  log: Logger;
  clock?: Clock;
  /** Write outgoing mail as .eml files into this folder instead of sending (demo). */
  outboxToFolder?: string;
  intake?: IntakeOptions;
}

export interface App {
  config: Config;
  store: SqliteStore;
  data: DataFolder;
  classifier: Classifier;
  intake: Intake;
  outbox: Outbox;
  imap: ImapSource;
  log: Logger;
  close(): void;
}

export function classifierFor(config: Config): Classifier {
  return new Classifier({
    items: config.checklist.items,
    units: config.units,
    ownAddress: config.from,
  });
}

export function buildApp(config: Config, opts: AppOptions): App {
  const log = opts.log;
  const clock = opts.clock ?? new SystemClock();
  const data = new DataFolder(config.dataDir);
  const leftovers = data.cleanTmp();
  if (leftovers)
    log.info(
      { event: 'data.tmp_cleaned', files: leftovers },
      'removed temp files left by an interrupted run',
    );
  const store = new SqliteStore(path.join(config.dataDir, 'baosong.db'));
  const requeued = store.requeueInterrupted();
  if (requeued)
    log.warn(
      { event: 'outbox.requeued', mails: requeued },
      'mails interrupted while sending will be tried again',
    );
  const classifier = classifierFor(config);
  const intake = new Intake({ store, data, classifier, config, clock, log }, opts.intake);
  const sender: MailSender = opts.outboxToFolder
    ? new FileSender(opts.outboxToFolder, config.from)
    : new SmtpSender(config.smtp, config.from);
  const outbox = new Outbox({ store, sender, clock, log });
  const imap = new ImapSource({
    settings: config.imap,
    store,
    intake,
    log,
    afterBatch: () => outbox.flush(),
  });
  return {
    config,
    store,
    data,
    classifier,
    intake,
    outbox,
    imap,
    log,
    close() {
      sender.close();
      store.close();
    },
  };
}
