/* Public API of Depot's local store: the SQLite database, its invariants and every
 * operation that changes stock, orders, reservations, the outbox and the audit log.
 *
 * Every mutating call is exactly one transaction (BEGIN IMMEDIATE ... COMMIT): it either
 * happens completely, with its ledger, outbox and audit rows, or not at all. A call that
 * fails leaves the database as it was and records a one-line reason that
 * depot_store_errmsg() returns until the next call on the same handle.
 *
 * A depot_store handle is one SQLite connection; use it from one thread at a time. Many
 * processes and threads may each open their own handle on the same file. */
#ifndef DEPOT_STORE_H
#define DEPOT_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* One error enum for the whole program; 0 is success. depot_err_code() gives the stable
 * snake_case name used in JSON errors and CLI output. */
typedef enum depot_err {
    DEPOT_OK = 0,
    DEPOT_E_INVALID,      /* bad argument or input value */
    DEPOT_E_NOT_FOUND,    /* the named SKU, location, order, ... does not exist */
    DEPOT_E_CONFLICT,     /* already exists, or clashes with existing data */
    DEPOT_E_INSUFFICIENT, /* not enough available stock */
    DEPOT_E_STATE,        /* not allowed in the object's current state */
    DEPOT_E_BUSY,         /* database stayed locked beyond the busy timeout */
    DEPOT_E_DB,           /* SQLite reported an error */
    DEPOT_E_IO,           /* file system error */
    DEPOT_E_CRYPTO,       /* decryption/authentication failed, or RNG failure */
    DEPOT_E_NOMEM,        /* out of memory */
    DEPOT_E_SCHEMA,       /* database is from a newer Depot, or its schema is damaged */
    DEPOT_E_INTEGRITY,    /* verify found broken invariants (stock, ledger, audit chain) */
} depot_err;

const char *depot_err_code(depot_err e);

typedef struct depot_store depot_store;

struct depot_store_options {
    int busy_timeout_ms; /* 0 means the default (5000) */
    int readonly;        /* open without creating or migrating */
};

/* Opens (creating if needed) the database at path, sets WAL, foreign keys, busy timeout,
 * synchronous=FULL, and applies pending migrations in one transaction. Refuses a database
 * whose user_version is newer than this build knows (DEPOT_E_SCHEMA). opt may be NULL.
 * On failure *out is NULL and err (if given) holds the reason. */
depot_err depot_store_open(const char *path, const struct depot_store_options *opt,
                           depot_store **out, char *err, size_t errlen);
void depot_store_close(depot_store *st);

/* The reason for the last failed call on this handle ("" after success). */
const char *depot_store_errmsg(const depot_store *st);

/* Schema version of the open database, and the newest one this build knows. */
int depot_store_schema_version(depot_store *st);
int depot_store_schema_latest(void);

/* Online, consistent copy of the database to dest_path (SQLite backup API); safe while
 * other processes write. The copy is fsync'd before this returns. */
depot_err depot_store_backup(depot_store *st, const char *dest_path);

/* ---- Stock ------------------------------------------------------------------------ */

/* Adds delta (non-zero) to on_hand of (sku, location): one ledger row, the stock level,
 * outbox rows for every channel that lists the SKU at that location, and an audit row.
 * The SKU and location must exist. Fails with DEPOT_E_INSUFFICIENT if on_hand would go
 * below zero or below what is reserved. reason is required (1..200 chars). */
depot_err depot_stock_adjust(depot_store *st, const char *sku, const char *location,
                             int64_t delta, const char *reason, const char *actor,
                             int64_t *ledger_id_out);

/* {"sku":..,"name":..,"gtins":[..],"levels":[{"location":..,"bin":..,"on_hand":..,
 *  "reserved":..,"available":..,"buffer":..}], "on_hand":total, "reserved":total}.
 * Caller frees *out with cJSON_Delete. */
depot_err depot_stock_show_json(depot_store *st, const char *sku, cJSON **out);

/* Creates a location if it does not exist yet (code 1..64 printable chars). */
depot_err depot_location_ensure(depot_store *st, const char *code, const char *actor,
                                int64_t *id_out);

