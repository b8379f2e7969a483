-- Files sent with an outgoing mail: the weekly office summary carries the status matrix as a
-- CSV. A JSON array of {"filename", "contentType", "content" (base64)}; '[]' for the rest.
-- Small by design (a CSV of a few hundred rows); material files are never re-sent by mail.
ALTER TABLE outbox ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
