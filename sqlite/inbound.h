/* Public API of the store for inbound sync: the durable webhook inbox (group-committed
 * puts, the processing queue, retries and dead letters), idempotent ingestion of channel
 * orders, refunds and inventory levels, and echo prevention for our own inventory pushes.
 *
 * Like store.h: every mutating call is one transaction, returns a depot_err and leaves
 * its reason in depot_store_errmsg(). */
#ifndef DEPOT_INBOUND_H
#define DEPOT_INBOUND_H

#include <stddef.h>
#include <stdint.h>
#include "store.h"

/* ---- Batches ---------------------------------------------------------------------- */

/* Groups many operations into one transaction (one lock, one fsync): between begin and
 * commit every store call on st runs as a savepoint, succeeding or failing on its own,
 * and none is durable before depot_store_batch_commit returns DEPOT_OK. A failed commit
 * rolls them all back. The inbox worker processes deliveries this way under load. */
depot_err depot_store_batch_begin(depot_store *st);
depot_err depot_store_batch_commit(depot_store *st);
/* 1 if some connection of this process waited for the write lock in the last 2 ms: a
 * batch holding the lock should commit now and let it through. Thread-safe. */
int depot_store_lock_contended(void);

/* ---- Inbox ------------------------------------------------------------------------ */

#define DEPOT_INBOX_ID_MAX 300      /* longest source, delivery id */
#define DEPOT_INBOX_BODY_MAX (64u * 1024 * 1024)

/* One raw delivery. source names who sent it: "shopify:<channel id>",
 * "woocommerce:<channel id>", or "backstop:<channel id>" for an order the outbound
 * worker pulled itself (body = the order object in the REST/webhook shape, topic
 * "orders/updated" or "order.updated", delivery_id e.g. "<order id>@<updated_at>").
 * (source, delivery_id) and (source, topic, event_id) are unique: a repeat is a
 * duplicate, acknowledged but not stored again. */
struct depot_inbox_delivery {
    const char *source;       /* 1..DEPOT_INBOX_ID_MAX */
    const char *delivery_id;  /* 1..DEPOT_INBOX_ID_MAX */
    int64_t channel_id;       /* > 0 */
    const char *topic;        /* 1..64, e.g. "orders/create", "order.updated" */
    const char *event_id;     /* may be NULL */
    int64_t triggered_at;     /* unix seconds the sender says it fired; 0 = unknown */
    int stale;                /* triggered longer ago than the stale window */
    const char *headers_json; /* JSON object of the headers worth keeping; NULL = {} */
    const void *body;
    size_t body_len;          /* 0..DEPOT_INBOX_BODY_MAX */
    const char *body_sha256;  /* lowercase hex SHA-256 of body where it identifies the
                               * delivery (WooCommerce); NULL = none kept */
};

/* Fills hex (65 bytes) with the lowercase hex SHA-256 of body. */
void depot_inbox_body_sha256(const void *body, size_t len, char hex[65]);

/* 1 if d can be stored; else 0 with *why (may be NULL) a static reason. Endpoints check
 * each delivery before queueing it for a group commit, which one invalid delivery would
 * fail for all. */
int depot_inbox_delivery_valid(const struct depot_inbox_delivery *d, const char **why);

/* Commits n deliveries in one transaction (synchronous=FULL: durable when this returns
 * DEPOT_OK). duplicate[i] (may be NULL) is set to 1 for a delivery that was already in
 * the inbox. An invalid delivery fails the whole batch with DEPOT_E_INVALID. */
depot_err depot_inbox_put_batch(depot_store *st, const struct depot_inbox_delivery *d,
                                size_t n, int *duplicate);
/* Deletes, in one transaction, up to max processed deliveries (done or ignored) received
 * before received_before (unix seconds), oldest first; *deleted says how many. Failed
 * and dead deliveries are never pruned. Their ids stop de-duplicating a repeat, which is
 * harmless long after the senders' retry windows (Shopify: 4 hours), as ingestion is
 * idempotent anyway. */
depot_err depot_inbox_prune(depot_store *st, int64_t received_before, int max, int *deleted);
/* 1 if deliveries were committed to the inbox in the last within_ms milliseconds (by
 * any connection of this process): webhooks are arriving, and the inbox worker leaves
 * the write lock to the committer that acknowledges them. Thread-safe. */
int depot_inbox_receiving(int within_ms);
/* One delivery: depot_inbox_put_batch with n = 1. */
depot_err depot_inbox_put(depot_store *st, const struct depot_inbox_delivery *d,
                          int *duplicate);