/* Creates or renames a SKU (code 1..64 printable chars, name 1..200 chars); gtin may be
 * NULL or a valid GTIN-8/12/13/14 (check digit verified) not used by another SKU. */
depot_err depot_sku_upsert(depot_store *st, const char *sku, const char *name,
                           const char *gtin, const char *actor, int64_t *id_out);

/* ---- CSV stock import ------------------------------------------------------------- */

struct depot_import_error {
    size_t row;        /* 1-based line of the CSV record (header is row 1) */
    char column[32];   /* column name, or "" for the whole row */
    char message[160];
};

struct depot_import_result {
    size_t rows;              /* data rows read */
    size_t changed;           /* stock levels changed */
    size_t skus_created;
    size_t errors_total;      /* all errors found */
    size_t errors_n;          /* errors kept in errors[] (capped) */
    struct depot_import_error *errors;
};

/* Imports a stock CSV (header `sku,name,gtin,location,on_hand`, optional `bin`, `buffer`,
 * any order). on_hand is the absolute count: the ledger gets the difference. All rows
 * are validated first; if any is wrong nothing is written and the result lists every
 * error with row and column (DEPOT_E_INVALID). Frees nothing the caller owns. */
depot_err depot_stock_import_csv(depot_store *st, const char *path, const char *actor,
                                 struct depot_import_result *res);
void depot_import_result_free(struct depot_import_result *res);

/* ---- Orders and reservations ------------------------------------------------------ */

struct depot_order_line_in {
    const char *sku;              /* our SKU code; NULL if the line could not be resolved */
    const char *external_line_id; /* may be NULL */
    const char *title;            /* may be NULL */
    int64_t quantity;             /* >= 1 */
};

struct depot_order_in {
    int64_t channel_id;       /* 0 for a local order */
    const char *external_id;  /* required; unique per channel */
    const char *number;       /* display number, may be NULL */
    const char *customer_json;/* JSON object or NULL */
    const char *ship_to_json; /* JSON object or NULL */
    const struct depot_order_line_in *lines;
    size_t n_lines;           /* 1..1000 */
};

/* Creates the order unless (channel, external_id) exists already; then *created is 0 and
 * *order_id the existing order. An order with an unresolved line is "needs_attention". */
depot_err depot_order_create(depot_store *st, const struct depot_order_in *in,
                             const char *actor, int64_t *order_id, int *created);

/* Reserves every line of the order, or nothing (DEPOT_E_INSUFFICIENT names the SKU that
 * is short). Lines may be split across locations. ttl_seconds > 0 gives the reservation
 * an expiry; 0 means it does not expire. Never oversells, however many processes race. */
depot_err depot_order_reserve(depot_store *st, int64_t order_id, int64_t ttl_seconds,
                              const char *actor);

/* Releases the order's active reservations; the order goes back to "open". */
depot_err depot_order_release(depot_store *st, int64_t order_id, const char *actor);

/* Releases and marks the order cancelled. */
depot_err depot_order_cancel(depot_store *st, int64_t order_id, const char *actor);

struct depot_shipment_in {
    const char *carrier;         /* e.g. "fedex", or "manual"; required */
    const char *tracking_number; /* may be NULL */
};

/* Commits a shipment for a fully reserved order: reserved and on_hand go down together
 * (ledger rows of kind "ship"), reservations become "committed", the order "shipped",
 * and a fulfillment event goes to the order's channel outbox. */
depot_err depot_order_ship(depot_store *st, int64_t order_id,
                           const struct depot_shipment_in *in, const char *actor,
                           int64_t *shipment_id);

/* Expires active reservations whose expiry is <= now (unix seconds); their orders go back
 * to "open". *n_expired counts reservations expired (may be NULL). */
depot_err depot_reservations_expire(depot_store *st, int64_t now, const char *actor,
                                    int *n_expired);

/* Lists orders, newest first; status may be NULL for all, else one of open, reserved,
 * needs_attention, packed, shipped, cancelled (DEPOT_E_INVALID otherwise). limit 1..1000. */
