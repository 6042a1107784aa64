/* Orders: idempotent creation (one order per channel + external id) and the list/detail
 * views. Reservation and shipping live in reserve.c. */
#include <stdio.h>
#include <string.h>
#include "store_int.h"

#define MAX_ORDER_LINES 1000

static int valid_json_object(const char *s)
{
    if (!s)
        return 1;
    if (strlen(s) > 65536)
        return 0;
    cJSON *j = cJSON_Parse(s);
    int ok = j && cJSON_IsObject(j);
    cJSON_Delete(j);
    return ok;
}

static depot_err validate_order(depot_store *st, const struct depot_order_in *in)
{
    if (in->channel_id < 0)
        return store__fail(st, DEPOT_E_INVALID, "channel id must not be negative");
    if (!store__valid_code(in->external_id, 128))
        return store__fail(st, DEPOT_E_INVALID, "external id must be 1..128 printable "
                                                "characters");
    if (in->number && !store__valid_text(in->number, 64))
        return store__fail(st, DEPOT_E_INVALID, "order number must be 1..64 characters");
    if (!valid_json_object(in->customer_json) || !valid_json_object(in->ship_to_json))
        return store__fail(st, DEPOT_E_INVALID, "customer and ship-to must be JSON objects "
                                                "of at most 64 KiB");
    if (in->n_lines < 1 || in->n_lines > MAX_ORDER_LINES)
        return store__fail(st, DEPOT_E_INVALID, "an order needs 1..%d lines", MAX_ORDER_LINES);
    for (size_t i = 0; i < in->n_lines; i++) {
        const struct depot_order_line_in *l = &in->lines[i];
        if (l->quantity < 1 || l->quantity > 1000000)
            return store__fail(st, DEPOT_E_INVALID, "line %zu: quantity must be 1..1000000",
                               i + 1);
        if (l->title && !store__valid_text(l->title, 255))
            return store__fail(st, DEPOT_E_INVALID, "line %zu: title must be 1..255 "
                                                    "characters", i + 1);
        if (l->external_line_id && !store__valid_code(l->external_line_id, 128))
            return store__fail(st, DEPOT_E_INVALID, "line %zu: bad external line id", i + 1);
    }
    return DEPOT_OK;
}

static depot_err find_order(depot_store *st, int64_t channel_id, const char *external_id,
                            int64_t *id)
{
    sqlite3_stmt *s = store__stmt(st,
        "SELECT id FROM orders WHERE coalesce(channel_id, 0) = ?1 AND external_id = ?2");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, channel_id);
    sqlite3_bind_text(s, 2, external_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DEPOT_OK : store__dberr(st, "find order");
}

static depot_err insert_lines(depot_store *st, int64_t order_id,
                              const struct depot_order_in *in, int *unresolved)
{
    *unresolved = 0;
    for (size_t i = 0; i < in->n_lines; i++) {
        const struct depot_order_line_in *l = &in->lines[i];
        int64_t sku_id = 0;
        if (l->sku) {
            depot_err e = store__sku_id(st, l->sku, &sku_id);
            if (e == DEPOT_E_NOT_FOUND)
                sku_id = 0;
            else if (e != DEPOT_OK)
                return e;
        }
        if (!sku_id)
            (*unresolved)++;
        sqlite3_stmt *s = store__stmt(st,
            "INSERT INTO order_lines (order_id, line_no, sku_id, external_line_id, title,"
            " quantity) VALUES (?1, ?2, nullif(?3, 0), ?4, ?5, ?6)");
        if (!s)
            return DEPOT_E_DB;
        sqlite3_bind_int64(s, 1, order_id);
        sqlite3_bind_int64(s, 2, (int64_t)i + 1);
        sqlite3_bind_int64(s, 3, sku_id);
        sqlite3_bind_text(s, 4, l->external_line_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, l->title ? l->title : l->sku, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 6, l->quantity);
        depot_err e = store__step_done(st, s);
        if (e != DEPOT_OK)
            return e;
    }
    return DEPOT_OK;
}