/* A delivery taken for processing (body NUL-terminated; free with
 * depot_inbox_item_free). */
struct depot_inbox_item {
    int64_t id;
    int64_t channel_id;
    char source[DEPOT_INBOX_ID_MAX + 1];
    char topic[65];
    int64_t triggered_at;
    int stale;
    int attempts;
    char request_id[33]; /* the X-Request-Id of the HTTP delivery, "" if none */
    char *body;
    size_t body_len;
};

/* The oldest pending delivery, or failed one due again at now (unix seconds).
 * DEPOT_E_NOT_FOUND when there is none. */
depot_err depot_inbox_next(depot_store *st, int64_t now, struct depot_inbox_item *out);
void depot_inbox_item_free(struct depot_inbox_item *it);

/* Marks a delivery processed with nothing to change ("ignored": unknown topic, a stale
 * update older than the stored state), with a note kept as last_error. */
depot_err depot_inbox_ignore(depot_store *st, int64_t id, const char *note);
/* Records a failed attempt: with permanent, or once attempts reach max_attempts, the
 * delivery is dead-lettered; otherwise it is retried at retry_at. error (1..500 chars,
 * no PII) is kept as last_error. *dead (may be NULL) tells which happened. */
depot_err depot_inbox_fail(depot_store *st, int64_t id, const char *error, int permanent,
                           int max_attempts, int64_t retry_at, int *dead);

/* Dead letters back to pending (attempts reset), audited as inbox.replay. Replay is safe
 * to repeat: processing is idempotent. DEPOT_E_STATE unless the delivery is dead. */
depot_err depot_inbox_replay(depot_store *st, int64_t id, const char *actor);
depot_err depot_inbox_replay_all_dead(depot_store *st, const char *actor, int *n);

/* Deliveries oldest first: pending/failed and dead, or only dead (dead_only), without
 * bodies: the fields of depot_inbox_page_json's items plus "stale" and
 * "next_attempt_at". Caller frees *out. */
depot_err depot_inbox_list_json(depot_store *st, int dead_only, int limit, cJSON **out);
/* One delivery with its kept headers and its body (as text). */
depot_err depot_inbox_show_json(depot_store *st, int64_t id, cJSON **out);

/* ---- Ingestion ---------------------------------------------------------------------- */

#define DEPOT_INGEST_LINES_MAX 1000

/* An order as a channel sees it, mapped from its payload (sync/map_*.c). Strings point
 * into the caller's memory. */
struct depot_ingest_line {
    const char *external_line_id; /* required */
    const char *variant_id;       /* channel ids to resolve the SKU; any may be NULL */
    const char *product_id;
    const char *sku;              /* the channel's SKU code */
    const char *gtin;
    const char *title;
    int64_t quantity;             /* >= 0; 0 = the line was removed */
};

enum depot_ingest_state {
    DEPOT_INGEST_OPEN,      /* not paid yet: keep, do not reserve */
    DEPOT_INGEST_PAID,      /* reserve its stock */
    DEPOT_INGEST_CANCELLED, /* release and cancel */
};

struct depot_ingest_order {
    int64_t channel_id;
    const char *external_id;  /* 1..128 */
    const char *number;       /* display number, may be NULL */
    int64_t updated_at_ms;    /* the channel's updated_at, unix milliseconds; 0 unknown */
    enum depot_ingest_state state;
    const char *customer_json; /* may be NULL; kept in the order, never logged */
    const char *ship_to_json;
    const struct depot_ingest_line *lines;
    size_t n_lines;
};

/* What ingestion did, for logs and tests. */
struct depot_ingest_result {
    int64_t order_id;
    int created;       /* a new order */
    int stale;         /* older than the stored state: nothing changed */
    int lines_changed;
    int reserved;      /* reserved by this delivery */
    int backordered;   /* paid but short of stock */
    int unresolved;    /* lines without a SKU: the order needs attention */
    int cancelled;
};

/* Applies an order and marks inbox delivery inbox_id done (0: no inbox row), all in one
 * transaction: creates it, or updates it if updated_at_ms is not older than the stored
 * one (lines added/removed/changed adjust the reservations), reserves a paid order (all
 * lines, or none and the order is backordered with an alert), cancels (releases) a
 * cancelled one. Unresolved lines (no SKU by channel variant/product id, SKU code or
 * GTIN) make the order needs_attention with an alert. Idempotent. */
depot_err depot_ingest_order(depot_store *st, int64_t inbox_id,
                             const struct depot_ingest_order *in, const char *actor,
                             struct depot_ingest_result *res);

