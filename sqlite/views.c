/* The REST API's read views: paginated, read-only lists of SKUs, ledger, orders, outbox,
 * inbox, users, tokens and the audit log, each as {"items":[...], "next":cursor}. */
#include <stdio.h>
#include <string.h>
#include "store_int.h"

/* Rationale: pages are keyed (a cursor on the sort key), never OFFSET, so a page costs
 * the same however deep it is and rows inserted meanwhile do not shift later pages. Each
 * query asks for limit + 1 rows; the extra one only says whether there is a next page.
 * Filters on a status are separate literal statements, so SQLite can prove a partial
 * index (outbox_dead, inbox_pending, ...) applies instead of scanning the history. */

typedef cJSON *(*row_fn)(sqlite3_stmt *s);

/* Starts a list view: clears the error and *out, and checks limit. */
static depot_err page_begin(depot_store *st, int limit, cJSON **out)
{
    store__clear_error(st);
    *out = NULL;
    if (limit < 1 || limit > DEPOT_LIST_LIMIT_MAX)
        return store__fail(st, DEPOT_E_INVALID, "limit must be 1..%d", DEPOT_LIST_LIMIT_MAX);
    return DEPOT_OK;
}

/* An id cursor for "id < ?": 0 means from the newest. */
static int64_t before_id(int64_t before)
{
    return before > 0 ? before : INT64_MAX;
}

/* Steps s (bound, with LIMIT limit + 1) into *out; next is the cursor member of the last
 * item kept when a further row exists. */
static depot_err page(depot_store *st, sqlite3_stmt *s, int limit, row_fn row,
                      const char *cursor, const char *what, cJSON **out)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(doc, "items");
    cJSON *last = NULL;
    int rc, n = 0, more = 0;
    if (!items) {
        sqlite3_reset(s);
        cJSON_Delete(doc);
        return store__fail(st, DEPOT_E_NOMEM, "out of memory");
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == limit) {
            more = 1;
            break;
        }
        last = row(s);
        if (!last || !cJSON_AddItemToArray(items, last)) {
            cJSON_Delete(last);
            sqlite3_reset(s);
            cJSON_Delete(doc);
            return store__fail(st, DEPOT_E_NOMEM, "out of memory");
        }
        n++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        cJSON_Delete(doc);
        return store__dberr(st, what);
    }
    cJSON *next = more ? cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(last, cursor), 1)
                       : cJSON_CreateNull();
    if (!next || !cJSON_AddItemToObject(doc, "next", next)) {
        cJSON_Delete(next);
        cJSON_Delete(doc);
        return store__fail(st, DEPOT_E_NOMEM, "out of memory");
    }
    *out = doc;
    return DEPOT_OK;
}

/* Pages sql, whose ?1 is the id cursor and ?2 the row limit, keyed on "id". */
static depot_err id_page(depot_store *st, const char *sql, int64_t cursor, int limit,
                         row_fn row, const char *what, cJSON **out)
{
    sqlite3_stmt *s = store__stmt(st, sql);
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, cursor);
    sqlite3_bind_int(s, 2, limit + 1);
    return page(st, s, limit, row, "id", what, out);
}

static void add_text_or_null(cJSON *o, const char *key, sqlite3_stmt *s, int col)
{
    if (sqlite3_column_type(s, col) == SQLITE_NULL)
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddStringToObject(o, key, (const char *)sqlite3_column_text(s, col));
}

static void add_int_or_null(cJSON *o, const char *key, sqlite3_stmt *s, int col)
{
    if (sqlite3_column_type(s, col) == SQLITE_NULL)
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddNumberToObject(o, key, (double)sqlite3_column_int64(s, col));
}

/* A JSON text column as a parsed value (null if absent or unparsable). */
static void add_json(cJSON *o, const char *key, sqlite3_stmt *s, int col)
{
    cJSON *v = NULL;
    if (sqlite3_column_type(s, col) != SQLITE_NULL)
        v = cJSON_Parse((const char *)sqlite3_column_text(s, col));
    cJSON_AddItemToObject(o, key, v ? v : cJSON_CreateNull());
}

/* The index of status in list (NULL-terminated), or -1. */
static int status_index(const char *const *list, const char *status)
{
    for (int i = 0; list[i]; i++)
        if (!strcmp(list[i], status))
            return i;
    return -1;
}

