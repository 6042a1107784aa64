-- 0006: carriers and OAuth. The token cache's bookkeeping (the tokens themselves are
-- sealed in `secrets` under "<owner path>/token"), and the single-use nonces of the
-- Shopify install (`state`) and WooCommerce key flow (`user_id`).

-- One row per token owner ("carrier:<id>", "channel:<id>"). expires_at NULL means the
-- token does not expire (Shopify custom apps); lease_until_ms > now means one process is
-- fetching a new token and every other caller waits for its result (single flight).
CREATE TABLE token_cache (
    owner          TEXT PRIMARY KEY
                   CHECK (owner GLOB 'carrier:[1-9]*' OR owner GLOB 'channel:[1-9]*'),
    token_hash     TEXT,
    expires_at     INTEGER,
    refreshed_at   INTEGER,
    lease_until_ms INTEGER NOT NULL DEFAULT 0,
    failed_at_ms   INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT CHECK (last_error IS NULL OR length(last_error) <= 240),
    updated_at     INTEGER NOT NULL
) WITHOUT ROWID;

-- Single-use OAuth nonces: only their SHA-256 is stored; a nonce is consumed (used_at
-- set) in the transaction that accepts the callback, so a replay finds it used.
CREATE TABLE oauth_states (
    nonce_hash TEXT PRIMARY KEY CHECK (length(nonce_hash) = 64),
    purpose    TEXT NOT NULL CHECK (purpose IN ('shopify_install', 'woocommerce_keys')),
    subject    TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 512),
    actor      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) WITHOUT ROWID;
CREATE INDEX oauth_states_expiry ON oauth_states(expires_at);

-- Tracking polled from the carrier: the last normalised status (pre_transit, in_transit,
-- delivered, exception, unknown) and when it was asked; delivered shipments are not
-- polled again.
ALTER TABLE shipments ADD COLUMN tracking_status TEXT
    CHECK (tracking_status IS NULL OR length(tracking_status) BETWEEN 1 AND 16);
ALTER TABLE shipments ADD COLUMN tracked_at INTEGER;
CREATE INDEX shipments_tracking ON shipments(tracked_at)
    WHERE label IS NOT NULL AND status <> 'voided'
      AND (tracking_status IS NULL OR tracking_status <> 'delivered');
