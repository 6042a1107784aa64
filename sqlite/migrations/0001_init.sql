-- 0001: Depot's initial schema for the whole mission. Invariants live here as CHECKs,
-- UNIQUEs and triggers so no caller can break them. Times are unix seconds (INTEGER).
-- CHECKs on tables written per row (ledger, stock, reservations, orders, outbox, inbox)
-- use = / OR rather than IN (...): SQLite 3.40 builds an ephemeral table for an IN list
-- every time it checks a row, which doubled the cost of a bulk import.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Locations (a warehouse, a store room) and bins inside them.
CREATE TABLE locations (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 64),
    name       TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

CREATE TABLE bins (
    id          INTEGER PRIMARY KEY,
    location_id INTEGER NOT NULL REFERENCES locations(id),
    code        TEXT NOT NULL CHECK (length(code) BETWEEN 1 AND 64),
    UNIQUE (location_id, code)
);

CREATE TABLE skus (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 64),
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- A GTIN belongs to exactly one SKU; a SKU may have several (case, each).
CREATE TABLE sku_gtins (
    gtin   TEXT PRIMARY KEY CHECK ((length(gtin) = 8 OR length(gtin) BETWEEN 12 AND 14)
                                   AND gtin NOT GLOB '*[^0-9]*'),
    sku_id INTEGER NOT NULL REFERENCES skus(id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX sku_gtins_sku ON sku_gtins(sku_id);

-- Sales channels (Shopify shops, WooCommerce stores). Secrets live in `secrets`.
CREATE TABLE channels (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('shopify', 'woocommerce')),
    name       TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 255),
    api_base   TEXT,
    config     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(config)),
    enabled    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at INTEGER NOT NULL
);

-- Per-channel ids of a SKU (Shopify variant + inventory item, WooCommerce product).
CREATE TABLE channel_skus (
    channel_id           INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    sku_id               INTEGER NOT NULL REFERENCES skus(id) ON DELETE CASCADE,
    external_product_id  TEXT,
    external_variant_id  TEXT,
    external_inventory_id TEXT,
    PRIMARY KEY (channel_id, sku_id),
    UNIQUE (channel_id, external_variant_id)
) WITHOUT ROWID;
CREATE INDEX channel_skus_sku ON channel_skus(sku_id);

-- Which of our locations a channel sells from, its id there, and a safety buffer.
CREATE TABLE channel_locations (
    channel_id           INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    location_id          INTEGER NOT NULL REFERENCES locations(id),
    external_location_id TEXT NOT NULL,
    buffer               INTEGER NOT NULL DEFAULT 0 CHECK (buffer >= 0),
    PRIMARY KEY (channel_id, location_id)
) WITHOUT ROWID;

CREATE TABLE carriers (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('fedex', 'ups', 'dhl')),
    name       TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    account    TEXT,
    api_base   TEXT,
    token_url  TEXT,
    config     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(config)),
    enabled    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at INTEGER NOT NULL
);

-- Stock per (SKU, location). reserved <= on_hand means we can never promise more than
-- we hold; buffer is held back from what channels are told.
CREATE TABLE stock (
    sku_id      INTEGER NOT NULL REFERENCES skus(id),
    location_id INTEGER NOT NULL REFERENCES locations(id),
    bin_id      INTEGER REFERENCES bins(id),
    on_hand     INTEGER NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved    INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    buffer      INTEGER NOT NULL DEFAULT 0 CHECK (buffer >= 0),
    updated_at  INTEGER NOT NULL,
    CHECK (reserved <= on_hand),
    PRIMARY KEY (sku_id, location_id)
) WITHOUT ROWID;

-- Append-only inventory ledger: on_hand of a stock row is the sum of its deltas.
CREATE TABLE ledger (
    id          INTEGER PRIMARY KEY,
    sku_id      INTEGER NOT NULL REFERENCES skus(id),
    location_id INTEGER NOT NULL REFERENCES locations(id),
    delta       INTEGER NOT NULL CHECK (delta <> 0),
    kind        TEXT NOT NULL CHECK (kind = 'adjust' OR kind = 'import' OR kind = 'receive'
                                     OR kind = 'ship' OR kind = 'return' OR kind = 'count'),
    reason      TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 200),
    ref         TEXT,
    actor       TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX ledger_sku_loc ON ledger(sku_id, location_id);
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;

-- Orders, one per (channel, external id); local orders have no channel.
CREATE TABLE orders (
    id          INTEGER PRIMARY KEY,
    channel_id  INTEGER REFERENCES channels(id),
    external_id TEXT NOT NULL CHECK (length(external_id) BETWEEN 1 AND 128),
    number      TEXT,
    status      TEXT NOT NULL CHECK (status = 'open' OR status = 'reserved'
                                     OR status = 'needs_attention' OR status = 'packed'
                                     OR status = 'shipped' OR status = 'cancelled'),
    customer    TEXT CHECK (customer IS NULL OR json_valid(customer)),
    ship_to     TEXT CHECK (ship_to IS NULL OR json_valid(ship_to)),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (channel_id, external_id)
);
CREATE UNIQUE INDEX orders_local_external ON orders(external_id) WHERE channel_id IS NULL;
CREATE INDEX orders_status ON orders(status, id);

CREATE TABLE order_lines (
    id               INTEGER PRIMARY KEY,
    order_id         INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    line_no          INTEGER NOT NULL CHECK (line_no >= 1),
    sku_id           INTEGER REFERENCES skus(id),
    external_line_id TEXT,
    title            TEXT,
    quantity         INTEGER NOT NULL CHECK (quantity >= 1),
    packed_qty       INTEGER NOT NULL DEFAULT 0 CHECK (packed_qty >= 0 AND packed_qty <= quantity),
    UNIQUE (order_id, line_no)
);