/* ---- SKUs ------------------------------------------------------------------------ */

static cJSON *sku_row(sqlite3_stmt *s)
{
    cJSON *o = cJSON_CreateObject();
    int64_t on_hand = sqlite3_column_int64(s, 3), reserved = sqlite3_column_int64(s, 4);
    cJSON_AddStringToObject(o, "sku", (const char *)sqlite3_column_text(s, 0));
    cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(s, 1));
    add_json(o, "gtins", s, 2);
    cJSON_AddNumberToObject(o, "on_hand", (double)on_hand);
    cJSON_AddNumberToObject(o, "reserved", (double)reserved);
    cJSON_AddNumberToObject(o, "available", (double)(on_hand - reserved));
    return o;
}

depot_err depot_sku_list_json(depot_store *st, const char *q, const char *after, int limit,
                              cJSON **out)
{
    depot_err e = page_begin(st, limit, out);
    if (e != DEPOT_OK)
        return e;
    if (q && strlen(q) > DEPOT_SEARCH_MAX)
        return store__fail(st, DEPOT_E_INVALID, "search text must be at most %d characters",
                           DEPOT_SEARCH_MAX);
    sqlite3_stmt *s = store__stmt(st,
        "SELECT sk.code, sk.name,"
        "       (SELECT json_group_array(gtin) FROM (SELECT gtin FROM sku_gtins"
        "                                            WHERE sku_id = sk.id ORDER BY gtin)),"
        "       (SELECT coalesce(sum(on_hand), 0) FROM stock WHERE sku_id = sk.id),"
        "       (SELECT coalesce(sum(reserved), 0) FROM stock WHERE sku_id = sk.id)"
        "  FROM skus sk"
        " WHERE (?1 IS NULL OR sk.code > ?1)"
        "   AND (?2 IS NULL"
        "        OR lower(substr(sk.code, 1, length(?2))) = lower(?2)"
        "        OR instr(lower(sk.name), lower(?2)) > 0"
        "        OR EXISTS (SELECT 1 FROM sku_gtins g WHERE g.sku_id = sk.id AND g.gtin = ?2)"
        "        OR EXISTS (SELECT 1 FROM stock k JOIN bins b ON b.id = k.bin_id"
        "                    WHERE k.sku_id = sk.id AND b.code = ?2))"
        " ORDER BY sk.code LIMIT ?3");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, after, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, q && *q ? q : NULL, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, limit + 1);
    return page(st, s, limit, sku_row, "sku", "list skus", out);
}

/* ---- Ledger ---------------------------------------------------------------------- */

static cJSON *ledger_row(sqlite3_stmt *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(s, 0));
    cJSON_AddStringToObject(o, "location", (const char *)sqlite3_column_text(s, 1));
    cJSON_AddNumberToObject(o, "delta", (double)sqlite3_column_int64(s, 2));
    cJSON_AddStringToObject(o, "kind", (const char *)sqlite3_column_text(s, 3));
    cJSON_AddStringToObject(o, "reason", (const char *)sqlite3_column_text(s, 4));
    add_text_or_null(o, "ref", s, 5);
    cJSON_AddStringToObject(o, "actor", (const char *)sqlite3_column_text(s, 6));
    cJSON_AddNumberToObject(o, "created_at", (double)sqlite3_column_int64(s, 7));
    return o;
}

depot_err depot_ledger_list_json(depot_store *st, const char *sku, int64_t before,
                                 int limit, cJSON **out)
{
    int64_t sku_id;
    depot_err e = page_begin(st, limit, out);
    if (e != DEPOT_OK || (e = store__sku_id(st, sku, &sku_id)) != DEPOT_OK)
        return e;
    sqlite3_stmt *s = store__stmt(st,
        "SELECT lg.id, l.code, lg.delta, lg.kind, lg.reason, lg.ref, lg.actor, lg.created_at"
        "  FROM ledger lg JOIN locations l ON l.id = lg.location_id"
        " WHERE lg.sku_id = ?1 AND lg.id < ?2 ORDER BY lg.id DESC LIMIT ?3");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, sku_id);
    sqlite3_bind_int64(s, 2, before_id(before));
    sqlite3_bind_int(s, 3, limit + 1);
    return page(st, s, limit, ledger_row, "id", "list ledger", out);
}

