-- Bounces of our own mail, matched to the outbox row by our Message-ID, and the addresses
-- they show to be failing: receipts to those stop, and the office summary lists them.
CREATE TABLE bounces (
  id          INTEGER PRIMARY KEY,
  outbox      INTEGER NOT NULL REFERENCES outbox(id),
  message     INTEGER NOT NULL REFERENCES messages(id),
  address     TEXT NOT NULL,
  at          TEXT NOT NULL,
  UNIQUE (outbox, message)
);

CREATE TABLE failing_addresses (
  address     TEXT PRIMARY KEY,
  since       TEXT NOT NULL,
  bounces     INTEGER NOT NULL,
  last_reason TEXT NOT NULL
);
