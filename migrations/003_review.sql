-- The review queue's memory: every decision a clerk takes (the audit), and the sender
-- addresses those decisions taught us. The config file stays the operator's: an address
-- learned here is merged into the roster when the classifier is built.

-- One row per `review assign|confirm-sender|reject`: who, when, what it was before and after.
CREATE TABLE review_decisions (
  id          INTEGER PRIMARY KEY,
  decided_at  TEXT NOT NULL,                 -- ISO UTC
  decided_by  TEXT NOT NULL,                 -- the clerk (--by, else the login name)
  action      TEXT NOT NULL CHECK (action IN ('assign', 'confirm_sender', 'reject')),
  message     INTEGER NOT NULL REFERENCES messages(id),
  material    INTEGER REFERENCES materials(id), -- NULL: the decision is about the whole message
  before      TEXT NOT NULL,                 -- JSON: the rows as they were
  after       TEXT NOT NULL,                 -- JSON: the rows as the decision left them
  note        TEXT,                          -- the reason given for a rejection
  receipts    TEXT                           -- JSON list of outbox dedupe keys queued, or NULL
);
CREATE INDEX review_decisions_message ON review_decisions(message);
CREATE INDEX review_decisions_material ON review_decisions(material);

-- A sender address a clerk confirmed as a unit's: the next mail from it is credited directly.
CREATE TABLE learned_addresses (
  address     TEXT PRIMARY KEY,              -- lower-case
  unit        TEXT NOT NULL,
  learned_at  TEXT NOT NULL,
  learned_by  TEXT NOT NULL,
  decision    INTEGER NOT NULL REFERENCES review_decisions(id)
);
