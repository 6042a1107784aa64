/* The outbox, store side: writing events in the caller's transaction (including the
 * inventory pushes every stock change causes), listing them, and re-queuing dead letters.
 * Delivery itself belongs to the sync worker in sync/. */
#include <stdio.h>
#include "store_int.h"

depot_err store__outbox_put(depot_store *st, const char *target, int64_t target_id,
                            const char *topic, const char *aggregate, const char *key,
                            const char *payload_json)
{
    int64_t now = store__now();
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO outbox (idempotency_key, target, target_id, topic, aggregate, payload,"
        " next_attempt_at, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?7)");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, target, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, target_id);
    sqlite3_bind_text(s, 4, topic, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, aggregate, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, payload_json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, now);
    return store__step_done(st, s);
}

/* Rationale: what a channel is told is a level, not a delta (inventorySetQuantities,
 * WooCommerce stock_quantity), so each row carries the full available figure and the
 * sync worker may coalesce rows of one aggregate down to the newest. */
depot_err store__stock_changed(depot_store *st, int64_t sku_id, int64_t location_id)
{
    sqlite3_stmt *s = store__stmt(st,
        "SELECT cs.channel_id, sk.code, l.code, cs.external_inventory_id,"
        "       cl.external_location_id, st.on_hand, st.reserved,"
        "       max(st.on_hand - st.reserved - st.buffer - cl.buffer, 0),"
        "       (SELECT coalesce(max(id), 0) FROM outbox)"
        "  FROM channel_skus cs"
        "  JOIN channels c ON c.id = cs.channel_id AND c.enabled = 1"
        "  JOIN channel_locations cl ON cl.channel_id = cs.channel_id AND cl.location_id = ?2"
        "  JOIN stock st ON st.sku_id = cs.sku_id AND st.location_id = ?2"
        "  JOIN skus sk ON sk.id = cs.sku_id"
        "  JOIN locations l ON l.id = ?2"
        " WHERE cs.sku_id = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, sku_id);
    sqlite3_bind_int64(s, 2, location_id);
    depot_err e = DEPOT_OK;
    int rc;
    int64_t seq = 0;
    while (e == DEPOT_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t channel_id = sqlite3_column_int64(s, 0);
        if (seq == 0)
            seq = sqlite3_column_int64(s, 8);
        seq++;
        cJSON *p = cJSON_CreateObject();
        if (!p) {
            e = store__fail(st, DEPOT_E_NOMEM, "out of memory");
            break;
        }
        cJSON_AddStringToObject(p, "sku", (const char *)sqlite3_column_text(s, 1));
        cJSON_AddStringToObject(p, "location", (const char *)sqlite3_column_text(s, 2));
        if (sqlite3_column_type(s, 3) != SQLITE_NULL)
            cJSON_AddStringToObject(p, "external_inventory_id",
                                    (const char *)sqlite3_column_text(s, 3));
        cJSON_AddStringToObject(p, "external_location_id",
                                (const char *)sqlite3_column_text(s, 4));
        cJSON_AddNumberToObject(p, "on_hand", (double)sqlite3_column_int64(s, 5));
        cJSON_AddNumberToObject(p, "reserved", (double)sqlite3_column_int64(s, 6));
        cJSON_AddNumberToObject(p, "available", (double)sqlite3_column_int64(s, 7));
        char *json = cJSON_PrintUnformatted(p);
        cJSON_Delete(p);
        char aggregate[64], key[96];
        snprintf(aggregate, sizeof aggregate, "inventory:%lld:%lld", (long long)sku_id,
                 (long long)location_id);
        snprintf(key, sizeof key, "inventory:%lld:%lld:%lld:%lld", (long long)channel_id,
                 (long long)sku_id, (long long)location_id, (long long)seq);
        e = json ? store__outbox_put(st, "channel", channel_id, "inventory.set", aggregate,
                                     key, json)
                 : store__fail(st, DEPOT_E_NOMEM, "out of memory");
        cJSON_free(json);
    }
    sqlite3_reset(s);
    return e;
}

/* Columns 0..11 of the outbox list below and of the outbox view in views.c. */
cJSON *store__outbox_row(sqlite3_stmt *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(s, 0));
    cJSON_AddStringToObject(o, "idempotency_key", (const char *)sqlite3_column_text(s, 1));
    cJSON_AddStringToObject(o, "target", (const char *)sqlite3_column_text(s, 2));
    cJSON_AddNumberToObject(o, "target_id", (double)sqlite3_column_int64(s, 3));
    cJSON_AddStringToObject(o, "topic", (const char *)sqlite3_column_text(s, 4));
    cJSON_AddStringToObject(o, "aggregate", (const char *)sqlite3_column_text(s, 5));
    cJSON_AddStringToObject(o, "status", (const char *)sqlite3_column_text(s, 6));
    cJSON_AddNumberToObject(o, "attempts", sqlite3_column_int(s, 7));
    cJSON_AddNumberToObject(o, "next_attempt_at", (double)sqlite3_column_int64(s, 8));
    if (sqlite3_column_type(s, 9) == SQLITE_NULL)
        cJSON_AddNullToObject(o, "last_error");
    else
        cJSON_AddStringToObject(o, "last_error", (const char *)sqlite3_column_text(s, 9));
    cJSON_AddNumberToObject(o, "created_at", (double)sqlite3_column_int64(s, 10));
    cJSON *payload = cJSON_Parse((const char *)sqlite3_column_text(s, 11));
    cJSON_AddItemToObject(o, "payload", payload ? payload : cJSON_CreateNull());
    return o;
}

