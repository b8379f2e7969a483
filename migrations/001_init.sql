-- Messages as they reached the mailbox. One row per distinct message (by Message-ID or
-- content hash); how it was reached (IMAP UID, file) is in message_sources.
CREATE TABLE messages (
  id            INTEGER PRIMARY KEY,
  message_id    TEXT,                 -- Message-ID header without <>, NULL if absent
  sha256        TEXT NOT NULL UNIQUE, -- of the raw bytes
  raw_path      TEXT NOT NULL,        -- relative to the data folder
  size          INTEGER NOT NULL,
  received_at   TEXT NOT NULL,        -- ISO UTC; IMAP INTERNALDATE: what counts for "on time"
  date_header   TEXT,
  from_address  TEXT,
  from_name     TEXT,
  subject       TEXT NOT NULL DEFAULT '',
  kind          TEXT NOT NULL CHECK (kind IN ('submission', 'not_submission', 'failed')),
  reason        TEXT NOT NULL,        -- why: unit decision, or why not a submission, or the error
  unit          TEXT,
  unit_confirmed INTEGER NOT NULL DEFAULT 0,
  reply         TEXT NOT NULL DEFAULT 'none', -- 'queued', 'suppressed: <why>', 'none'
  recorded_at   TEXT NOT NULL
);
CREATE UNIQUE INDEX messages_message_id ON messages(message_id) WHERE message_id IS NOT NULL;
CREATE INDEX messages_unit ON messages(unit);

-- Processed mail: one row per (mailbox, UIDVALIDITY, UID), written in the same transaction
-- as the result. Never the \Seen flag: clerks read the same mailbox in webmail.
CREATE TABLE message_sources (
  mailbox       TEXT NOT NULL,
  uidvalidity   INTEGER NOT NULL,
  uid           INTEGER NOT NULL,
  message       INTEGER REFERENCES messages(id),
  status        TEXT NOT NULL CHECK (status IN ('recorded', 'duplicate', 'failed')),
  error         TEXT,
  processed_at  TEXT NOT NULL,
  PRIMARY KEY (mailbox, uidvalidity, uid)
);

CREATE TABLE materials (
  id            INTEGER PRIMARY KEY,
  message       INTEGER NOT NULL REFERENCES messages(id),
  kind          TEXT NOT NULL CHECK (kind IN ('file', 'link')),
  filename      TEXT NOT NULL,        -- decoded original name; the URL for links
  sha256        TEXT,
  size          INTEGER,
  path          TEXT,                 -- relative to the data folder
  content_type  TEXT,
  access_code   TEXT,                 -- 提取码 of a link
  unit          TEXT,
  item          TEXT,
  confirmed     INTEGER NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('credited', 'review', 'rejected')),
  reason        TEXT NOT NULL
);
CREATE INDEX materials_message ON materials(message);
CREATE INDEX materials_unit_item ON materials(unit, item);
CREATE INDEX materials_status ON materials(status);

-- Every outgoing mail is a row first, then sent. dedupe_key makes queuing idempotent.
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,
  dedupe_key      TEXT NOT NULL UNIQUE,
  kind            TEXT NOT NULL,      -- 'receipt', 'reminder', 'summary'
  message         INTEGER REFERENCES messages(id),
  to_address      TEXT NOT NULL,
  subject         TEXT NOT NULL,
  text            TEXT NOT NULL,
  html            TEXT NOT NULL,
  headers         TEXT NOT NULL,      -- JSON object of extra headers
  mail_message_id TEXT NOT NULL,      -- our Message-ID, fixed before the first try
  status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  last_error      TEXT,
  created_at      TEXT NOT NULL,
  sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_to ON outbox(to_address, kind, created_at);
