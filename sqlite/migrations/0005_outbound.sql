-- 0005: outbound sync. Indexes over the live rows per aggregate and per channel (the
-- worker's ordering, coalescing and claiming read them on every pass without touching
-- the delivered history), and the level each channel was last told per (SKU, location): the compare
-- quantity of the next inventory set.
CREATE INDEX outbox_live_aggregate ON outbox(target_id, aggregate, id)
    WHERE status IN ('pending', 'inflight');
-- A channel's live rows oldest first: the worker takes the first due ones without
-- sorting the whole backlog on every pass.
CREATE INDEX outbox_live_target ON outbox(target_id, id)
    WHERE status IN ('pending', 'inflight');

CREATE TABLE channel_pushed_levels (
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    aggregate  TEXT NOT NULL CHECK (length(aggregate) BETWEEN 1 AND 96),
    quantity   INTEGER NOT NULL CHECK (quantity >= 0),
    outbox_id  INTEGER NOT NULL,
    pushed_at  INTEGER NOT NULL,
    PRIMARY KEY (channel_id, aggregate)
) WITHOUT ROWID;
