// The shape of config/*.yaml, as zod schemas. Pure validation: no I/O, no env.
// Every object is strict, so a misspelt key is reported instead of silently ignored.
// Custom messages start with "expected": the loader appends ", found <value>".
// Cross-field rules (duplicate codes, sub-item numbering, an address under two units)
// live in load.ts, which checks them on the raw data so that all problems come out at once.
import * as z from 'zod';
import { DEFAULT_MAX_ATTACHMENT_MB, DEFAULT_MAX_MESSAGE_MB } from '../core/limits.js';
import { DEFAULT_REMINDER_SETTINGS } from '../core/reminder.js';

/** Deliberately plain: what clerks' mail systems actually use (ASCII local part, dotted domain). */
export const EMAIL_RE = /^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/;

const text = (what = 'non-empty text') =>
  z
    .string({ error: `expected ${what}` })
    .refine((s) => s.trim() !== '', { error: `expected ${what}` });

const email = z
  .string()
  .regex(EMAIL_RE, { error: 'expected an e-mail address like name@example.com' });

const PORT = 'expected a port number from 1 to 65535';
const port = z.number().int({ error: PORT }).min(1, { error: PORT }).max(65535, { error: PORT });

const positiveInt = (what: string) =>
  z
    .number()
    .int({ error: `expected ${what}` })
    .min(1, { error: `expected ${what}` });

/** Sizes in MB (MiB); fractions allowed (0.5), capped where a file system or a mail still makes sense. */
const MEGABYTES = 'expected a size in MB greater than 0 and at most 4096';
const megabytes = z
  .number({ error: MEGABYTES })
  .gt(0, { error: MEGABYTES })
  .max(4096, { error: MEGABYTES });

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Item codes: "1", "2.1" (digits and dots; letters allowed for odd notices, no spaces). */
const itemCode = z
  .string()
  .regex(/^[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$/, { error: 'expected an item code like "2" or "2.1"' });

const tags = z.array(text('a tag'));
const keywords = z.array(text('a keyword')).min(1, { error: 'expected at least one keyword' });

export const subItemSchema = z.strictObject({
  code: itemCode,
  title: text(),
  /** Omitted = the group's deadline (a merged cell in the notice's table). */
  deadline: text('a deadline such as 5月底之前').optional(),
  /** Omitted = the group's appliesTo. */
  appliesTo: tags.optional(),
  keywords,
});

/** A top-level row: either an item (keywords, no items) or a group (items, no keywords). */
export const itemSchema = z.strictObject({
  code: itemCode,
  title: text(),
  deadline: text('a deadline such as 5月底之前'),
  appliesTo: tags.optional(),
  keywords: keywords.optional(),
  items: z.array(subItemSchema).min(1, { error: 'expected at least one sub-item' }).optional(),
});

export const unitSchema = z.strictObject({
  code: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, {
    error: 'expected a unit code of lower-case letters, digits, - or _',
  }),
  name: text(),
  shortNames: z.array(text('a short name')).default([]),
  tags: tags.default([]),
  addresses: z.array(email).default([]),
});

export const configSchema = z.strictObject({
  campaign: z.strictObject({
    name: text(),
    year: z
      .number()
      .int({ error: 'expected a year like 2015' })
      .min(2000, { error: 'expected a year like 2015' })
      .max(2100, { error: 'expected a year like 2015' }),
    timezone: z
      .string()
      .refine(isTimeZone, { error: 'expected an IANA time zone like Asia/Shanghai' }),
    office: text(),
    officeAddresses: z.array(email).min(1, { error: 'expected at least one address' }),
  }),
  from: email,
  dataDir: text('a folder path'),
  imap: z.strictObject({
    host: text('a host name'),
    port,
    tls: z.boolean().default(true),
    user: text('a login name'),
    mailbox: text('a mailbox name').default('INBOX'),
    pollSeconds: positiveInt('a whole number of seconds, at least 1').default(60),
    moveTo: text('a mailbox name').nullable().default(null),
  }),
  smtp: z.strictObject({
    host: text('a host name'),
    port,
    tls: z.boolean().default(true),
    user: text('a login name'),
  }),
  receipts: z
    .strictObject({
      perSenderPerHour: z
        .number()
        .int({ error: 'expected a whole number, 0 or more' })
        .min(0, { error: 'expected a whole number, 0 or more' }),
    })
    .default({ perSenderPerHour: 5 }),
  reminders: z
    .strictObject({
      unitSchedule: z.string().min(1).default(DEFAULT_REMINDER_SETTINGS.unitSchedule),
      summarySchedule: z.string().min(1).default(DEFAULT_REMINDER_SETTINGS.summarySchedule),
      dueSoonDays: z
        .number()
        .int({ error: 'expected a whole number of days, 0 or more' })
        .min(0, { error: 'expected a whole number of days, 0 or more' })
        .default(DEFAULT_REMINDER_SETTINGS.dueSoonDays),
      sendsPerMinute: z
        .number()
        .min(0, { error: 'expected sends per minute, 0 (no pacing) or more' })
        .default(DEFAULT_REMINDER_SETTINGS.sendsPerMinute),
      skipHolidays: z.boolean().default(DEFAULT_REMINDER_SETTINGS.skipHolidays),
    })
    .default({ ...DEFAULT_REMINDER_SETTINGS }),
  limits: z
    .strictObject({
      maxAttachmentMb: megabytes.default(DEFAULT_MAX_ATTACHMENT_MB),
      maxMessageMb: megabytes.default(DEFAULT_MAX_MESSAGE_MB),
    })
    .refine((l) => l.maxAttachmentMb <= l.maxMessageMb, {
      error: 'expected maxAttachmentMb to be at most maxMessageMb',
      path: ['maxAttachmentMb'],
    })
    .default({ maxAttachmentMb: DEFAULT_MAX_ATTACHMENT_MB, maxMessageMb: DEFAULT_MAX_MESSAGE_MB }),
  trust: z
    .strictObject({
      authservIds: z
        .array(
          z
            .string()
            .regex(/^[A-Za-z0-9.-]+$/, { error: 'expected a server name such as mx.sina.net' }),
        )
        .default([]),
    })
    .default({ authservIds: [] }),
  checklist: z.array(itemSchema).min(1, { error: 'expected at least one item' }),
  units: z.array(unitSchema).min(1, { error: 'expected at least one unit' }),
});

export type RawConfig = z.output<typeof configSchema>;
export type RawItem = z.output<typeof itemSchema>;
export type RawSubItem = z.output<typeof subItemSchema>;

/**
 * The keys a strict object accepts at `path` (array indexes are skipped), for "did you mean"
 * hints on unknown keys. [] when the path does not lead to an object.
 */
export function allowedKeysAt(path: readonly PropertyKey[]): string[] {
  let node: z.core.$ZodType | undefined = configSchema;
  for (const step of [...path, null]) {
    // unwrap optional/nullable/default and arrays until we reach an object (or give up)
    for (;;) {
      if (node === undefined) return [];
      const def = node._zod.def as unknown as {
        type: string;
        innerType?: z.core.$ZodType;
        element?: z.core.$ZodType;
        shape?: Record<string, z.core.$ZodType>;
      };
      if (def.type === 'object') {
        if (step === null) return Object.keys(def.shape ?? {});
        if (typeof step === 'number') return [];
        node = def.shape?.[String(step)];
        break;
      }
      if (def.type === 'array') {
        if (typeof step !== 'number') return [];
        node = def.element;
        break;
      }
      if (def.innerType) {
        node = def.innerType;
        continue;
      }
      return [];
    }
  }
  return [];
}