depot_err depot_order_create(depot_store *st, const struct depot_order_in *in,
                             const char *actor, int64_t *order_id, int *created)
{
    store__clear_error(st);
    depot_err e = validate_order(st, in);
    if (e != DEPOT_OK)
        return e;
    if ((e = store__begin(st)) != DEPOT_OK)
        return e;
    int64_t id;
    if ((e = find_order(st, in->channel_id, in->external_id, &id)) != DEPOT_OK)
        goto fail;
    if (id) {
        store__rollback(st);
        *order_id = id;
        if (created)
            *created = 0;
        return DEPOT_OK;
    }
    int64_t now = store__now();
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO orders (channel_id, external_id, number, status, customer, ship_to,"
        " created_at, updated_at) VALUES (nullif(?1, 0), ?2, ?3, 'open', ?4, ?5, ?6, ?6)");
    if (!s) {
        e = DEPOT_E_DB;
        goto fail;
    }
    sqlite3_bind_int64(s, 1, in->channel_id);
    sqlite3_bind_text(s, 2, in->external_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, in->number, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, in->customer_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, in->ship_to_json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, now);
    if ((e = store__step_done(st, s)) != DEPOT_OK) {
        if (e == DEPOT_E_INVALID)
            store__fail(st, e, "unknown channel %lld", (long long)in->channel_id);
        goto fail;
    }
    id = sqlite3_last_insert_rowid(st->db);
    int unresolved;
    if ((e = insert_lines(st, id, in, &unresolved)) != DEPOT_OK)
        goto fail;
    if (unresolved) {
        s = store__stmt(st, "UPDATE orders SET status = 'needs_attention' WHERE id = ?1");
        if (!s) {
            e = DEPOT_E_DB;
            goto fail;
        }
        sqlite3_bind_int64(s, 1, id);
        if ((e = store__step_done(st, s)) != DEPOT_OK)
            goto fail;
    }
    char entity[32], detail[160];
    snprintf(entity, sizeof entity, "order:%lld", (long long)id);
    snprintf(detail, sizeof detail, "{\"channel_id\":%lld,\"lines\":%zu,\"unresolved\":%d}",
             (long long)in->channel_id, in->n_lines, unresolved);
    if ((e = store__audit(st, actor, "order.create", entity, detail)) != DEPOT_OK)
        goto fail;
    if ((e = store__commit(st)) != DEPOT_OK)
        return e;
    *order_id = id;
    if (created)
        *created = 1;
    return DEPOT_OK;
fail:
    store__rollback(st);
    return e;
}

static void add_text_or_null(cJSON *o, const char *key, sqlite3_stmt *s, int col)
{
    if (sqlite3_column_type(s, col) == SQLITE_NULL)
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddStringToObject(o, key, (const char *)sqlite3_column_text(s, col));
}

/* Columns 0..7 of both order queries below and of the order view in views.c. */
cJSON *store__order_summary(sqlite3_stmt *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(s, 0));
    if (sqlite3_column_type(s, 1) == SQLITE_NULL)
        cJSON_AddNullToObject(o, "channel_id");
    else
        cJSON_AddNumberToObject(o, "channel_id", (double)sqlite3_column_int64(s, 1));
    cJSON_AddStringToObject(o, "external_id", (const char *)sqlite3_column_text(s, 2));
    add_text_or_null(o, "number", s, 3);
    cJSON_AddStringToObject(o, "status", (const char *)sqlite3_column_text(s, 4));
    cJSON_AddNumberToObject(o, "created_at", (double)sqlite3_column_int64(s, 5));
    cJSON_AddNumberToObject(o, "updated_at", (double)sqlite3_column_int64(s, 6));
    cJSON_AddNumberToObject(o, "units", (double)sqlite3_column_int64(s, 7));
    return o;
}

depot_err depot_order_list_json(depot_store *st, const char *status, int limit, cJSON **out)
{
    store__clear_error(st);
    *out = NULL;
    static const char *const statuses[] = {"open", "reserved", "needs_attention", "packed",
                                           "shipped", "cancelled", NULL};
    size_t i = 0;
    while (status && statuses[i] && strcmp(statuses[i], status) != 0)
        i++;
    if (status && !statuses[i])
        return store__fail(st, DEPOT_E_INVALID, "unknown order status '%s' (open, reserved, "
                           "needs_attention, packed, shipped or cancelled)", status);
    if (limit < 1 || limit > 1000)
        return store__fail(st, DEPOT_E_INVALID, "limit must be 1..1000");
    sqlite3_stmt *s = store__stmt(st,
        "SELECT o.id, o.channel_id, o.external_id, o.number, o.status, o.created_at,"
        "       o.updated_at, (SELECT coalesce(sum(quantity), 0) FROM order_lines"
        "                     WHERE order_id = o.id)"
        "  FROM orders o WHERE ?1 IS NULL OR o.status = ?1 ORDER BY o.id DESC LIMIT ?2");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, status, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, limit);
    cJSON *arr = cJSON_CreateArray();
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        cJSON_AddItemToArray(arr, store__order_summary(s));
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(arr);
        return store__dberr(st, "list orders");
    }
    *out = arr;
    return DEPOT_OK;
}

