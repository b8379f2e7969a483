import type { ReminderSettings } from '../core/reminder.js';
import type { Checklist, Unit } from '../core/types.js';

/** The validated, frozen configuration. Built once by loadConfig(); nothing else reads env. */
export interface Config {
  /** Path of the file it was read from (for messages). */
  file: string;
  campaign: {
    /** Shown in mails, e.g. 惠济区2015年推进服务型行政执法建设. */
    name: string;
    /** The office that runs the campaign, signs the mails. */
    office: string;
    /** Office addresses that receive summaries. */
    officeAddresses: string[];
  };
  /** The mailbox's own address; receipts are sent from it and mail from it is never answered. */
  from: string;
  dataDir: string;
  imap: {
    host: string;
    port: number;
    tls: boolean;
    user: string;
    password: string;
    mailbox: string;
    /** Fallback poll when IDLE is silent, seconds. */
    pollSeconds: number;
    /** Move processed mail to this folder; null = never change the mailbox. */
    moveTo: string | null;
  };
  smtp: {
    host: string;
    port: number;
    tls: boolean;
    user: string;
    password: string;
  };
  receipts: {
    /** Cap of receipts to one sender address within an hour. */
    perSenderPerHour: number;
  };
  /** Size limits for incoming mail (see core/limits.ts for the defaults and why). */
  limits: {
    /** Largest single attachment stored, MB (MiB); a larger one is listed, not stored. */
    maxAttachmentMb: number;
    /** All decoded attachments of one mail together, MB (MiB). */
    maxMessageMb: number;
  };
  /** Weekly digests to late units and the office summary. */
  reminders: ReminderSettings;
  /** Whose Authentication-Results to believe when a unit's address is forged. */
  trust: {
    /** authserv-ids of the mailbox provider's receiving servers; empty = believe none. */
    authservIds: string[];
  };
  checklist: Checklist;
  units: Unit[];
}
