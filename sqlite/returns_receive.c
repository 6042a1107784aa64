/* Returns received at the back office (returns_receive.h): a shipped order's units
 * scanned back in, checked against what shipped and booked per disposition in one
 * transaction. Also the dispositions' words, shared with channel refunds (ingest_stock.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inbound_int.h"
#include "returns_receive.h"

const char *const store__return_disposition_words[3] = {"restock", "damaged", "discard"};
const char *const store__return_disposition_labels[3] = {"sellable", "damaged", "unsellable"};

int depot_return_disposition_parse(const char *s, enum depot_return_disposition *out)
{
    for (int i = 0; s && i <= DEPOT_RETURN_UNSELLABLE; i++)
        if (strcmp(s, store__return_disposition_labels[i]) == 0) {
            *out = (enum depot_return_disposition)i;
            return 0;
        }
    return -1;
}

/* Units of one SKU with one disposition. */
struct group {
    const char *sku;
    int64_t sku_id, shipped, quantity;
    enum depot_return_disposition disposition;
};

static depot_err order_shipped(depot_store *st, int64_t order_id)
{
    sqlite3_stmt *s = store__stmt(st, "SELECT status FROM orders WHERE id = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, order_id);
    int rc = sqlite3_step(s);
    char status[24] = "";
    if (rc == SQLITE_ROW)
        snprintf(status, sizeof status, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_reset(s);
    if (rc != SQLITE_ROW)
        return store__fail(st, DEPOT_E_NOT_FOUND, "no order %lld", (long long)order_id);
    if (strcmp(status, "shipped") != 0)
        return store__fail(st, DEPOT_E_STATE, "order %lld is %s: only shipped orders take "
                           "returns", (long long)order_id, status);
    return DEPOT_OK;
}

/* The SKU's id and how many units of it the order has; DEPOT_E_INVALID if none. */
static depot_err sku_on_order(depot_store *st, int64_t order_id, const char *sku,
                              int64_t *sku_id, int64_t *shipped)
{
    sqlite3_stmt *s = store__stmt(st,
        "SELECT k.id, coalesce(sum(ol.quantity), 0) FROM skus k"
        "  LEFT JOIN order_lines ol ON ol.sku_id = k.id AND ol.order_id = ?1"
        " WHERE k.code = ?2 GROUP BY k.id");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, order_id);
    sqlite3_bind_text(s, 2, sku, -1, SQLITE_STATIC);
    *sku_id = *shipped = 0;
    if (sqlite3_step(s) == SQLITE_ROW) {
        *sku_id = sqlite3_column_int64(s, 0);
        *shipped = sqlite3_column_int64(s, 1);
    }
    sqlite3_reset(s);
    if (*shipped <= 0)
        return store__fail(st, DEPOT_E_INVALID, "%s is not on order %lld", sku,
                           (long long)order_id);
    return DEPOT_OK;
}

static depot_err already_returned(depot_store *st, int64_t order_id, int64_t sku_id,
                                  int64_t *n)
{
    sqlite3_stmt *s = store__stmt(st,
        "SELECT coalesce(sum(quantity), 0) FROM returns WHERE order_id = ?1 AND sku_id = ?2");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, order_id);
    sqlite3_bind_int64(s, 2, sku_id);
    int rc = sqlite3_step(s);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? DEPOT_OK : store__dberr(st, "read the units returned before");
}

/* Where the SKU's units left from: the order's newest committed reservation of it, else
 * any reservation, else the SKU's first stock location. */
static depot_err origin(depot_store *st, int64_t order_id, int64_t sku_id, int64_t *loc)
{
    sqlite3_stmt *s = store__stmt(st,
        "SELECT coalesce((SELECT r.location_id FROM reservations r"
        "                  JOIN order_lines ol ON ol.id = r.line_id"
        "                 WHERE r.order_id = ?1 AND ol.sku_id = ?2"
        "                 ORDER BY (r.status = 'committed') DESC, r.id DESC LIMIT 1),"
        "                (SELECT location_id FROM stock WHERE sku_id = ?2"
        "                 ORDER BY location_id LIMIT 1), 0)");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, order_id);
    sqlite3_bind_int64(s, 2, sku_id);
    int rc = sqlite3_step(s);
    *loc = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? DEPOT_OK : store__dberr(st, "find where the units came from");
}