-- A reservation holds quantity of one line at one location. Active reservations of a
-- stock row always sum to its `reserved`.
CREATE TABLE reservations (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES orders(id),
    line_id     INTEGER NOT NULL REFERENCES order_lines(id),
    sku_id      INTEGER NOT NULL REFERENCES skus(id),
    location_id INTEGER NOT NULL REFERENCES locations(id),
    quantity    INTEGER NOT NULL CHECK (quantity >= 1),
    status      TEXT NOT NULL CHECK (status = 'active' OR status = 'released'
                                     OR status = 'committed' OR status = 'expired'),
    expires_at  INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX reservations_order ON reservations(order_id);
CREATE INDEX reservations_active_stock ON reservations(sku_id, location_id) WHERE status = 'active';
CREATE INDEX reservations_expiry ON reservations(expires_at) WHERE status = 'active' AND expires_at IS NOT NULL;

CREATE TABLE shipments (
    id              INTEGER PRIMARY KEY,
    order_id        INTEGER NOT NULL REFERENCES orders(id),
    carrier         TEXT NOT NULL CHECK (length(carrier) BETWEEN 1 AND 32),
    service         TEXT,
    tracking_number TEXT,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'labelled', 'shipped', 'voided')),
    label_format    TEXT CHECK (label_format IS NULL OR label_format IN ('zpl', 'pdf', 'png')),
    label           BLOB,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX shipments_order ON shipments(order_id);

CREATE TABLE returns (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER REFERENCES orders(id),
    sku_id      INTEGER NOT NULL REFERENCES skus(id),
    location_id INTEGER NOT NULL REFERENCES locations(id),
    quantity    INTEGER NOT NULL CHECK (quantity >= 1),
    disposition TEXT NOT NULL CHECK (disposition IN ('restock', 'damaged', 'discard')),
    created_at  INTEGER NOT NULL
);

-- Durable print queue: a job is committed before it is sent.
CREATE TABLE print_jobs (
    id         INTEGER PRIMARY KEY,
    printer    TEXT NOT NULL CHECK (length(printer) BETWEEN 1 AND 64),
    payload    BLOB NOT NULL CHECK (length(payload) BETWEEN 1 AND 1048576),
    status     TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'done', 'failed', 'cancelled')),
    attempts   INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX print_jobs_due ON print_jobs(printer, id) WHERE status IN ('queued', 'sending');

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    role          TEXT NOT NULL CHECK (role IN ('packer', 'supervisor', 'admin')),
    password_hash TEXT,           -- "pbkdf2-sha256$iterations$salt_b64$hash_b64"
    badge_hash    TEXT UNIQUE,    -- SHA-256 hex of the badge secret
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    role         TEXT NOT NULL CHECK (role IN ('packer', 'supervisor', 'admin')),
    token_hash   TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

CREATE TABLE sessions (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL CHECK (length(csrf_token) = 64),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expires_at);
CREATE INDEX sessions_user ON sessions(user_id);

-- Secrets: AES-256-GCM under the master key; nonce || ciphertext || tag in `sealed`.
CREATE TABLE secrets (
    name       TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 128),
    sealed     BLOB NOT NULL CHECK (length(sealed) >= 28),
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Outbox: every change a channel or carrier must learn, written in the same transaction
-- as the change. aggregate orders rows that must go in sequence (e.g. "order:42").
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    target          TEXT NOT NULL CHECK (target = 'channel' OR target = 'carrier'),
    target_id       INTEGER NOT NULL,
    topic           TEXT NOT NULL CHECK (length(topic) BETWEEN 1 AND 64),
    aggregate       TEXT NOT NULL,
    payload         TEXT NOT NULL CHECK (json_valid(payload)),
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status = 'pending' OR status = 'inflight' OR status = 'done'
                           OR status = 'dead' OR status = 'superseded'),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    delivered_at    INTEGER
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at) WHERE status IN ('pending', 'inflight');
CREATE INDEX outbox_aggregate ON outbox(target_id, aggregate, id);
-- Dead letters, counted by /metrics without scanning the delivered history.
CREATE INDEX outbox_dead ON outbox(status) WHERE status = 'dead';

-- Inbox: raw webhook deliveries, committed before they are acknowledged.
CREATE TABLE inbox (
    id           INTEGER PRIMARY KEY,
    source       TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 300),
    delivery_id  TEXT NOT NULL CHECK (length(delivery_id) BETWEEN 1 AND 300),
    channel_id   INTEGER REFERENCES channels(id),
    topic        TEXT NOT NULL,
    event_id     TEXT,
    triggered_at INTEGER,
    headers      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(headers)),
    body         BLOB NOT NULL,
    body_sha256  TEXT NOT NULL CHECK (length(body_sha256) = 64),
    status       TEXT NOT NULL DEFAULT 'pending'
                 CHECK (status = 'pending' OR status = 'done' OR status = 'failed'
                        OR status = 'ignored' OR status = 'dead'),
    attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error   TEXT,
    received_at  INTEGER NOT NULL,
    processed_at INTEGER,
    UNIQUE (source, delivery_id)
);
CREATE INDEX inbox_pending ON inbox(status, id) WHERE status = 'pending';
-- Failed and dead deliveries, counted by /metrics without scanning the history.
CREATE INDEX inbox_attention ON inbox(status) WHERE status = 'failed' OR status = 'dead';
CREATE UNIQUE INDEX inbox_event ON inbox(source, topic, event_id) WHERE event_id IS NOT NULL;

-- Audit log: each row's hash is SHA-256 over the previous hash and the row's fields.
CREATE TABLE audit (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail)),
    prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
    hash      TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
