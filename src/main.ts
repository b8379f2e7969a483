// The composition root: config → adapters → use cases. The only place that decides which
// concrete adapter is used; everything below receives its collaborators.
import path from 'node:path';
import type { Logger } from 'pino';
import { Classifier, type Rules } from './core/classify.js';
import { SystemClock, type Clock } from './core/clock.js';
import type { Config } from './config/types.js';
import { ImapSource } from './intake/imap.js';
import { ParsePool } from './intake/parse-pool.js';
import { Intake, type IntakeOptions } from './intake/pipeline.js';
import { Outbox } from './outbox/outbox.js';
import { LearningClassifier, withLearnedAddresses, type LearnedPair } from './review/learned.js';
import { FileSender, SmtpSender, type MailSender } from './outbox/senders.js';
import { DataFolder } from './store/files.js';
import { ReviewStore } from './store/review-store.js';
import { SqliteStore } from './store/sqlite.js';
import { RemindersJob } from './schedule/reminders.js';

export interface AppOptions {
  log: Logger;
  clock?: Clock;
  /** Write outgoing mail as .eml files into this folder instead of sending (demo). */
  outboxToFolder?: string;
  /** Deliver outgoing mail with this sender instead (tests that wire two instances). */
  sender?: MailSender;
  intake?: IntakeOptions;
  /**
   * Parse in this many worker threads (see intake/parse-pool.ts; `defaultParseWorkers()` is
   * one per core). 0 or absent: in the main thread, as the tests and short commands want.
   */
  parseWorkers?: number;
}

export interface App {
  config: Config;
  store: SqliteStore;
  data: DataFolder;
  classifier: Classifier;
  intake: Intake;
  outbox: Outbox;
  imap: ImapSource;
  reminders: RemindersJob;
  clock: Clock;
  /**
   * For the daemon only, at start: mails a killed run left 'sending' go back to the queue.
   * Never from a command that may run beside a live daemon, which may be sending them now.
   */
  recoverInterrupted(): void;
  log: Logger;
  close(): void;
}

/** The classification rules a config holds. */
export function rulesFor(config: Config): Rules {
  return {
    items: config.checklist.items,
    units: config.units,
    ownAddress: config.from,
    trustedAuthServIds: config.trust.authservIds,
  };
}

/** `learned`: sender addresses confirmed in review (the database), added to their units. */
export function classifierFor(config: Config, learned: readonly LearnedPair[] = []): Classifier {
  return new Classifier({
    ...rulesFor(config),
    units: withLearnedAddresses(config.units, learned),
  });
}

export function buildApp(config: Config, opts: AppOptions): App {
  const log = opts.log;
  const clock = opts.clock ?? new SystemClock();
  const data = new DataFolder(config.dataDir);
  const store = new SqliteStore(path.join(config.dataDir, 'baosong.db'));
  // Rebuilds its lookups when a clerk confirms a sender (review confirm-sender) while it runs.
  const classifier = new LearningClassifier(rulesFor(config), new ReviewStore(store.db));
  const pool =
    opts.parseWorkers && opts.parseWorkers > 0
      ? new ParsePool({
          workers: opts.parseWorkers,
          onWorkerDeath: (reason, jobs) =>
            log.error(
              { event: 'intake.parser_died', reason, jobs },
              'a parser thread stopped; its messages are tried again on a new one',
            ),
        })
      : null;
  const intake = new Intake(
    { store, data, classifier, config, clock, log, ...(pool ? { parse: pool.parse } : {}) },
    opts.intake,
  );
  const sender: MailSender =
    opts.sender ??
    (opts.outboxToFolder
      ? new FileSender(opts.outboxToFolder, config.from)
      : new SmtpSender(config.smtp, config.from));
  const outbox = new Outbox({ store, sender, clock, log });
  const imap = new ImapSource({
    settings: config.imap,
    store,
    intake,
    log,
    afterBatch: () => outbox.flush(),
  });
  const reminders = new RemindersJob({ store, config, clock, log, settings: config.reminders });
  return {
    config,
    store,
    data,
    classifier,
    intake,
    outbox,
    imap,
    reminders,
    clock,
    log,
    recoverInterrupted() {
      const leftovers = data.cleanTmp();
      if (leftovers)
        log.info(
          { event: 'data.tmp_cleaned', files: leftovers },
          'removed temp files left by an interrupted run',
        );
      const requeued = store.requeueInterrupted();
      if (requeued)
        log.warn(
          { event: 'outbox.requeued', mails: requeued },
          'mails interrupted while sending will be tried again',
        );
    },
    close() {
      void pool?.close();
      sender.close();
      store.close();
    },
  };
}
