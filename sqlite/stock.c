/* Stock operations: SKUs, locations, manual adjustments and the stock view of one SKU. */
#include <stdio.h>
#include <string.h>
#include "store_int.h"

depot_err depot_location_ensure(depot_store *st, const char *code, const char *actor,
                                int64_t *id_out)
{
    if (!store__valid_code(code, 64))
        return store__fail(st, DEPOT_E_INVALID, "location code must be 1..64 printable "
                                                "characters without commas or quotes");
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    int64_t id;
    e = store__location_id(st, code, &id);
    if (e == DEPOT_E_NOT_FOUND) {
        sqlite3_stmt *s = store__stmt(st,
            "INSERT INTO locations (code, created_at) VALUES (?1, ?2)");
        if (!s) {
            e = DEPOT_E_DB;
            goto fail;
        }
        sqlite3_bind_text(s, 1, code, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, store__now());
        if ((e = store__step_done(st, s)) != DEPOT_OK)
            goto fail;
        id = sqlite3_last_insert_rowid(st->db);
        char entity[80];
        snprintf(entity, sizeof entity, "location:%s", code);
        if ((e = store__audit(st, actor, "location.create", entity, NULL)) != DEPOT_OK)
            goto fail;
    } else if (e != DEPOT_OK) {
        goto fail;
    }
    if ((e = store__commit(st)) != DEPOT_OK)
        return e;
    if (id_out)
        *id_out = id;
    return DEPOT_OK;
fail:
    store__rollback(st);
    return e;
}

depot_err depot_sku_upsert(depot_store *st, const char *sku, const char *name,
                           const char *gtin, const char *actor, int64_t *id_out)
{
    if (!store__valid_code(sku, 64))
        return store__fail(st, DEPOT_E_INVALID, "SKU code must be 1..64 printable "
                                                "characters without commas or quotes");
    if (!store__valid_text(name, 200))
        return store__fail(st, DEPOT_E_INVALID, "SKU name must be 1..200 characters of text");
    if (gtin && *gtin && !store__valid_gtin(gtin))
        return store__fail(st, DEPOT_E_INVALID, "GTIN '%s' is not 8/12/13/14 digits with a "
                                                "valid check digit", gtin);
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    int64_t now = store__now(), id;
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO skus (code, name, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)"
        " ON CONFLICT (code) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at"
        " RETURNING id");
    if (!s) {
        e = DEPOT_E_DB;
        goto fail;
    }
    sqlite3_bind_text(s, 1, sku, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    if (sqlite3_step(s) != SQLITE_ROW) {
        e = store__dberr(st, "upsert sku");
        sqlite3_reset(s);
        goto fail;
    }
    id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (gtin && *gtin) {
        s = store__stmt(st, "SELECT sku_id FROM sku_gtins WHERE gtin = ?1");
        if (!s) {
            e = DEPOT_E_DB;
            goto fail;
        }
        sqlite3_bind_text(s, 1, gtin, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        int64_t owner = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
        sqlite3_reset(s);
        if (owner && owner != id) {
            e = store__fail(st, DEPOT_E_CONFLICT, "GTIN %s already belongs to another SKU",
                            gtin);
            goto fail;
        }
        if (!owner) {
            s = store__stmt(st, "INSERT INTO sku_gtins (gtin, sku_id) VALUES (?1, ?2)");
            if (!s) {
                e = DEPOT_E_DB;
                goto fail;
            }
            sqlite3_bind_text(s, 1, gtin, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 2, id);
            if ((e = store__step_done(st, s)) != DEPOT_OK)
                goto fail;
        }
    }
    char entity[80];
    snprintf(entity, sizeof entity, "sku:%s", sku);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "name", name);
    if (gtin && *gtin)
        cJSON_AddStringToObject(d, "gtin", gtin);
    char *detail = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    e = store__audit(st, actor, "sku.upsert", entity, detail);
    cJSON_free(detail);
    if (e != DEPOT_OK)
        goto fail;
    if ((e = store__commit(st)) != DEPOT_OK)
        return e;
    if (id_out)
        *id_out = id;
    return DEPOT_OK;
fail:
    store__rollback(st);
    return e;
}