/* ---- Orders ---------------------------------------------------------------------- */

#define ORDER_COLS \
    "SELECT o.id, o.channel_id, o.external_id, o.number, o.status, o.created_at," \
    "       o.updated_at, (SELECT coalesce(sum(quantity), 0) FROM order_lines"    \
    "                     WHERE order_id = o.id)"                                 \
    "  FROM orders o"

depot_err depot_order_page_json(depot_store *st, const char *status, int64_t channel_id,
                                int64_t before, int limit, cJSON **out)
{
    static const char *const statuses[] = {"open", "reserved", "needs_attention", "packed",
                                           "shipped", "cancelled", NULL};
    depot_err e = page_begin(st, limit, out);
    if (e != DEPOT_OK)
        return e;
    if (status && status_index(statuses, status) < 0)
        return store__fail(st, DEPOT_E_INVALID, "unknown order status '%s' (open, reserved, "
                           "needs_attention, packed, shipped or cancelled)", status);
    /* With a status, the orders_status (status, id) index gives the order directly. */
    sqlite3_stmt *s = status
        ? store__stmt(st, ORDER_COLS " WHERE o.status = ?1 AND o.id < ?3"
                          "   AND (?2 < 0 OR coalesce(o.channel_id, 0) = ?2)"
                          " ORDER BY o.id DESC LIMIT ?4")
        : store__stmt(st, ORDER_COLS " WHERE o.id < ?3"
                          "   AND (?2 < 0 OR coalesce(o.channel_id, 0) = ?2)"
                          " ORDER BY o.id DESC LIMIT ?4");
    if (!s)
        return DEPOT_E_DB;
    if (status)
        sqlite3_bind_text(s, 1, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, channel_id);
    sqlite3_bind_int64(s, 3, before_id(before));
    sqlite3_bind_int(s, 4, limit + 1);
    return page(st, s, limit, store__order_summary, "id", "list orders", out);
}

/* ---- Outbox and inbox ------------------------------------------------------------ */

#define OUTBOX_COLS                                                                     \
    "SELECT id, idempotency_key, target, target_id, topic, aggregate, status, attempts," \
    "       next_attempt_at, last_error, created_at, payload FROM outbox"
#define OUTBOX_BY(cond) OUTBOX_COLS " WHERE " cond "id < ?1 ORDER BY id DESC LIMIT ?2"

depot_err depot_outbox_page_json(depot_store *st, const char *status, int64_t before,
                                 int limit, cJSON **out)
{
    static const char *const statuses[] = {"pending", "inflight", "done", "dead",
                                           "superseded", NULL};
    static const char *const by_status[] = {
        OUTBOX_BY("status = 'pending' AND "), OUTBOX_BY("status = 'inflight' AND "),
        OUTBOX_BY("status = 'done' AND "),    OUTBOX_BY("status = 'dead' AND "),
        OUTBOX_BY("status = 'superseded' AND "),
    };
    depot_err e = page_begin(st, limit, out);
    if (e != DEPOT_OK)
        return e;
    int i = status ? status_index(statuses, status) : -1;
    if (status && i < 0)
        return store__fail(st, DEPOT_E_INVALID, "unknown outbox status '%s' (pending, "
                           "inflight, done, dead or superseded)", status);
    return id_page(st, i >= 0 ? by_status[i] : OUTBOX_BY(""), before_id(before), limit,
                   store__outbox_row, "list outbox", out);
}

#define INBOX_COLS                                                                     \
    "SELECT id, source, delivery_id, channel_id, topic, event_id, status, attempts,"  \
    "       last_error, received_at, processed_at FROM inbox"
#define INBOX_BY(cond) INBOX_COLS " WHERE " cond "id < ?1 ORDER BY id DESC LIMIT ?2"

static cJSON *inbox_row(sqlite3_stmt *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(s, 0));
    cJSON_AddStringToObject(o, "source", (const char *)sqlite3_column_text(s, 1));
    cJSON_AddStringToObject(o, "delivery_id", (const char *)sqlite3_column_text(s, 2));
    add_int_or_null(o, "channel_id", s, 3);
    cJSON_AddStringToObject(o, "topic", (const char *)sqlite3_column_text(s, 4));
    add_text_or_null(o, "event_id", s, 5);
    cJSON_AddStringToObject(o, "status", (const char *)sqlite3_column_text(s, 6));
    cJSON_AddNumberToObject(o, "attempts", sqlite3_column_int(s, 7));
    add_text_or_null(o, "last_error", s, 8);
    cJSON_AddNumberToObject(o, "received_at", (double)sqlite3_column_int64(s, 9));
    add_int_or_null(o, "processed_at", s, 10);
    return o;
}