depot_err depot_outbox_list_json(depot_store *st, int dead_only, int limit, cJSON **out)
{
    store__clear_error(st);
    *out = NULL;
    if (limit < 1 || limit > 1000)
        return store__fail(st, DEPOT_E_INVALID, "limit must be 1..1000");
    sqlite3_stmt *s = store__stmt(st,
        "SELECT id, idempotency_key, target, target_id, topic, aggregate, status, attempts,"
        "       next_attempt_at, last_error, created_at, payload"
        "  FROM outbox WHERE (?1 AND status = 'dead')"
        "     OR (NOT ?1 AND status IN ('pending', 'inflight', 'dead'))"
        " ORDER BY id LIMIT ?2");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int(s, 1, dead_only ? 1 : 0);
    sqlite3_bind_int(s, 2, limit);
    cJSON *arr = cJSON_CreateArray();
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        cJSON_AddItemToArray(arr, store__outbox_row(s));
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(arr);
        return store__dberr(st, "list outbox");
    }
    *out = arr;
    return DEPOT_OK;
}

/* Re-queues dead rows (one id, or all when id is 0) inside one transaction. */
static depot_err retry_dead(depot_store *st, int64_t id, const char *actor, int *n)
{
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?2,"
        "       updated_at = ?2"
        " WHERE status = 'dead' AND (?1 = 0 OR id = ?1)");
    if (!s) {
        e = DEPOT_E_DB;
        goto fail;
    }
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, store__now());
    if ((e = store__step_done(st, s)) != DEPOT_OK)
        goto fail;
    int changed = sqlite3_changes(st->db);
    if (id != 0 && changed == 0) {
        sqlite3_stmt *q = store__stmt(st, "SELECT status FROM outbox WHERE id = ?1");
        if (!q) {
            e = DEPOT_E_DB;
            goto fail;
        }
        sqlite3_bind_int64(q, 1, id);
        if (sqlite3_step(q) == SQLITE_ROW)
            e = store__fail(st, DEPOT_E_STATE, "outbox event %lld is %s, not dead",
                            (long long)id, (const char *)sqlite3_column_text(q, 0));
        else
            e = store__fail(st, DEPOT_E_NOT_FOUND, "no outbox event %lld", (long long)id);
        sqlite3_reset(q);
        goto fail;
    }
    char entity[48], detail[48];
    if (id)
        snprintf(entity, sizeof entity, "outbox:%lld", (long long)id);
    else
        snprintf(entity, sizeof entity, "outbox:all-dead");
    snprintf(detail, sizeof detail, "{\"requeued\":%d}", changed);
    if ((e = store__audit(st, actor, "outbox.retry", entity, detail)) != DEPOT_OK)
        goto fail;
    if ((e = store__commit(st)) != DEPOT_OK)
        return e;
    if (n)
        *n = changed;
    return DEPOT_OK;
fail:
    store__rollback(st);
    return e;
}

depot_err depot_outbox_retry(depot_store *st, int64_t id, const char *actor)
{
    if (id <= 0)
        return store__fail(st, DEPOT_E_INVALID, "outbox id must be a positive number");
    return retry_dead(st, id, actor, NULL);
}

depot_err depot_outbox_retry_all_dead(depot_store *st, const char *actor, int *n)
{
    return retry_dead(st, 0, actor, n);
}