/* Cancels the channel's order external_id (a delete or cancel topic without a full
 * order), marking inbox_id done. DEPOT_OK with *order_id 0 if there is no such order. */
depot_err depot_ingest_cancel(depot_store *st, int64_t inbox_id, int64_t channel_id,
                              const char *external_id, const char *actor,
                              int64_t *order_id);

/* Reserves backordered orders (paid, short of stock) whose stock has arrived since,
 * oldest first, at most limit (1..256) of them, each in its own transaction; their
 * backorder alerts are resolved. *n_reserved (may be NULL) counts them. */
depot_err depot_backorders_retry(depot_store *st, int limit, const char *actor,
                                 int *n_reserved);

/* A fulfillment the channel reports for its order external_id (status as the channel
 * says: "success", "cancelled", ...). Ours echo back and change nothing; a successful one
 * for an order that has not shipped from here raises one "fulfilled_upstream" alert.
 * Marks inbox_id done. *order_id is 0 if the order is not held here. */
depot_err depot_ingest_fulfillment(depot_store *st, int64_t inbox_id, int64_t channel_id,
                                   const char *external_id, const char *status,
                                   int64_t *order_id);

enum depot_return_disposition {
    DEPOT_RETURN_SELLABLE,  /* back on the shelf: a "return" ledger row */
    DEPOT_RETURN_DAMAGED,   /* to quarantine, an alert; not sellable stock */
    DEPOT_RETURN_UNSELLABLE /* written off */
};

struct depot_ingest_return_line {
    const char *source_ref;        /* unique per returned line, e.g. "shopify:3:refund:9:line:4" */
    const char *external_line_id;  /* the order line */
    int64_t quantity;              /* >= 1 */
    enum depot_return_disposition disposition;
};

/* Records the returned lines of a refund of the channel's order external_id (each once,
 * by source_ref) and marks inbox_id done. Sellable units go back through the ledger at
 * the location they shipped from (else the SKU's first location); damaged ones are
 * booked to location "QUARANTINE" outside sellable stock with an alert; unsellable ones
 * are written off. All audited. *n_returned (may be NULL) counts new return rows. */
depot_err depot_ingest_returns(depot_store *st, int64_t inbox_id, int64_t channel_id,
                               const char *external_id,
                               const struct depot_ingest_return_line *lines, size_t n,
                               const char *actor, int *n_returned);

/* An inventory level the channel reports for its inventory item / product id at its
 * location id. Our own echo (see below) is ignored; a genuine change becomes a ledger
 * adjustment with reason "channel" so that what the channel sells matches. Marks
 * inbox_id done. *outcome: "echo", "unchanged", "adjusted", "unmapped". */
depot_err depot_ingest_inventory_level(depot_store *st, int64_t inbox_id,
                                       int64_t channel_id, const char *inventory_item_id,
                                       const char *external_location_id, int64_t available,
                                       int64_t echo_window, const char *actor,
                                       const char **outcome);

/* ---- Time ------------------------------------------------------------------------- */

/* An ISO 8601 / RFC 3339 date-time ("2024-01-10T11:00:00-05:00", fractions, "Z", or no
 * zone = UTC as WooCommerce's *_gmt fields) as unix milliseconds. 0, or -1 if malformed. */
int depot_time_parse_iso8601(const char *s, int64_t *ms);

/* ---- Echo prevention ---------------------------------------------------------------- */

#define DEPOT_ECHO_WINDOW_DEFAULT 600 /* seconds a push is remembered */

/* Records that the channel was just told quantity available for (sku, location): the
 * outbound worker calls this after each successful inventory push. Pushes older than
 * DEPOT_ECHO_WINDOW_DEFAULT * 6 are pruned. */
depot_err depot_inventory_push_record(depot_store *st, int64_t channel_id, int64_t sku_id,
                                      int64_t location_id, int64_t quantity);
/* *echo = 1 if a push of exactly quantity for (channel, sku, location) was recorded in
 * the last window seconds, else 0. Writes nothing. */
depot_err depot_inventory_push_is_echo(depot_store *st, int64_t channel_id, int64_t sku_id,
                                       int64_t location_id, int64_t quantity,
                                       int64_t window, int *echo);

/* Open alerts (unknown items, backorders, damaged returns), newest first:
 * {"id","order_id","kind","message","created_at"}. */
depot_err depot_order_alerts_json(depot_store *st, int64_t order_id, cJSON **out);

#endif