static void add_json_or_null(cJSON *o, const char *key, sqlite3_stmt *s, int col)
{
    cJSON *v = NULL;
    if (sqlite3_column_type(s, col) != SQLITE_NULL)
        v = cJSON_Parse((const char *)sqlite3_column_text(s, col));
    cJSON_AddItemToObject(o, key, v ? v : cJSON_CreateNull());
}

depot_err depot_order_show_json(depot_store *st, int64_t order_id, cJSON **out)
{
    store__clear_error(st);
    *out = NULL;
    sqlite3_stmt *s = store__stmt(st,
        "SELECT o.id, o.channel_id, o.external_id, o.number, o.status, o.created_at,"
        "       o.updated_at, (SELECT coalesce(sum(quantity), 0) FROM order_lines"
        "                     WHERE order_id = o.id), o.customer, o.ship_to"
        "  FROM orders o WHERE o.id = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, order_id);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return store__fail(st, DEPOT_E_NOT_FOUND, "no order %lld", (long long)order_id);
    }
    cJSON *o = store__order_summary(s);
    add_json_or_null(o, "customer", s, 8);
    add_json_or_null(o, "ship_to", s, 9);
    sqlite3_reset(s);

    cJSON *lines = cJSON_AddArrayToObject(o, "lines");
    s = store__stmt(st,
        "SELECT ol.id, ol.line_no, sk.code, ol.title, ol.quantity, ol.packed_qty,"
        "       ol.external_line_id,"
        "       (SELECT coalesce(sum(quantity), 0) FROM reservations r"
        "         WHERE r.order_id = ol.order_id AND r.line_id = ol.id"
        "           AND r.status = 'active')"
        "  FROM order_lines ol LEFT JOIN skus sk ON sk.id = ol.sku_id"
        " WHERE ol.order_id = ?1 ORDER BY ol.line_no");
    if (!s)
        goto fail;
    sqlite3_bind_int64(s, 1, order_id);
    while (sqlite3_step(s) == SQLITE_ROW) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddNumberToObject(l, "id", (double)sqlite3_column_int64(s, 0));
        cJSON_AddNumberToObject(l, "line_no", sqlite3_column_int(s, 1));
        add_text_or_null(l, "sku", s, 2);
        add_text_or_null(l, "title", s, 3);
        cJSON_AddNumberToObject(l, "quantity", (double)sqlite3_column_int64(s, 4));
        cJSON_AddNumberToObject(l, "packed", (double)sqlite3_column_int64(s, 5));
        add_text_or_null(l, "external_line_id", s, 6);
        cJSON_AddNumberToObject(l, "reserved", (double)sqlite3_column_int64(s, 7));
        cJSON_AddItemToArray(lines, l);
    }
    sqlite3_reset(s);

    cJSON *res = cJSON_AddArrayToObject(o, "reservations");
    s = store__stmt(st,
        "SELECT r.id, ol.line_no, sk.code, l.code, r.quantity, r.status, r.expires_at"
        "  FROM reservations r JOIN order_lines ol ON ol.id = r.line_id"
        "  JOIN skus sk ON sk.id = r.sku_id JOIN locations l ON l.id = r.location_id"
        " WHERE r.order_id = ?1 ORDER BY r.id");
    if (!s)
        goto fail;
    sqlite3_bind_int64(s, 1, order_id);
    while (sqlite3_step(s) == SQLITE_ROW) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddNumberToObject(r, "id", (double)sqlite3_column_int64(s, 0));
        cJSON_AddNumberToObject(r, "line_no", sqlite3_column_int(s, 1));
        cJSON_AddStringToObject(r, "sku", (const char *)sqlite3_column_text(s, 2));
        cJSON_AddStringToObject(r, "location", (const char *)sqlite3_column_text(s, 3));
        cJSON_AddNumberToObject(r, "quantity", (double)sqlite3_column_int64(s, 4));
        cJSON_AddStringToObject(r, "status", (const char *)sqlite3_column_text(s, 5));
        if (sqlite3_column_type(s, 6) == SQLITE_NULL)
            cJSON_AddNullToObject(r, "expires_at");
        else
            cJSON_AddNumberToObject(r, "expires_at", (double)sqlite3_column_int64(s, 6));
        cJSON_AddItemToArray(res, r);
    }
    sqlite3_reset(s);
    *out = o;
    return DEPOT_OK;
fail:
    cJSON_Delete(o);
    return DEPOT_E_DB;
}