/* Within the transaction: one returns row for g, its stock movement and audit row. */
static depot_err book(depot_store *st, int64_t order_id, const struct group *g,
                      const char *actor, cJSON *list)
{
    int64_t loc = 0, return_id;
    depot_err e = g->disposition == DEPOT_RETURN_DAMAGED
                      ? store__quarantine_location(st, &loc)
                      : origin(st, order_id, g->sku_id, &loc);
    if (e != DEPOT_OK)
        return e;
    if (!loc)
        return store__fail(st, DEPOT_E_STATE, "%s has no stock location to return to",
                           g->sku);
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO returns (order_id, sku_id, location_id, quantity, disposition,"
        " created_at, actor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, order_id);
    sqlite3_bind_int64(s, 2, g->sku_id);
    sqlite3_bind_int64(s, 3, loc);
    sqlite3_bind_int64(s, 4, g->quantity);
    sqlite3_bind_text(s, 5, store__return_disposition_words[g->disposition], -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, store__now());
    sqlite3_bind_text(s, 7, actor, -1, SQLITE_STATIC);
    if ((e = store__step_done(st, s)) != DEPOT_OK)
        return e;
    return_id = sqlite3_last_insert_rowid(st->db);
    char ref[64], entity[32], detail[200];
    snprintf(ref, sizeof ref, "order:%lld/return:%lld", (long long)order_id,
             (long long)return_id);
    if (g->disposition == DEPOT_RETURN_SELLABLE) {
        e = store__ledger_apply(st, g->sku_id, loc, g->quantity, "return",
                                "return: sellable", ref, actor, NULL);
        if (e == DEPOT_OK)
            e = store__stock_changed(st, g->sku_id, loc);
    } else if (g->disposition == DEPOT_RETURN_DAMAGED) {
        e = store__order_alert(st, order_id, "return_damaged",
                               "%lld damaged unit(s) of %s are in %s for inspection",
                               (long long)g->quantity, g->sku, STORE_QUARANTINE_LOCATION);
    }
    if (e != DEPOT_OK)
        return e;
    snprintf(entity, sizeof entity, "order:%lld", (long long)order_id);
    snprintf(detail, sizeof detail,
             "{\"return_id\":%lld,\"sku_id\":%lld,\"quantity\":%lld,\"disposition\":\"%s\","
             "\"source\":\"receiving\"}",
             (long long)return_id, (long long)g->sku_id, (long long)g->quantity,
             store__return_disposition_labels[g->disposition]);
    if ((e = store__audit(st, actor, "return.create", entity, detail)) != DEPOT_OK)
        return e;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)return_id);
    cJSON_AddStringToObject(o, "sku", g->sku);
    cJSON_AddNumberToObject(o, "quantity", (double)g->quantity);
    cJSON_AddStringToObject(o, "disposition", store__return_disposition_labels[g->disposition]);
    cJSON_AddItemToArray(list, o);
    return DEPOT_OK;
}

/* Groups units per (SKU, disposition) into groups (room for n); *ng is the count. */
static depot_err group_units(depot_store *st, int64_t order_id,
                             const struct depot_return_unit *units, size_t n,
                             struct group *groups, size_t *ng)
{
    *ng = 0;
    for (size_t i = 0; i < n; i++) {
        size_t g = 0;
        while (g < *ng && (strcmp(groups[g].sku, units[i].sku) != 0 ||
                           groups[g].disposition != units[i].disposition))
            g++;
        if (g == *ng) {
            groups[g] = (struct group){.sku = units[i].sku,
                                       .disposition = units[i].disposition};
            depot_err e = sku_on_order(st, order_id, units[i].sku, &groups[g].sku_id,
                                       &groups[g].shipped);
            if (e != DEPOT_OK)
                return e;
            (*ng)++;
        }
        groups[g].quantity++;
    }
    return DEPOT_OK;
}

/* Every SKU's units returned so far plus now must not exceed what shipped. */
static depot_err check_quantities(depot_store *st, int64_t order_id,
                                  const struct group *groups, size_t ng)
{
    for (size_t g = 0; g < ng; g++) {
        int64_t now = 0, before = 0;
        for (size_t h = 0; h < ng; h++)
            if (groups[h].sku_id == groups[g].sku_id)
                now += groups[h].quantity;
        depot_err e = already_returned(st, order_id, groups[g].sku_id, &before);
        if (e != DEPOT_OK)
            return e;
        if (before + now > groups[g].shipped)
            return store__fail(st, DEPOT_E_INVALID,
                               "%s: %lld unit(s) scanned, but order %lld shipped %lld and "
                               "%lld came back before", groups[g].sku, (long long)now,
                               (long long)order_id, (long long)groups[g].shipped,
                               (long long)before);
    }
    return DEPOT_OK;
}

depot_err depot_return_receive(depot_store *st, int64_t order_id,
                               const struct depot_return_unit *units, size_t n,
                               const char *actor, cJSON **out)
{
    store__clear_error(st);
    *out = NULL;
    if (n < 1 || n > DEPOT_RETURN_UNITS_MAX)
        return store__fail(st, DEPOT_E_INVALID, "a return has 1..%d units",
                           DEPOT_RETURN_UNITS_MAX);
    for (size_t i = 0; i < n; i++)
        if (!units[i].sku || !store__valid_code(units[i].sku, 64) ||
            (unsigned)units[i].disposition > DEPOT_RETURN_UNSELLABLE)
            return store__fail(st, DEPOT_E_INVALID, "unit %zu needs a SKU code and a "
                               "disposition", i + 1);
    struct group *groups = calloc(n, sizeof *groups);
    cJSON *doc = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(doc, "returns");
    if (!groups || !list) {
        free(groups);
        cJSON_Delete(doc);
        return store__fail(st, DEPOT_E_NOMEM, "out of memory");
    }
    cJSON_AddNumberToObject(doc, "order_id", (double)order_id);
    size_t ng = 0;
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        goto out;
    if ((e = order_shipped(st, order_id)) == DEPOT_OK &&
        (e = group_units(st, order_id, units, n, groups, &ng)) == DEPOT_OK)
        e = check_quantities(st, order_id, groups, ng);
    for (size_t g = 0; e == DEPOT_OK && g < ng; g++)
        e = book(st, order_id, &groups[g], actor, list);
    if (e == DEPOT_OK)
        e = store__commit(st);
    else
        store__rollback(st);
out:
    free(groups);
    if (e == DEPOT_OK)
        *out = doc;
    else
        cJSON_Delete(doc);
    return e;
}