depot_err depot_order_list_json(depot_store *st, const char *status, int limit,
                                cJSON **out);
/* The order with its lines and reservations. */
depot_err depot_order_show_json(depot_store *st, int64_t order_id, cJSON **out);

/* ---- Outbox ----------------------------------------------------------------------- */

/* Lists outbox rows (pending and dead, or only dead), oldest first. */
depot_err depot_outbox_list_json(depot_store *st, int dead_only, int limit, cJSON **out);
/* Makes a dead row due again (attempts reset, idempotency key kept). */
depot_err depot_outbox_retry(depot_store *st, int64_t id, const char *actor);
depot_err depot_outbox_retry_all_dead(depot_store *st, const char *actor, int *n);

/* ---- Users and API tokens --------------------------------------------------------- */

/* role is "packer", "supervisor" or "admin". password may be NULL (token/badge only);
 * otherwise 8..1024 bytes, stored as PBKDF2-HMAC-SHA256 with a per-user salt. */
depot_err depot_user_add(depot_store *st, const char *name, const char *role,
                         const char *password, const char *actor, int64_t *id_out);
/* Checks a password; DEPOT_E_CRYPTO if wrong, DEPOT_E_NOT_FOUND if no such user. */
depot_err depot_user_check_password(depot_store *st, const char *name,
                                    const char *password, char role_out[16]);

#define DEPOT_TOKEN_LEN 68 /* "dpt_" + 64 hex chars */
/* Creates an API token; the plain token is returned once in token_out and only its
 * SHA-256 is stored. */
depot_err depot_token_create(depot_store *st, const char *name, const char *role,
                             const char *actor, char token_out[DEPOT_TOKEN_LEN + 1],
                             int64_t *id_out);
/* Finds a live token; fills its role and name (either may be NULL) and updates last-used.
 * DEPOT_E_NOT_FOUND if unknown or revoked. */
depot_err depot_token_check(depot_store *st, const char *token, char role_out[16],
                            char name_out[65]);
depot_err depot_token_revoke(depot_store *st, int64_t id, const char *actor);

/* ---- Sessions and badges ---------------------------------------------------------- */

#define DEPOT_SESSION_TOKEN_LEN 64 /* hex of 32 random bytes: the session cookie's value */
#define DEPOT_CSRF_TOKEN_LEN 64    /* hex of 32 random bytes */
#define DEPOT_BADGE_LEN 30         /* "BADGE-" + 24 base32 characters (A-Z, 2-7) */
#define DEPOT_USER_NAME_MAX 64

struct depot_session {
    int64_t id;
    int64_t user_id;
    char user[DEPOT_USER_NAME_MAX + 1];
    char role[16];
    char csrf[DEPOT_CSRF_TOKEN_LEN + 1]; /* the client echoes it as X-CSRF-Token */
    int64_t expires_at;                  /* unix seconds */
};

/* Starts a session of ttl_seconds (> 0) for the user called name, who has just proven
 * who they are (via is "password" or "badge"; peer is the client address, may be NULL;
 * both go into the session.create audit row, the token never does). The session token
 * is returned once in token_out; only its SHA-256 is stored. *out describes the session.
 * DEPOT_E_NOT_FOUND if there is no such user, DEPOT_E_STATE if it is disabled. */
depot_err depot_session_create(depot_store *st, const char *name, int64_t ttl_seconds,
                               const char *via, const char *peer,
                               char token_out[DEPOT_SESSION_TOKEN_LEN + 1],
                               struct depot_session *out);
/* The live session for a token: not expired, its user not disabled. DEPOT_E_NOT_FOUND
 * otherwise (also for a malformed token). Writes nothing. */
depot_err depot_session_lookup(depot_store *st, const char *token,
                               struct depot_session *out);
/* Ends a session (logout), audited as session.delete. DEPOT_E_NOT_FOUND if it is gone. */
depot_err depot_session_delete(depot_store *st, int64_t id, const char *actor);
/* Deletes the sessions that expired at or before now (unix seconds); *n_purged (may be
 * NULL) counts them. Not audited: an expired session is already unusable. */
