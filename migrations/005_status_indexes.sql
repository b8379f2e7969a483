-- What the status matrix reads (src/store/status-queries.ts), from indexes alone: the messages
-- received by an instant, in time order, and for each the materials that can count (credited
-- or awaiting review, with unit and item). A province (100,000 messages, 200,000 materials)
-- then costs a range of the first index and one seek into the second per message, instead of
-- every materials row and every messages row (~75 MB of table pages) and a sort. Each index
-- adds one entry per row written; recording a message writes a dozen pages either way.
CREATE INDEX messages_received_at ON messages(received_at);

CREATE INDEX materials_counting ON materials(message, unit, item, confirmed, status)
  WHERE status != 'rejected' AND unit IS NOT NULL AND item IS NOT NULL;
