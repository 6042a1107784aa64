/* Private interface shared by the files of sqlite/: the connection, its statement cache,
 * transaction helpers, error recording, and the hooks every stock change goes through.
 * Nothing outside sqlite/ includes this. */
#ifndef DEPOT_STORE_INT_H
#define DEPOT_STORE_INT_H

#include <sqlite3.h>
#include <stdarg.h>
#include "store.h"

#define STORE_STMT_CACHE 256

struct stmt_slot {
    const char *sql; /* the literal's address is the cache key */
    sqlite3_stmt *stmt;
};

struct depot_store {
    sqlite3 *db;
    int in_tx;
    int batch;          /* inside depot_store_batch_begin: operations are savepoints */
    int busy_timeout_ms;
    int64_t busy_since_us; /* when the current wait for the write lock began */
    struct stmt_slot cache[STORE_STMT_CACHE];
    char errmsg[256];
};

/* A prepared statement for a string literal, cached per connection and reset/cleared
 * before it is returned. sql must be a literal (its address is the key). NULL on error
 * (recorded in errmsg). */
sqlite3_stmt *store__stmt(depot_store *st, const char *sql);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. begin maps SQLITE_BUSY to DEPOT_E_BUSY. */
depot_err store__begin(depot_store *st);
depot_err store__commit(depot_store *st);
void store__rollback(depot_store *st);

/* Runs a statement that returns no rows; maps constraint failures to DEPOT_E_CONFLICT
 * or DEPOT_E_INSUFFICIENT (CHECK), busy to DEPOT_E_BUSY. */
depot_err store__step_done(depot_store *st, sqlite3_stmt *s);