depot_err depot_sessions_purge(depot_store *st, int64_t now, int *n_purged);

/* Issues a new login badge for the user called name, replacing (and so disabling) any
 * previous one, audited as badge.issue. The badge, printable as a Code 128 barcode, is
 * returned once in badge_out; only its SHA-256 is stored. */
depot_err depot_user_badge_issue(depot_store *st, const char *name, const char *actor,
                                 char badge_out[DEPOT_BADGE_LEN + 1]);
/* The user a scanned badge belongs to; surrounding whitespace and lower case (a
 * keyboard-wedge scanner's CR, caps lock) are accepted. DEPOT_E_NOT_FOUND if no user
 * holds it, DEPOT_E_STATE if the user is disabled. */
depot_err depot_user_check_badge(depot_store *st, const char *badge,
                                 char name_out[DEPOT_USER_NAME_MAX + 1], char role_out[16]);

/* ---- Secrets ---------------------------------------------------------------------- */

#define DEPOT_MASTER_KEY_LEN 32

/* Stores value under name, AES-256-GCM encrypted with the master key (the name is bound
 * as associated data, so a row cannot be moved to another name). */
depot_err depot_secret_put(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                           const char *name, const uint8_t *value, size_t len,
                           const char *actor);
/* Decrypts the named secret into a malloc'd, NUL-terminated buffer (*len excludes the
 * NUL). DEPOT_E_CRYPTO if the key is wrong or the row was tampered with. */
depot_err depot_secret_get(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                           const char *name, uint8_t **value, size_t *len);

/* ---- Sales channels --------------------------------------------------------------- */

#define DEPOT_CHANNEL_NAME_MAX 255
#define DEPOT_CHANNEL_URL_MAX 512

/* A Shopify shop or WooCommerce store. name identifies it in webhooks: the shop's
 * "x.myshopify.com" domain (X-Shopify-Shop-Domain), or the store's normalised URL
 * "https://host[:port][/path]" without a trailing slash (X-WC-Webhook-Source). */
struct depot_channel {
    int64_t id;
    char kind[16];                          /* "shopify" or "woocommerce" */
    char name[DEPOT_CHANNEL_NAME_MAX + 1];
    char api_base[DEPOT_CHANNEL_URL_MAX + 1]; /* "" = the platform's own endpoint */
    char api_version[32];                   /* Shopify Admin API version, e.g. "2025-07" */
    int enabled;
};

/* Credentials given when a channel is added; each is encrypted into the vault under
 * "channel/<id>/<field name>". Shopify needs token and webhook_secret; WooCommerce
 * needs consumer_key, consumer_secret and webhook_secret. */
struct depot_channel_credentials {
    const char *token;
    const char *consumer_key;
    const char *consumer_secret;
    const char *webhook_secret;
};

/* api_version NULL = DEPOT_SHOPIFY_API_VERSION for Shopify (ignored for WooCommerce,
 * which is pinned to REST v3 by its path). */
#define DEPOT_SHOPIFY_API_VERSION "2025-07"
/* Adds a channel (or replaces the api_base/credentials of the one with the same kind and
 * name: re-running `channel add` rotates secrets). Validates the shop domain / store URL
 * format and that the credentials the kind needs are present; DEPOT_E_INVALID with the
 * reason otherwise. Audited as CHANNEL_CONNECTED without any secret. */
depot_err depot_channel_add(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                            const char *kind, const char *name, const char *api_base,
                            const char *api_version,
                            const struct depot_channel_credentials *cred,
                            const char *actor, int64_t *id_out);
/* How many times this process added (or re-added: new secrets) a channel; thread-safe.
 * A cache of channels is stale once this moves, so any future call that changes a
 * channel row or its sealed credentials must move it too, after its commit. */
uint64_t depot_channels_changes(void);
/* The channel of kind whose name matches (a store URL is compared normalised, so a
 * trailing slash or upper-case host still matches). DEPOT_E_NOT_FOUND if none. */
depot_err depot_channel_find(depot_store *st, const char *kind, const char *name,
                             struct depot_channel *out);
