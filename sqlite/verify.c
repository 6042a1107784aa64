/* `depotctl verify`: checks that the database is what Depot promises — current schema,
 * no corruption, stock invariants, on_hand equal to its ledger, reserved equal to its
 * active reservations, and an unbroken audit hash chain. Reads only. */
#include <stdio.h>
#include <string.h>
#include "store_int.h"

#define MAX_REPORTED 50 /* per check; the count says how many more */

static void problem(cJSON *list, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(cJSON *list, const char *fmt, ...)
{
    char buf[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cJSON_AddItemToArray(list, cJSON_CreateString(buf));
}

/* Runs a query whose every row is a problem described by its first column (text). */
static void report_rows(depot_store *st, cJSON *list, const char *what, const char *sql)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        problem(list, "%s: cannot check: %s", what, sqlite3_errmsg(st->db));
        return;
    }
    int n = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (n++ < MAX_REPORTED)
            problem(list, "%s: %s", what, (const char *)sqlite3_column_text(s, 0));
    }
    if (n > MAX_REPORTED)
        problem(list, "%s: %d more", what, n - MAX_REPORTED);
    sqlite3_finalize(s);
}

static void check_audit_chain(depot_store *st, cJSON *list)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db,
            "SELECT id, at, actor, action, entity, detail, prev_hash, hash FROM audit"
            " ORDER BY id", -1, &s, NULL) != SQLITE_OK) {
        problem(list, "audit: cannot check: %s", sqlite3_errmsg(st->db));
        return;
    }
    char prev[65];
    memset(prev, '0', 64);
    prev[64] = '\0';
    int64_t expect_id = 1;
    while (sqlite3_step(s) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(s, 0);
        const char *stored_prev = (const char *)sqlite3_column_text(s, 6);
        const char *stored_hash = (const char *)sqlite3_column_text(s, 7);
        char hash[65];
        if (id != expect_id) {
            problem(list, "audit: row %lld missing (chain jumps to %lld)",
                    (long long)expect_id, (long long)id);
            break;
        }
        if (!stored_prev || strcmp(stored_prev, prev) != 0) {
            problem(list, "audit: row %lld does not follow row %lld (chain broken)",
                    (long long)id, (long long)id - 1);
            break;
        }
        store__audit_hash(prev, id, sqlite3_column_int64(s, 1),
                          (const char *)sqlite3_column_text(s, 2),
                          (const char *)sqlite3_column_text(s, 3),
                          (const char *)sqlite3_column_text(s, 4),
                          (const char *)sqlite3_column_text(s, 5), hash);
        if (!stored_hash || strcmp(stored_hash, hash) != 0) {
            problem(list, "audit: row %lld was altered (hash mismatch)", (long long)id);
            break;
        }
        memcpy(prev, hash, sizeof prev);
        expect_id++;
    }
    sqlite3_finalize(s);
}

depot_err depot_store_verify(depot_store *st, cJSON **problems)
{
    cJSON *list = cJSON_CreateArray();
    *problems = list;
    store__clear_error(st);

    int v = depot_store_schema_version(st), latest = depot_store_schema_latest();
    if (v != latest)
        problem(list, "schema: version %d, expected %d", v, latest);

    report_rows(st, list, "integrity", "PRAGMA quick_check");
    /* quick_check prints a single "ok" when all is well. */
    cJSON *last = cJSON_GetArrayItem(list, cJSON_GetArraySize(list) - 1);
    if (last && !strcmp(last->valuestring, "integrity: ok"))
        cJSON_DeleteItemFromArray(list, cJSON_GetArraySize(list) - 1);

    report_rows(st, list, "foreign key",
        "SELECT \"table\" || ' row ' || rowid || ' points to missing ' || parent"
        "  FROM pragma_foreign_key_check");
    report_rows(st, list, "stock",
        "SELECT sk.code || '@' || l.code || ': on_hand ' || st.on_hand || ', reserved ' ||"
        "       st.reserved || ' breaks 0 <= reserved <= on_hand'"
        "  FROM stock st JOIN skus sk ON sk.id = st.sku_id"
        "  JOIN locations l ON l.id = st.location_id"
        " WHERE st.on_hand < 0 OR st.reserved < 0 OR st.reserved > st.on_hand"
        "    OR st.buffer < 0");
    report_rows(st, list, "ledger",
        "SELECT sk.code || '@' || l.code || ': on_hand ' || st.on_hand ||"
        "       ' but ledger sums to ' || coalesce(lg.total, 0)"
        "  FROM stock st JOIN skus sk ON sk.id = st.sku_id"
        "  JOIN locations l ON l.id = st.location_id"
        "  LEFT JOIN (SELECT sku_id, location_id, sum(delta) AS total FROM ledger"
        "             GROUP BY sku_id, location_id) lg"
        "    ON lg.sku_id = st.sku_id AND lg.location_id = st.location_id"
        " WHERE st.on_hand <> coalesce(lg.total, 0)");
    report_rows(st, list, "ledger",
        "SELECT 'entries for sku ' || lg.sku_id || ' at location ' || lg.location_id ||"
        "       ' have no stock row'"
        "  FROM (SELECT DISTINCT sku_id, location_id FROM ledger) lg"
        "  LEFT JOIN stock st ON st.sku_id = lg.sku_id AND st.location_id = lg.location_id"
        " WHERE st.sku_id IS NULL");
    report_rows(st, list, "reservations",
        "SELECT sk.code || '@' || l.code || ': reserved ' || st.reserved ||"
        "       ' but active reservations sum to ' || coalesce(r.total, 0)"
        "  FROM stock st JOIN skus sk ON sk.id = st.sku_id"
        "  JOIN locations l ON l.id = st.location_id"
        "  LEFT JOIN (SELECT sku_id, location_id, sum(quantity) AS total FROM reservations"
        "             WHERE status = 'active' GROUP BY sku_id, location_id) r"
        "    ON r.sku_id = st.sku_id AND r.location_id = st.location_id"
        " WHERE st.reserved <> coalesce(r.total, 0)");
    report_rows(st, list, "reservations",
        "SELECT 'line ' || ol.id || ' of order ' || ol.order_id || ' has ' || sum(r.quantity) ||"
        "       ' reserved for quantity ' || ol.quantity"
        "  FROM reservations r JOIN order_lines ol ON ol.id = r.line_id"
        " WHERE r.status = 'active' GROUP BY ol.id HAVING sum(r.quantity) > ol.quantity");
    check_audit_chain(st, list);

    if (cJSON_GetArraySize(list) > 0)
        return store__fail(st, DEPOT_E_INTEGRITY, "%d problem(s) found",
                           cJSON_GetArraySize(list));
    return DEPOT_OK;
}
