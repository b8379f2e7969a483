// CronScheduler: the only module that imports node-cron. It starts weekly jobs at their
// planned time, in the campaign's zone:
//   - the planned time of a week is the job's first cron occurrence in that ISO week, moved
//     to the next working day when it falls on a public holiday (same wall-clock time);
//   - a tick runs every minute and starts each job whose planned time has come and that this
//     process has not run for it yet; a job still running is not started again;
//   - catch-up: the first check runs at start(), so a daemon that was down at 09:00 Monday
//     runs the week's job once when it comes back the same week.
// A restart forgets what ran; that is safe because the jobs are idempotent (the outbox's
// dedupe keys), which is also why a tick only starts a job and never waits on, or retries
// inside, it.
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { weekKey } from '../core/reminder.js';
import {
  addDays,
  localDay,
  moveToWorkday,
  zoneOffsetMs,
  type WorkCalendar,
} from '../core/workdays.js';

export interface WeeklyJob {
  name: string;
  /** Cron expression (5 fields, or 6 with seconds) in the scheduler's zone. */
  schedule: string;
  /** Must be idempotent: it may run again for the same planned time after a restart. */
  run(at: Date, plannedFor: Date): unknown;
}

export class ScheduleError extends Error {
  readonly code = 'SCHEDULE_INVALID';
}

export interface CronSchedulerDeps {
  clock: Clock;
  log: Logger;
  timeZone: string;
  /** Working days; null = run on the cron time even on holidays. */
  calendar: WorkCalendar | null;
}

interface Entry {
  job: WeeklyJob;
  matcher: ScheduledTask;
  /** Earliest second of the expression's seconds field (0 for 5-field expressions). */
  second: number;
  /** Planned time per ISO week, computed once a week. */
  plan: { week: string; at: Date | null } | null;
  /** Planned time (ms) this process last ran the job for. */
  done: number | null;
  running: Promise<void> | null;
}

const MINUTE_MS = 60_000;
const WEEK_MS = 7 * 86_400_000;

export class CronScheduler {
  private readonly entries: Entry[] = [];
  private ticker: ScheduledTask | null = null;

  constructor(private readonly deps: CronSchedulerDeps) {}

  add(job: WeeklyJob): void {
    const v = cron.validateDetailed(job.schedule);
    if (!v.valid) {
      throw new ScheduleError(
        `${job.name}: "${job.schedule}" is not a cron expression (${v.errors.map((e) => e.message).join('; ')}); write it like "0 9 * * 1" (Mondays 09:00)`,
      );
    }
    // A task that is never started: node-cron's own matcher, zone included, for plannedRun().
    const matcher = cron.createTask(job.schedule, () => undefined, {
      timezone: this.deps.timeZone,
      name: `${job.name}:matcher`,
    });
    const second = Math.min(...cron.parse(job.schedule).second);
    this.entries.push({ job, matcher, second, plan: null, done: null, running: null });
  }

  /**
   * The job's planned time in the ISO week of `now`: its first occurrence that week, moved
   * off a holiday; null when the expression has no occurrence that week.
   */
  plannedRun(name: string, now: Date = this.deps.clock.now()): Date | null {
    const e = this.entries.find((x) => x.job.name === name);
    if (!e) throw new ScheduleError(`no job named ${name}`);
    return this.planFor(e, now);
  }

  /** Starts every job whose planned time has come; resolves when those runs have ended. */
  async check(now: Date = this.deps.clock.now()): Promise<void> {
    const started: Promise<void>[] = [];
    for (const e of this.entries) {
      const planned = this.planFor(e, now);
      if (!planned || now.getTime() < planned.getTime()) continue;
      if (e.done === planned.getTime()) continue;
      if (e.running) {
        started.push(e.running);
        continue;
      }
      e.running = this.runOne(e, now, planned).finally(() => {
        e.running = null;
      });
      started.push(e.running);
    }
    await Promise.all(started);
  }

  /** First check now (catch-up), then one every minute. */
  start(): void {
    if (this.ticker) return;
    this.tick();
    this.ticker = cron.schedule('* * * * *', () => this.tick(), {
      timezone: this.deps.timeZone,
      name: 'baosong:scheduler',
    });
  }

  /** A tick starts what is due and returns at once: a long run never holds up the next
   * tick, and the per-job `running` guard keeps a job from overlapping itself. */
  private tick(): void {
    this.check().catch((err: unknown) => {
      this.deps.log.error(
        { event: 'schedule.check_failed', err: (err as Error).message },
        'scheduler check failed',
      );
    });
  }

  /** Stops ticking and waits for running jobs. */
  async stop(): Promise<void> {
    await this.ticker?.destroy();
    this.ticker = null;
    await Promise.all(this.entries.map((e) => e.running));
    for (const e of this.entries) await e.matcher.destroy();
  }

  private async runOne(e: Entry, now: Date, planned: Date): Promise<void> {
    const { log } = this.deps;
    try {
      await e.job.run(now, planned);
      e.done = planned.getTime();
      log.info({ event: 'schedule.ran', job: e.job.name, plannedFor: planned, at: now }, 'job ran');
    } catch (err) {
      // Not marked done: the next tick tries again, and the job's idempotence makes that safe.
      log.error(
        {
          event: 'schedule.failed',
          job: e.job.name,
          plannedFor: planned,
          err: (err as Error).message,
        },
        'scheduled job failed; retrying at the next tick',
      );
    }
  }

  private planFor(e: Entry, now: Date): Date | null {
    const tz = this.deps.timeZone;
    const week = weekKey(now, tz);
    if (e.plan?.week === week) return e.plan.at;
    const start = startOfIsoWeek(now, tz);
    let nominal: Date | null = null;
    // At most 10,080 probes, once a week per job.
    for (let t = start + e.second * 1000; t < start + WEEK_MS; t += MINUTE_MS) {
      if (e.matcher.match(new Date(t))) {
        nominal = new Date(t);
        break;
      }
    }
    const at =
      nominal && this.deps.calendar ? moveToWorkday(nominal, tz, this.deps.calendar) : nominal;
    if (nominal && at && at.getTime() !== nominal.getTime()) {
      this.deps.log.info(
        {
          event: 'schedule.moved',
          job: e.job.name,
          from: localDay(nominal, tz),
          to: localDay(at, tz),
        },
        'planned run falls on a holiday; moved to the next working day',
      );
    }
    e.plan = { week, at };
    return at;
  }
}

/** Epoch ms of Monday 00:00 (wall time in `timeZone`) of the ISO week containing `at`. */
export function startOfIsoWeek(at: Date, timeZone: string): number {
  const day = localDay(at, timeZone);
  const dow = new Date(`${day}T00:00:00Z`).getUTCDay() || 7;
  const monday = addDays(day, 1 - dow);
  const guess = Date.parse(`${monday}T00:00:00Z`);
  return guess - zoneOffsetMs(new Date(guess), timeZone);
}