depot_err depot_channel_get(depot_store *st, int64_t id, struct depot_channel *out);
/* Decrypts one credential of a channel ("token", "consumer_key", "consumer_secret",
 * "webhook_secret") into a malloc'd NUL-terminated string the caller must wipe and
 * free. DEPOT_E_NOT_FOUND if the channel has no such credential. */
depot_err depot_channel_credential(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                                   int64_t channel_id, const char *field, char **value);
/* {"items":[{"id","kind","name","api_base","api_version","enabled","created_at",
 * "credentials":["token",...]}]} -- names of stored credentials only, never values. */
depot_err depot_channel_list_json(depot_store *st, cJSON **out);
/* Maps one of our SKUs to the channel's ids for it (any id may be NULL). */
depot_err depot_channel_map_sku(depot_store *st, int64_t channel_id, const char *sku,
                                const char *product_id, const char *variant_id,
                                const char *inventory_item_id, const char *actor);
/* Maps one of our locations to the channel's location id, with a safety buffer held back
 * from what the channel is told. */
depot_err depot_channel_map_location(depot_store *st, int64_t channel_id,
                                     const char *location, const char *external_location_id,
                                     int64_t buffer, const char *actor);

/* ---- Monitoring ------------------------------------------------------------------- */

/* One consistent snapshot of the monitoring gauges, counted through indexes (live work
 * only, never the delivered or finished history):
 * {"outbox":{"pending":n,"inflight":n,"dead":n}, "inbox":{"pending":n,"failed":n,"dead":n},
 *  "reservations_active":n,
 *  "orders":{"open":n,"reserved":n,"needs_attention":n,"packed":n},
 *  "database_size_bytes":n}. Every status appears, 0 when unused. Caller frees *out. */
depot_err depot_store_stats_json(depot_store *st, cJSON **out);

/* ---- API views -------------------------------------------------------------------- */

/* Read-only, paginated lists for the REST API (views.c). Each gives
 * {"items":[...], "next":cursor} where next is the value to pass as the cursor argument
 * for the following page, or null on the last page. limit is 1..DEPOT_LIST_LIMIT_MAX
 * (DEPOT_E_INVALID otherwise). An id cursor of 0 (or a NULL code cursor) starts at the
 * beginning. Caller frees *out with cJSON_Delete. */
#define DEPOT_LIST_LIMIT_MAX 500
#define DEPOT_LIST_LIMIT_DEFAULT 50
#define DEPOT_SEARCH_MAX 200 /* longest search text */

/* SKUs in code order after the code `after`: {"sku","name","gtins":[..],"on_hand",
 * "reserved","available"} (totals over locations). q (NULL or "" for all) matches a code
 * prefix or a name substring (both ignoring ASCII case), an exact GTIN or an exact bin
 * code. next is a SKU code. */
depot_err depot_sku_list_json(depot_store *st, const char *q, const char *after, int limit,
                              cJSON **out);
/* The ledger of one SKU, newest first, ids below before: {"id","location","delta","kind",
 * "reason","ref","actor","created_at"}. DEPOT_E_NOT_FOUND for an unknown SKU. */
depot_err depot_ledger_list_json(depot_store *st, const char *sku, int64_t before,
                                 int limit, cJSON **out);
/* Orders newest first, ids below before, as depot_order_list_json's items. status NULL
 * for all (else as depot_order_list_json); channel_id < 0 for all, 0 for local orders,
 * else that channel's. */
depot_err depot_order_page_json(depot_store *st, const char *status, int64_t channel_id,
                                int64_t before, int limit, cJSON **out);
/* Outbox rows newest first, ids below before, as depot_outbox_list_json's items; status
 * NULL for all, else pending, inflight, done, dead or superseded. */
depot_err depot_outbox_page_json(depot_store *st, const char *status, int64_t before,
                                 int limit, cJSON **out);
/* Inbox deliveries newest first, ids below before, without headers or body: {"id",
 * "source","delivery_id","channel_id","topic","event_id","status","attempts",
 * "last_error","received_at","processed_at"}; status NULL for all, else pending, done,
 * failed, ignored or dead. */
