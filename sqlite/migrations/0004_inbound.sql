-- 0004: inbound sync. Retry schedule and stale flag for inbox deliveries; the channel's
-- own updated_at and hold reasons on orders; where a return came from (idempotent
-- refunds); the inventory levels we pushed ourselves (echo prevention); order alerts.

-- A failed delivery is retried at next_attempt_at (unix seconds), then dead-lettered.
ALTER TABLE inbox ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
-- 1 when the delivery was triggered longer ago than the stale window (a late retry).
ALTER TABLE inbox ADD COLUMN stale INTEGER NOT NULL DEFAULT 0 CHECK (stale = 0 OR stale = 1);
CREATE INDEX inbox_retry ON inbox(next_attempt_at, id) WHERE status = 'failed';

-- The channel's updated_at (unix milliseconds) of the state we hold: an older delivery
-- never overwrites a newer one.
ALTER TABLE orders ADD COLUMN channel_updated_at INTEGER;
-- 1 while a paid order waits for stock (its reservation failed).
ALTER TABLE orders ADD COLUMN backordered INTEGER NOT NULL DEFAULT 0
    CHECK (backordered = 0 OR backordered = 1);

-- A return made from a channel refund names its source line, so a redelivered refund
-- cannot return the same units twice.
ALTER TABLE returns ADD COLUMN source_ref TEXT;
ALTER TABLE returns ADD COLUMN actor TEXT;
CREATE UNIQUE INDEX returns_source_ref ON returns(source_ref) WHERE source_ref IS NOT NULL;

-- Inventory levels we told a channel (outbound pushes), kept for echo_window seconds: an
-- inventory webhook reporting one of them is our own echo, not an external change.
CREATE TABLE inventory_pushes (
    id          INTEGER PRIMARY KEY,
    channel_id  INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    sku_id      INTEGER NOT NULL REFERENCES skus(id) ON DELETE CASCADE,
    location_id INTEGER NOT NULL REFERENCES locations(id),
    quantity    INTEGER NOT NULL CHECK (quantity >= 0),
    pushed_at   INTEGER NOT NULL
);
CREATE INDEX inventory_pushes_key ON inventory_pushes(channel_id, sku_id, location_id, pushed_at);
CREATE INDEX inventory_pushes_age ON inventory_pushes(pushed_at);

-- Things a person must look at: unknown items on an order, a backordered order, a
-- cancellation after shipping, a damaged return in quarantine.
CREATE TABLE order_alerts (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER REFERENCES orders(id),
    kind        TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
    message     TEXT NOT NULL CHECK (length(message) BETWEEN 1 AND 500),
    created_at  INTEGER NOT NULL,
    resolved_at INTEGER
);
CREATE INDEX order_alerts_open ON order_alerts(order_id) WHERE resolved_at IS NULL;