depot_err depot_inbox_page_json(depot_store *st, const char *status, int64_t before,
                                int limit, cJSON **out)
{
    static const char *const statuses[] = {"pending", "done", "failed", "ignored", "dead",
                                           NULL};
    static const char *const by_status[] = {
        INBOX_BY("status = 'pending' AND "), INBOX_BY("status = 'done' AND "),
        INBOX_BY("status = 'failed' AND "),  INBOX_BY("status = 'ignored' AND "),
        INBOX_BY("status = 'dead' AND "),
    };
    depot_err e = page_begin(st, limit, out);
    if (e != DEPOT_OK)
        return e;
    int i = status ? status_index(statuses, status) : -1;
    if (status && i < 0)
        return store__fail(st, DEPOT_E_INVALID, "unknown inbox status '%s' (pending, done, "
                           "failed, ignored or dead)", status);
    return id_page(st, i >= 0 ? by_status[i] : INBOX_BY(""), before_id(before), limit,
                   inbox_row, "list inbox", out);
}

/* ---- Users, tokens and the audit log ---------------------------------------------- */

static cJSON *user_row(sqlite3_stmt *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(s, 0));
    cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(s, 1));
    cJSON_AddStringToObject(o, "role", (const char *)sqlite3_column_text(s, 2));
    cJSON_AddBoolToObject(o, "disabled", sqlite3_column_int(s, 3));
    cJSON_AddBoolToObject(o, "password", sqlite3_column_int(s, 4));
    cJSON_AddBoolToObject(o, "badge", sqlite3_column_int(s, 5));
    cJSON_AddNumberToObject(o, "created_at", (double)sqlite3_column_int64(s, 6));
    return o;
}

depot_err depot_user_list_json(depot_store *st, int64_t after, int limit, cJSON **out)
{
    depot_err e = page_begin(st, limit, out);
    if (e != DEPOT_OK)
        return e;
    return id_page(st,
        "SELECT id, name, role, disabled, password_hash IS NOT NULL, badge_hash IS NOT NULL,"
        "       created_at FROM users WHERE id > ?1 ORDER BY id LIMIT ?2",
        after, limit, user_row, "list users", out);
}

static cJSON *token_row(sqlite3_stmt *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(s, 0));
    cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(s, 1));
    cJSON_AddStringToObject(o, "role", (const char *)sqlite3_column_text(s, 2));
    cJSON_AddNumberToObject(o, "created_at", (double)sqlite3_column_int64(s, 3));
    add_int_or_null(o, "last_used_at", s, 4);
    add_int_or_null(o, "revoked_at", s, 5);
    return o;
}

depot_err depot_token_list_json(depot_store *st, int64_t after, int limit, cJSON **out)
{
    depot_err e = page_begin(st, limit, out);
    if (e != DEPOT_OK)
        return e;
    return id_page(st,
        "SELECT id, name, role, created_at, last_used_at, revoked_at"
        "  FROM api_tokens WHERE id > ?1 ORDER BY id LIMIT ?2",
        after, limit, token_row, "list tokens", out);
}

static cJSON *audit_row(sqlite3_stmt *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(s, 0));
    cJSON_AddNumberToObject(o, "at", (double)sqlite3_column_int64(s, 1));
    cJSON_AddStringToObject(o, "actor", (const char *)sqlite3_column_text(s, 2));
    cJSON_AddStringToObject(o, "action", (const char *)sqlite3_column_text(s, 3));
    cJSON_AddStringToObject(o, "entity", (const char *)sqlite3_column_text(s, 4));
    add_json(o, "detail", s, 5);
    return o;
}

depot_err depot_audit_list_json(depot_store *st, int64_t before, int limit, cJSON **out)
{
    depot_err e = page_begin(st, limit, out);
    if (e != DEPOT_OK)
        return e;
    return id_page(st,
        "SELECT id, at, actor, action, entity, detail FROM audit"
        " WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
        before_id(before), limit, audit_row, "list audit", out);
}