depot_err depot_inbox_page_json(depot_store *st, const char *status, int64_t before,
                                int limit, cJSON **out);
/* Users in id order after after: {"id","name","role","disabled","password","badge"} (the
 * last two say whether one is set; hashes never leave the store). */
depot_err depot_user_list_json(depot_store *st, int64_t after, int limit, cJSON **out);
/* API tokens in id order after after: {"id","name","role","created_at","last_used_at",
 * "revoked_at"}; never the hash. */
depot_err depot_token_list_json(depot_store *st, int64_t after, int limit, cJSON **out);
/* The audit log newest first, ids below before: {"id","at","actor","action","entity",
 * "detail"} (detail as a JSON object). */
depot_err depot_audit_list_json(depot_store *st, int64_t before, int limit, cJSON **out);

/* ---- Print jobs ------------------------------------------------------------------- */

/* A print job is committed (status "queued") before any byte goes to the printer; the
 * print worker takes each printer's jobs in id order. Statuses: queued, sending, done,
 * failed (given up), cancelled. Printer names are 1..64 of [A-Za-z0-9._-]. */
#define DEPOT_PRINTER_NAME_MAX 64
#define DEPOT_PRINT_PAYLOAD_MAX 1048576

/* Queues payload (1..DEPOT_PRINT_PAYLOAD_MAX bytes, e.g. ZPL) for printer, audited as
 * print.enqueue; *id_out (may be NULL) is the job id. */
depot_err depot_print_enqueue(depot_store *st, const char *printer, const void *payload,
                              size_t len, const char *actor, int64_t *id_out);
/* Jobs newest first (payloads left out): {"id","printer","status","attempts","bytes",
 * "last_error","created_at","updated_at"}; printer NULL for every printer; limit
 * 1..1000. Caller frees *out. */
depot_err depot_print_list_json(depot_store *st, const char *printer, int limit,
                                cJSON **out);
/* Cancels a queued or failed job (DEPOT_E_STATE otherwise), audited as print.cancel. */
depot_err depot_print_cancel(depot_store *st, int64_t id, const char *actor);
/* Queues a new job with the payload and printer of job id (any status), audited as
 * print.reprint; *new_id (may be NULL) is the new job's id. */
depot_err depot_print_reprint(depot_store *st, int64_t id, const char *actor,
                              int64_t *new_id);

/* For the print worker. */
struct depot_print_job {
    int64_t id;
    char status[16];  /* "queued", or "sending" if a send was started and not finished */
    int attempts;
    unsigned char *payload; /* malloc'd; free with depot_print_job_free */
    size_t len;
};
/* The printer's oldest queued or sending job; DEPOT_E_NOT_FOUND when there is none. */
depot_err depot_print_next(depot_store *st, const char *printer,
                           struct depot_print_job *job);
void depot_print_job_free(struct depot_print_job *job);
/* queued|sending -> sending, attempts + 1: called before the first byte is written. */
depot_err depot_print_mark_sending(depot_store *st, int64_t id);
/* sending -> done: the whole payload was written and the printer's status is OK. */
depot_err depot_print_mark_done(depot_store *st, int64_t id);
/* sending -> queued (retry later, keeping its place) or, with give_up, failed; error
 * (1..200 chars) is kept as last_error. */
depot_err depot_print_mark_failed(depot_store *st, int64_t id, const char *error,
                                  int give_up);

/* ---- Audit and verification ------------------------------------------------------- */

/* Appends an audit row in its own transaction (for events outside store operations). */
depot_err depot_audit_append(depot_store *st, const char *actor, const char *action,
                             const char *entity, const char *detail_json);

/* Checks schema version, integrity, CHECK invariants, on_hand == sum(ledger),
 * reserved == sum(active reservations), and the audit hash chain. Returns DEPOT_OK
 * when all hold; otherwise DEPOT_E_INTEGRITY and *problems lists what is wrong (a JSON
 * array of strings; always set, caller frees). */
depot_err depot_store_verify(depot_store *st, cJSON **problems);

#endif