depot_err depot_stock_adjust(depot_store *st, const char *sku, const char *location,
                             int64_t delta, const char *reason, const char *actor,
                             int64_t *ledger_id_out)
{
    store__clear_error(st);
    if (delta == 0 || delta > 1000000000 || delta < -1000000000)
        return store__fail(st, DEPOT_E_INVALID, "delta must be non-zero and within ±1e9");
    if (!store__valid_text(reason, 200))
        return store__fail(st, DEPOT_E_INVALID, "a reason (1..200 characters) is required");
    if (!sku || !location)
        return store__fail(st, DEPOT_E_INVALID, "SKU and location are required");
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    int64_t sku_id, loc_id, ledger_id;
    if ((e = store__sku_id(st, sku, &sku_id)) != DEPOT_OK ||
        (e = store__location_id(st, location, &loc_id)) != DEPOT_OK)
        goto fail;
    e = store__ledger_apply(st, sku_id, loc_id, delta, "adjust", reason, NULL, actor,
                            &ledger_id);
    if (e == DEPOT_E_INSUFFICIENT)
        e = store__fail(st, e, "adjusting %s at %s by %lld would leave on_hand below zero "
                               "or below what is reserved", sku, location, (long long)delta);
    if (e != DEPOT_OK)
        goto fail;
    if ((e = store__stock_changed(st, sku_id, loc_id)) != DEPOT_OK)
        goto fail;
    char entity[140];
    snprintf(entity, sizeof entity, "stock:%s@%s", sku, location);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "delta", (double)delta);
    cJSON_AddStringToObject(d, "reason", reason);
    cJSON_AddNumberToObject(d, "ledger_id", (double)ledger_id);
    char *detail = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    e = store__audit(st, actor, "stock.adjust", entity, detail);
    cJSON_free(detail);
    if (e != DEPOT_OK)
        goto fail;
    if ((e = store__commit(st)) != DEPOT_OK)
        return e;
    if (ledger_id_out)
        *ledger_id_out = ledger_id;
    return DEPOT_OK;
fail:
    store__rollback(st);
    return e;
}

depot_err depot_stock_show_json(depot_store *st, const char *sku, cJSON **out)
{
    store__clear_error(st);
    *out = NULL;
    sqlite3_stmt *s = store__stmt(st, "SELECT id, code, name FROM skus WHERE code = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, sku, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return store__fail(st, DEPOT_E_NOT_FOUND, "unknown SKU '%s'", sku);
    }
    int64_t id = sqlite3_column_int64(s, 0);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "sku", (const char *)sqlite3_column_text(s, 1));
    cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(s, 2));
    sqlite3_reset(s);

    cJSON *gtins = cJSON_AddArrayToObject(o, "gtins");
    s = store__stmt(st, "SELECT gtin FROM sku_gtins WHERE sku_id = ?1 ORDER BY gtin");
    if (!s)
        goto fail;
    sqlite3_bind_int64(s, 1, id);
    while (sqlite3_step(s) == SQLITE_ROW)
        cJSON_AddItemToArray(gtins, cJSON_CreateString((const char *)sqlite3_column_text(s, 0)));
    sqlite3_reset(s);

    cJSON *levels = cJSON_AddArrayToObject(o, "levels");
    s = store__stmt(st,
        "SELECT l.code, b.code, st.on_hand, st.reserved, st.buffer"
        "  FROM stock st JOIN locations l ON l.id = st.location_id"
        "  LEFT JOIN bins b ON b.id = st.bin_id"
        " WHERE st.sku_id = ?1 ORDER BY l.code");
    if (!s)
        goto fail;
    sqlite3_bind_int64(s, 1, id);
    int64_t total_on_hand = 0, total_reserved = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        cJSON *lv = cJSON_CreateObject();
        int64_t on_hand = sqlite3_column_int64(s, 2), reserved = sqlite3_column_int64(s, 3);
        cJSON_AddStringToObject(lv, "location", (const char *)sqlite3_column_text(s, 0));
        if (sqlite3_column_type(s, 1) == SQLITE_NULL)
            cJSON_AddNullToObject(lv, "bin");
        else
            cJSON_AddStringToObject(lv, "bin", (const char *)sqlite3_column_text(s, 1));
        cJSON_AddNumberToObject(lv, "on_hand", (double)on_hand);
        cJSON_AddNumberToObject(lv, "reserved", (double)reserved);
        cJSON_AddNumberToObject(lv, "available", (double)(on_hand - reserved));
        cJSON_AddNumberToObject(lv, "buffer", (double)sqlite3_column_int64(s, 4));
        cJSON_AddItemToArray(levels, lv);
        total_on_hand += on_hand;
        total_reserved += reserved;
    }
    sqlite3_reset(s);
    cJSON_AddNumberToObject(o, "on_hand", (double)total_on_hand);
    cJSON_AddNumberToObject(o, "reserved", (double)total_reserved);
    cJSON_AddNumberToObject(o, "available", (double)(total_on_hand - total_reserved));
    *out = o;
    return DEPOT_OK;
fail:
    cJSON_Delete(o);
    return DEPOT_E_DB;
}