/* Records a reason for the last error and returns e (for `return store__fail(...)`). */
depot_err store__fail(depot_store *st, depot_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records sqlite3_errmsg with a context word; maps the SQLite code to a depot_err. */
depot_err store__dberr(depot_store *st, const char *context);
void store__clear_error(depot_store *st);

int64_t store__now(void);

/* Lookups inside a transaction; DEPOT_E_NOT_FOUND (with message) when missing. */
depot_err store__sku_id(depot_store *st, const char *code, int64_t *id);
depot_err store__location_id(depot_store *st, const char *code, int64_t *id);

/* Lowercase hex of n bytes into out (2n + 1 bytes), and the SHA-256 of a string as hex:
 * how tokens, sessions and badges are stored. */
void store__hex(const uint8_t *in, size_t n, char *out);
void store__sha256_hex(const char *s, char out[65]);
/* n (at most 32) fresh random bytes as lowercase hex into out (2n + 1 bytes); out is
 * untouched on failure. Returns depot_random_bytes' error. */
depot_err store__random_hex(char *out, size_t n);
/* 1 if s is exactly len lowercase hex digits, else 0. */
int store__is_lower_hex(const char *s, size_t len);

/* Validation helpers shared by the operations and the CSV import. */
int store__valid_code(const char *s, size_t maxlen);       /* printable, no spaces at ends */
int store__valid_text(const char *s, size_t maxlen);       /* non-empty, no control chars */
int store__valid_role(const char *role);
/* 1 if s is 8, 12, 13 or 14 digits with a correct GS1 check digit. */
int store__valid_gtin(const char *s);

/* Within a transaction: appends a ledger row and moves on_hand by delta (creating the
 * stock row if needed). kind is adjust|import|receive|ship|return|count. */
depot_err store__ledger_apply(depot_store *st, int64_t sku_id, int64_t location_id,
                              int64_t delta, const char *kind, const char *reason,
                              const char *ref, const char *actor, int64_t *ledger_id);

/* Within a transaction: the available quantity of (sku, location) changed; writes one
 * "inventory.set" outbox row per channel that maps both the SKU and the location, with
 * available = on_hand - reserved - buffers (never negative). */
depot_err store__stock_changed(depot_store *st, int64_t sku_id, int64_t location_id);

/* Within a transaction (reserve.c): reserves every line of the order, all or nothing
 * (DEPOT_E_INSUFFICIENT names the short SKU; the caller rolls back), without touching
 * the order's status; and ends the order's active reservations as "released" (*n counts
 * them). Used by the public calls and by channel order ingestion. */
depot_err store__order_reserve_lines(depot_store *st, int64_t order_id, int64_t expires_at);
depot_err store__order_release_active(depot_store *st, int64_t order_id, int *n);

/* Within a transaction: writes one outbox row. target is "channel" or "carrier";
 * aggregate groups rows that must go in order (e.g. "order:42"); key is the
 * idempotency key (unique); payload a JSON object. */
depot_err store__outbox_put(depot_store *st, const char *target, int64_t target_id,
                            const char *topic, const char *aggregate, const char *key,
                            const char *payload_json);

/* Within a transaction: seals value under name with the master key and stores it (no
 * audit row: the caller audits the operation it belongs to). *replaced tells whether a
 * value existed. */
depot_err store__secret_write(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                              const char *name, const uint8_t *value, size_t len,
                              int *replaced);

/* The credentials of an account (kind "channel" or "carrier") are secrets named
 * "<kind>/<id>/<field>", field one of the NULL-terminated fields. credentials_write,
 * within a transaction, seals every non-empty values[i] as fields[i]; credential_read
 * gives one field's value (*value malloc'd, NUL-terminated; DEPOT_E_INVALID for a field
 * not in fields, DEPOT_E_NOT_FOUND when it was never set); credential_names appends to
 * names what sec returns for the account: sec takes the prefix "<kind>/<id>/" as ?1 and
 * returns a field name in column 0 per row. */
depot_err store__credentials_write(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                                   const char *kind, int64_t id,
                                   const char *const fields[], const char *const values[]);
depot_err store__credential_read(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                                 const char *kind, int64_t id, const char *const fields[],
                                 const char *field, char **value);
void store__credential_names(sqlite3_stmt *sec, const char *kind, int64_t id, cJSON *names);

/* Within a transaction: appends an audit row chained to the previous one's hash. */
depot_err store__audit(depot_store *st, const char *actor, const char *action,
                       const char *entity, const char *detail_json);

/* Computes an audit row's hash (hex, 64 chars + NUL) from the previous hash and the
 * row's fields; used by store__audit and by verification. */
void store__audit_hash(const char *prev_hex, int64_t id, int64_t at, const char *actor,
                       const char *action, const char *entity, const char *detail,
                       char out_hex[65]);

/* Row builders shared by the list functions and the API views (views.c): an order's
 * summary from columns id, channel_id, external_id, number, status, created_at,
 * updated_at, units; an outbox row from columns id, idempotency_key, target, target_id,
 * topic, aggregate, status, attempts, next_attempt_at, last_error, created_at, payload.
 * The caller owns the object. */
cJSON *store__order_summary(sqlite3_stmt *s);
cJSON *store__outbox_row(sqlite3_stmt *s);

/* Row helpers (rows.c). copy_text copies a text column (NULL as "") into dst, cut to
 * cap. fetch_row steps s (bound by the caller) for one row, read by fill(s, out), and
 * resets it; no row is DEPOT_E_NOT_FOUND "unknown <noun> <what>"; fetch_id is fetch_row
 * for a statement that takes only the row's id as ?1 (what is the id). list_end finishes a
 * list read by `while (items && (rc = sqlite3_step(s)) == SQLITE_ROW)`: it resets s, and
 * on SQLITE_DONE with items (doc's array) made gives doc to *out; else frees doc and
 * records out of memory or the database error (context names the list). audit_json is
 * store__audit with detail printed as JSON (NULL detail: out of memory); it frees detail.
 * end_tx ends a write transaction: commits when e is DEPOT_OK, else (or when the commit
 * fails) rolls back; returns the outcome. */
typedef void (*store__row_fill)(sqlite3_stmt *s, void *out);
void store__copy_text(char *dst, size_t cap, const unsigned char *src);
depot_err store__fetch_row(depot_store *st, sqlite3_stmt *s, store__row_fill fill, void *out,
                           const char *noun, const char *what);
depot_err store__fetch_id(depot_store *st, sqlite3_stmt *s, int64_t id, store__row_fill fill,
                          void *out, const char *noun);
depot_err store__list_end(depot_store *st, sqlite3_stmt *s, int rc, cJSON *doc,
                          const cJSON *items, const char *context, cJSON **out);
depot_err store__audit_json(depot_store *st, const char *actor, const char *action,
                           const char *entity, cJSON *detail);
depot_err store__end_tx(depot_store *st, depot_err e);

/* Embedded migrations, generated at build time from sqlite/migrations/NNNN_*.sql. */
extern const char *const depot_migrations[];
extern const int depot_migrations_count;

#endif
