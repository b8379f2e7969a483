// The reminders use case: compute the status, decide who is reminded, and queue the unit
// digests and the office summary in the outbox. Queuing is idempotent: every mail has a
// dedupe key per unit and ISO week (`reminder:<unit>:<week>`, `summary:<week>`), so a
// restart, a second trigger or a manual `remind` in the same week queues nothing new.
// Sending, retries and refusals are the outbox's job.
import { endOfDay } from '../core/deadlines.js';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import {
  DEFAULT_REMINDER_SETTINGS,
  digestWriter,
  planReminders,
  reminderKey,
  summaryKey,
  summaryText,
  weekKey,
  type MailAttachment,
  type ReminderSettings,
} from '../core/reminder.js';
import { statusMatrixFromColumns, type StatusMatrix } from '../core/status.js';
import type { Config } from '../config/types.js';
import { loadSubmissionColumns, queuedKeysForPeriod } from '../store/status-queries.js';
import type { OutboxMail, SqliteStore } from '../store/sqlite.js';
import type { WeeklyJob } from './cron.js';

/** RFC 3834: machine-made, bulk, and no out-of-office replies back to us, please. */
export const BULK_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Auto-Submitted': 'auto-generated',
  Precedence: 'bulk',
  'X-Auto-Response-Suppress': 'All',
});

export interface RemindersDeps {
  store: SqliteStore;
  config: Config;
  clock: Clock;
  log: Logger;
  settings?: ReminderSettings;
}

export type RemindersPart = 'all' | 'digests' | 'summary';

export interface RunOptions {
  /** Decide and report, queue nothing. */
  dryRun?: boolean;
  /** When this week's run was planned; default `at`. See planReminders(). */
  plannedFor?: Date;
  /** The scheduler runs digests and summary at their own times; the CLI runs both. */
  parts?: RemindersPart;
}

export interface PlannedMail {
  kind: 'reminder' | 'summary';
  dedupeKey: string;
  /** The unit of a digest; null for the summary. */
  unit: string | null;
  /** Recipients, comma-separated ('' when the unit has no address). */
  to: string;
  subject: string;
  /** Item codes a digest asks for. */
  overdue: string[];
  dueSoon: string[];
  outcome: 'queued' | 'already_queued' | 'would_queue' | 'no_address';
  /** Earliest time the outbox sends it: mails are spaced by `sendsPerMinute`. */
  sendAfter: Date | null;
}

export interface RemindersResult {
  at: Date;
  plannedFor: Date;
  period: string;
  dryRun: boolean;
  mails: PlannedMail[];
  /** Mails queued by this run (0 on a dry run or a repeat). */
  queued: number;
  matrix: StatusMatrix;
}

export class RemindersJob {
  private readonly settings: ReminderSettings;

  constructor(private readonly deps: RemindersDeps) {
    this.settings = deps.settings ?? DEFAULT_REMINDER_SETTINGS;
  }

  /** Status at `at` (default now): what the digests and the summary are computed from. */
  matrix(at: Date = this.deps.clock.now()): StatusMatrix {
    const { config, store } = this.deps;
    // As columns: a province's 200,000 materials never become 200,000 objects and Dates.
    const submissions = loadSubmissionColumns(store.db, at);
    return statusMatrixFromColumns(config.units, config.checklist.items, submissions, at, {
      year: config.checklist.year,
      timeZone: config.checklist.timezone,
      dueSoonDays: this.settings.dueSoonDays,
    });
  }

