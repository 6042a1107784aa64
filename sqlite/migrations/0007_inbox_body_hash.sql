-- 0007: the inbox keeps a body's SHA-256 only where it identifies the delivery. A
-- WooCommerce delivery id is not unique, so its de-duplication key includes the body
-- hash (and so does a Shopify delivery that came without X-Shopify-Webhook-Id); every
-- other delivery is identified by its ids, and hashing its body again after the HMAC
-- was a second SHA-256 pass per acknowledgement that nothing read. SQLite cannot relax
-- a column's constraint in place, so the table is rebuilt: the same columns in the same
-- order (0004's two at the end), the same rows and ids, the same indexes.

CREATE TABLE inbox_0007 (
    id           INTEGER PRIMARY KEY,
    source       TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 300),
    delivery_id  TEXT NOT NULL CHECK (length(delivery_id) BETWEEN 1 AND 300),
    channel_id   INTEGER REFERENCES channels(id),
    topic        TEXT NOT NULL,
    event_id     TEXT,
    triggered_at INTEGER,
    headers      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(headers)),
    body         BLOB NOT NULL,
    body_sha256  TEXT CHECK (body_sha256 IS NULL OR length(body_sha256) = 64),
    status       TEXT NOT NULL DEFAULT 'pending'
                 CHECK (status = 'pending' OR status = 'done' OR status = 'failed'
                        OR status = 'ignored' OR status = 'dead'),
    attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error   TEXT,
    received_at  INTEGER NOT NULL,
    processed_at INTEGER,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    stale        INTEGER NOT NULL DEFAULT 0 CHECK (stale = 0 OR stale = 1),
    UNIQUE (source, delivery_id)
);
INSERT INTO inbox_0007 SELECT * FROM inbox;
DROP TABLE inbox;
ALTER TABLE inbox_0007 RENAME TO inbox;
CREATE INDEX inbox_pending ON inbox(status, id) WHERE status = 'pending';
-- Failed and dead deliveries, counted by /metrics without scanning the history.
CREATE INDEX inbox_attention ON inbox(status) WHERE status = 'failed' OR status = 'dead';
CREATE UNIQUE INDEX inbox_event ON inbox(source, topic, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX inbox_retry ON inbox(next_attempt_at, id) WHERE status = 'failed';
