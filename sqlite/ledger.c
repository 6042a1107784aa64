/* The inventory ledger: the only way on_hand moves. Each call appends one immutable row
 * and applies its delta to the stock level inside the caller's transaction. Also the
 * SKU/location lookups every stock operation starts with. */
#include "store_int.h"

depot_err store__sku_id(depot_store *st, const char *code, int64_t *id)
{
    sqlite3_stmt *s = store__stmt(st, "SELECT id FROM skus WHERE code = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, code, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        return DEPOT_OK;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return store__dberr(st, "find sku");
    return store__fail(st, DEPOT_E_NOT_FOUND, "unknown SKU '%s'", code);
}

depot_err store__location_id(depot_store *st, const char *code, int64_t *id)
{
    sqlite3_stmt *s = store__stmt(st, "SELECT id FROM locations WHERE code = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, code, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        return DEPOT_OK;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return store__dberr(st, "find location");
    return store__fail(st, DEPOT_E_NOT_FOUND, "unknown location '%s'", code);
}

depot_err store__ledger_apply(depot_store *st, int64_t sku_id, int64_t location_id,
                              int64_t delta, const char *kind, const char *reason,
                              const char *ref, const char *actor, int64_t *ledger_id)
{
    int64_t now = store__now();
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO ledger (sku_id, location_id, delta, kind, reason, ref, actor, created_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, sku_id);
    sqlite3_bind_int64(s, 2, location_id);
    sqlite3_bind_int64(s, 3, delta);
    sqlite3_bind_text(s, 4, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, ref, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, actor, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 8, now);
    depot_err e = store__step_done(st, s);
    if (e != DEPOT_OK)
        return e;
    if (ledger_id)
        *ledger_id = sqlite3_last_insert_rowid(st->db);

    /* The CHECKs on stock refuse a negative on_hand or one below reserved. (Not an
     * upsert: SQLite checks the proposed INSERT row, a bare negative delta, first.) */
    s = store__stmt(st,
        "UPDATE stock SET on_hand = on_hand + ?3, updated_at = ?4"
        " WHERE sku_id = ?1 AND location_id = ?2");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, sku_id);
    sqlite3_bind_int64(s, 2, location_id);
    sqlite3_bind_int64(s, 3, delta);
    sqlite3_bind_int64(s, 4, now);
    e = store__step_done(st, s);
    if (e == DEPOT_OK && sqlite3_changes(st->db) == 0) {
        s = store__stmt(st,
            "INSERT INTO stock (sku_id, location_id, on_hand, updated_at)"
            " VALUES (?1, ?2, ?3, ?4)");
        if (!s)
            return DEPOT_E_DB;
        sqlite3_bind_int64(s, 1, sku_id);
        sqlite3_bind_int64(s, 2, location_id);
        sqlite3_bind_int64(s, 3, delta);
        sqlite3_bind_int64(s, 4, now);
        e = store__step_done(st, s);
    }
    if (e == DEPOT_E_INSUFFICIENT || e == DEPOT_E_INVALID)
        return store__fail(st, DEPOT_E_INSUFFICIENT,
                           "on_hand would drop below zero or below the reserved quantity");
    return e;
}
