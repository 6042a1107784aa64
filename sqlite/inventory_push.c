/* Echo prevention: the inventory levels we pushed to each channel, remembered for a
 * while so that the channel's inventory webhook reporting one of them back is recognised
 * as our own echo rather than an external change. Also the order alerts: raising one
 * inside an ingestion's transaction, and listing the open ones. */
#include <stdarg.h>
#include <stdio.h>
#include "inbound_int.h"

depot_err depot_inventory_push_record(depot_store *st, int64_t channel_id, int64_t sku_id,
                                      int64_t location_id, int64_t quantity)
{
    store__clear_error(st);
    if (channel_id <= 0 || sku_id <= 0 || location_id <= 0 || quantity < 0)
        return store__fail(st, DEPOT_E_INVALID, "inventory push needs channel, SKU and "
                                                "location ids and a quantity >= 0");
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    int64_t now = store__now();
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO inventory_pushes (channel_id, sku_id, location_id, quantity, pushed_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!s) {
        store__rollback(st);
        return DEPOT_E_DB;
    }
    sqlite3_bind_int64(s, 1, channel_id);
    sqlite3_bind_int64(s, 2, sku_id);
    sqlite3_bind_int64(s, 3, location_id);
    sqlite3_bind_int64(s, 4, quantity);
    sqlite3_bind_int64(s, 5, now);
    if ((e = store__step_done(st, s)) == DEPOT_E_INVALID)
        e = store__fail(st, e, "unknown channel, SKU or location");
    if (e == DEPOT_OK && (s = store__stmt(st,
            "DELETE FROM inventory_pushes WHERE pushed_at < ?1")) != NULL) {
        sqlite3_bind_int64(s, 1, now - 6 * DEPOT_ECHO_WINDOW_DEFAULT);
        e = store__step_done(st, s);
    } else if (e == DEPOT_OK) {
        e = DEPOT_E_DB;
    }
    if (e != DEPOT_OK) {
        store__rollback(st);
        return e;
    }
    return store__commit(st);
}

depot_err depot_inventory_push_is_echo(depot_store *st, int64_t channel_id, int64_t sku_id,
                                       int64_t location_id, int64_t quantity,
                                       int64_t window, int *echo)
{
    store__clear_error(st);
    *echo = 0;
    sqlite3_stmt *s = store__stmt(st,
        "SELECT 1 FROM inventory_pushes WHERE channel_id = ?1 AND sku_id = ?2"
        "   AND location_id = ?3 AND pushed_at >= ?4 AND quantity = ?5 LIMIT 1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, channel_id);
    sqlite3_bind_int64(s, 2, sku_id);
    sqlite3_bind_int64(s, 3, location_id);
    sqlite3_bind_int64(s, 4, store__now() - window);
    sqlite3_bind_int64(s, 5, quantity);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__dberr(st, "read inventory pushes");
    *echo = rc == SQLITE_ROW;
    return DEPOT_OK;
}

depot_err store__order_alert(depot_store *st, int64_t order_id, const char *kind,
                             const char *fmt, ...)
{
    char msg[500];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO order_alerts (order_id, kind, message, created_at)"
        " VALUES (nullif(?1, 0), ?2, ?3, ?4)");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, order_id);
    sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, msg, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, store__now());
    return store__step_done(st, s);
}

depot_err depot_order_alerts_json(depot_store *st, int64_t order_id, cJSON **out)
{
    store__clear_error(st);
    *out = NULL;
    sqlite3_stmt *s = store__stmt(st,
        "SELECT id, order_id, kind, message, created_at FROM order_alerts"
        " WHERE resolved_at IS NULL AND (?1 = 0 OR order_id = ?1) ORDER BY id DESC"
        " LIMIT 500");
    if (!s)
        return DEPOT_E_DB;
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return store__fail(st, DEPOT_E_NOMEM, "out of memory");
    sqlite3_bind_int64(s, 1, order_id);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(s, 0));
        if (sqlite3_column_type(s, 1) == SQLITE_NULL)
            cJSON_AddNullToObject(o, "order_id");
        else
            cJSON_AddNumberToObject(o, "order_id", (double)sqlite3_column_int64(s, 1));
        cJSON_AddStringToObject(o, "kind", (const char *)sqlite3_column_text(s, 2));
        cJSON_AddStringToObject(o, "message", (const char *)sqlite3_column_text(s, 3));
        cJSON_AddNumberToObject(o, "created_at", (double)sqlite3_column_int64(s, 4));
        cJSON_AddItemToArray(arr, o);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(arr);
        return store__dberr(st, "list alerts");
    }
    *out = arr;
    return DEPOT_OK;
}