  run(at: Date = this.deps.clock.now(), opts: RunOptions = {}): RemindersResult {
    const { config, store, clock, log } = this.deps;
    const tz = config.checklist.timezone;
    const dryRun = opts.dryRun ?? false;
    const parts = opts.parts ?? 'all';
    const plannedFor = opts.plannedFor ?? at;
    const period = weekKey(plannedFor, tz);
    const matrix = this.matrix(at);
    // A campaign belongs to its year: once the year is over, the evaluation is done and
    // chasing units would only be noise (a 2015 mailbox watched in 2016 asks nothing).
    const campaignEnd = endOfDay(config.checklist.year, 12, 31, tz);
    if (plannedFor.getTime() > campaignEnd.getTime()) {
      log.info(
        { event: 'reminders.campaign_over', year: config.checklist.year },
        'campaign year is over: no reminders',
      );
      return { at, plannedFor, period, dryRun, mails: [], queued: 0, matrix };
    }
    const already = queuedKeysForPeriod(store.db, period);
    const domain = config.from.split('@')[1] ?? 'localhost';

    // Pacing by due time, not by sleeping: the outbox sends each row when it is due, so a
    // receipt that arrives meanwhile is not stuck behind 22 reminders.
    const gapMs = this.settings.sendsPerMinute > 0 ? 60_000 / this.settings.sendsPerMinute : 0;
    const start = clock.now().getTime();
    let slot = 0;
    const mails: PlannedMail[] = [];

    const queue = (
      planned: Omit<PlannedMail, 'outcome' | 'sendAfter'>,
      mail: OutboxMail & { attachments?: MailAttachment[] },
    ): void => {
      if (!planned.to) {
        mails.push({ ...planned, outcome: 'no_address', sendAfter: null });
        log.warn(
          { event: 'reminders.no_address', kind: planned.kind, unit: planned.unit },
          planned.unit ? 'unit has no address to remind' : 'no office address for the summary',
        );
        return;
      }
      if (already.has(planned.dedupeKey)) {
        mails.push({ ...planned, outcome: 'already_queued', sendAfter: null });
        return;
      }
      const sendAfter = new Date(start + slot * gapMs);
      if (dryRun) {
        slot++;
        mails.push({ ...planned, outcome: 'would_queue', sendAfter });
        return;
      }
      // enqueue's `now` is both created_at and the first send time: the paced slot.
      const fresh = store.enqueue(mail, null, sendAfter);
      if (fresh) slot++;
      mails.push({
        ...planned,
        outcome: fresh ? 'queued' : 'already_queued',
        sendAfter: fresh ? sendAfter : null,
      });
      if (fresh)
        log.info(
          {
            event: 'reminders.queued',
            kind: mail.kind,
            key: mail.dedupeKey,
            to: mail.to,
            sendAfter,
          },
          `${mail.kind} queued`,
        );
    };

    store.transaction(() => {
      if (parts !== 'summary') {
        const digest = digestWriter({
          campaign: config.campaign.name,
          office: config.campaign.office,
          mailbox: config.from,
          timeZone: tz,
          items: config.checklist.items,
          now: at,
        });
        for (const r of planReminders(matrix, at, this.settings.dueSoonDays, plannedFor)) {
          const text = digest(r);
          const key = reminderKey(r.unit.code, period);
          const to = r.unit.addresses.join(', ');
          queue(
            {
              kind: 'reminder',
              dedupeKey: key,
              unit: r.unit.code,
              to,
              subject: text.subject,
              overdue: r.overdue.map((c) => c.item),
              dueSoon: r.dueSoon.map((c) => c.item),
            },
            {
              dedupeKey: key,
              kind: 'reminder',
              to,
              ...text,
              headers: { ...BULK_HEADERS },
              mailMessageId: `<reminder.${r.unit.code}.${period}@${domain}>`,
            },
          );
        }
      }
      if (parts !== 'digests') {
        const remindedKeys = new Set([
          ...[...already].filter((k) => k.startsWith('reminder:')),
          ...mails
            .filter((m) => m.kind === 'reminder' && m.outcome !== 'no_address')
            .map((m) => m.dedupeKey),
        ]);
        const s = summaryText({
          campaign: config.campaign.name,
          office: config.campaign.office,
          timeZone: tz,
          matrix,
          week: period,
          reminded: remindedKeys.size,
          undeliverable: store.undeliverable(),
        });
        const key = summaryKey(period);
        const to = config.campaign.officeAddresses.join(', ');
        queue(
          {
            kind: 'summary',
            dedupeKey: key,
            unit: null,
            to,
            subject: s.subject,
            overdue: [],
            dueSoon: [],
          },
          {
            dedupeKey: key,
            kind: 'summary',
            to,
            subject: s.subject,
            text: s.text,
            html: s.html,
            headers: { ...BULK_HEADERS },
            mailMessageId: `<summary.${period}@${domain}>`,
            attachments: [s.attachment],
          },
        );
      }
    });

    const queued = mails.filter((m) => m.outcome === 'queued').length;
    log.info(
      {
        event: 'reminders.run',
        period,
        at,
        plannedFor,
        dryRun,
        parts,
        queued,
        already: mails.filter((m) => m.outcome === 'already_queued').length,
        wouldQueue: mails.filter((m) => m.outcome === 'would_queue').length,
      },
      dryRun ? 'reminders dry run' : 'reminders run',
    );
    return { at, plannedFor, period, dryRun, mails, queued, matrix };
  }
}

/**
 * The two weekly jobs for the CronScheduler: digests at `unitSchedule`, the summary at
 * `summarySchedule`. `afterRun` (e.g. outbox.flush) runs when something was queued.
 */
export function reminderJobs(
  job: RemindersJob,
  settings: ReminderSettings = DEFAULT_REMINDER_SETTINGS,
  afterRun?: () => unknown,
): WeeklyJob[] {
  const make = (name: string, schedule: string, parts: RemindersPart): WeeklyJob => ({
    name,
    schedule,
    run: async (at, plannedFor) => {
      const r = job.run(at, { plannedFor, parts });
      if (r.queued > 0 && afterRun) await afterRun();
      return r;
    },
  });
  return [
    make('reminders', settings.unitSchedule, 'digests'),
    make('summary', settings.summarySchedule, 'summary'),
  ];
}
