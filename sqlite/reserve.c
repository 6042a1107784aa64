/* Reservations and shipments: reserving a whole order or nothing, releasing, cancelling,
 * expiring stale reservations, and committing a shipment (reserved and on_hand go down
 * together). Each public call is one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_int.h"

/* Rationale: BEGIN IMMEDIATE serialises every writer on the database file (threads and
 * processes alike), so the availability read below cannot go stale before the UPDATE;
 * the CHECK (reserved <= on_hand) is the last line of defence if that ever changed. */

#define MAX_LOCATIONS_PER_SKU 64

struct candidate {
    int64_t location_id;
    int64_t available;
};

static depot_err order_status(depot_store *st, int64_t order_id, char status[24],
                              int64_t *channel_id)
{
    sqlite3_stmt *s = store__stmt(st,
        "SELECT status, coalesce(channel_id, 0) FROM orders WHERE id = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, order_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        snprintf(status, 24, "%s", (const char *)sqlite3_column_text(s, 0));
        if (channel_id)
            *channel_id = sqlite3_column_int64(s, 1);
    }
    sqlite3_reset(s);
    if (rc == SQLITE_ROW)
        return DEPOT_OK;
    if (rc != SQLITE_DONE)
        return store__dberr(st, "read order");
    return store__fail(st, DEPOT_E_NOT_FOUND, "no order %lld", (long long)order_id);
}

static depot_err set_order_status(depot_store *st, int64_t order_id, const char *status)
{
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE orders SET status = ?2, updated_at = ?3 WHERE id = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, order_id);
    sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, store__now());
    return store__step_done(st, s);
}

static depot_err move_reserved(depot_store *st, int64_t sku_id, int64_t location_id,
                               int64_t delta)
{
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE stock SET reserved = reserved + ?3, updated_at = ?4"
        " WHERE sku_id = ?1 AND location_id = ?2");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, sku_id);
    sqlite3_bind_int64(s, 2, location_id);
    sqlite3_bind_int64(s, 3, delta);
    sqlite3_bind_int64(s, 4, store__now());
    depot_err e = store__step_done(st, s);
    if (e == DEPOT_OK && sqlite3_changes(st->db) != 1)
        e = store__fail(st, DEPOT_E_SCHEMA, "stock row for reservation is missing");
    return e;
}

static depot_err audit_order(depot_store *st, const char *actor, const char *action,
                             int64_t order_id, const char *detail)
{
    char entity[32];
    snprintf(entity, sizeof entity, "order:%lld", (long long)order_id);
    return store__audit(st, actor, action, entity, detail);
}

/* Allocates `need` units of one line across locations, most available first. */
static depot_err reserve_line(depot_store *st, int64_t order_id, int64_t line_id,
                              int64_t sku_id, int64_t need, int64_t expires_at)
{
    struct candidate c[MAX_LOCATIONS_PER_SKU];
    size_t n = 0;
    int64_t total = 0;
    sqlite3_stmt *s = store__stmt(st,
        "SELECT location_id, on_hand - reserved FROM stock"
        " WHERE sku_id = ?1 AND on_hand > reserved"
        " ORDER BY on_hand - reserved DESC, location_id LIMIT 64");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, sku_id);
    while (n < MAX_LOCATIONS_PER_SKU && sqlite3_step(s) == SQLITE_ROW) {
        c[n].location_id = sqlite3_column_int64(s, 0);
        c[n].available = sqlite3_column_int64(s, 1);
        total += c[n].available;
        n++;
    }
    sqlite3_reset(s);
    if (total < need) {
        const char *code = "?";
        s = store__stmt(st, "SELECT code FROM skus WHERE id = ?1");
        if (s) {
            sqlite3_bind_int64(s, 1, sku_id);
            if (sqlite3_step(s) == SQLITE_ROW)
                code = (const char *)sqlite3_column_text(s, 0);
        }
        depot_err e = store__fail(st, DEPOT_E_INSUFFICIENT,
                                  "not enough %s: %lld needed, %lld available", code,
                                  (long long)need, (long long)total);
        if (s)
            sqlite3_reset(s);
        return e;
    }
    int64_t now = store__now();
    for (size_t i = 0; i < n && need > 0; i++) {
        int64_t take = c[i].available < need ? c[i].available : need;
        depot_err e = move_reserved(st, sku_id, c[i].location_id, take);
        if (e != DEPOT_OK)
            return e;
        s = store__stmt(st,
            "INSERT INTO reservations (order_id, line_id, sku_id, location_id, quantity,"
            " status, expires_at, created_at, updated_at)"
            " VALUES (?1, ?2, ?3, ?4, ?5, 'active', nullif(?6, 0), ?7, ?7)");
        if (!s)
            return DEPOT_E_DB;
        sqlite3_bind_int64(s, 1, order_id);
        sqlite3_bind_int64(s, 2, line_id);
        sqlite3_bind_int64(s, 3, sku_id);
        sqlite3_bind_int64(s, 4, c[i].location_id);
        sqlite3_bind_int64(s, 5, take);
        sqlite3_bind_int64(s, 6, expires_at);
        sqlite3_bind_int64(s, 7, now);
        if ((e = store__step_done(st, s)) != DEPOT_OK)
            return e;
        if ((e = store__stock_changed(st, sku_id, c[i].location_id)) != DEPOT_OK)
            return e;
        need -= take;
    }
    return DEPOT_OK;
}

depot_err store__order_reserve_lines(depot_store *st, int64_t order_id, int64_t expires_at)
{
    depot_err e = DEPOT_OK;
    sqlite3_stmt *s = store__stmt(st,
        "SELECT id, sku_id, quantity FROM order_lines WHERE order_id = ?1 ORDER BY line_no");
    if (!s)
        return DEPOT_E_DB;
    /* Lines are read into memory first: reserve_line runs other statements. */
    sqlite3_bind_int64(s, 1, order_id);
    int64_t (*lines)[3] = NULL;
    size_t n = 0, cap = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            void *p = realloc(lines, cap * sizeof *lines);
            if (!p) {
                sqlite3_reset(s);
                free(lines);
                return store__fail(st, DEPOT_E_NOMEM, "out of memory");
            }
            lines = p;
        }
        for (int k = 0; k < 3; k++)
            lines[n][k] = sqlite3_column_int64(s, k);
        n++;
    }
    sqlite3_reset(s);
    for (size_t i = 0; i < n && e == DEPOT_OK; i++)
        e = reserve_line(st, order_id, lines[i][0], lines[i][1], lines[i][2], expires_at);
    free(lines);
    return e;
}

depot_err depot_order_reserve(depot_store *st, int64_t order_id, int64_t ttl_seconds,
                              const char *actor)
{
    store__clear_error(st);
    if (ttl_seconds < 0 || ttl_seconds > 90LL * 86400)
        return store__fail(st, DEPOT_E_INVALID, "reservation ttl must be 0..90 days");
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    char status[24];
    if ((e = order_status(st, order_id, status, NULL)) != DEPOT_OK)
        goto fail;
    if (!strcmp(status, "reserved")) { /* already done: reserving is idempotent */
        store__rollback(st);
        return DEPOT_OK;
    }
    if (strcmp(status, "open") != 0) {
        e = store__fail(st, DEPOT_E_STATE, "order %lld is %s%s", (long long)order_id, status,
                        !strcmp(status, "needs_attention") ? " (it has unresolved lines)" : "");
        goto fail;
    }
    int64_t expires_at = ttl_seconds ? store__now() + ttl_seconds : 0;
    if ((e = store__order_reserve_lines(st, order_id, expires_at)) != DEPOT_OK)
        goto fail;
    if ((e = set_order_status(st, order_id, "reserved")) != DEPOT_OK)
        goto fail;
    char detail[64];
    snprintf(detail, sizeof detail, "{\"expires_at\":%lld}", (long long)expires_at);
    if ((e = audit_order(st, actor, "order.reserve", order_id, detail)) != DEPOT_OK)
        goto fail;
    return store__commit(st);
fail:
    store__rollback(st);
    return e;
}

/* Ends the active reservations selected by the statement (bound by the caller) with
 * new_status, taking their quantity off `reserved`. When the units become available
 * again (release, expiry) the channels are told; a shipment leaves availability as it
 * was, because on_hand goes down by the same amount. */
static depot_err end_reservations(depot_store *st, sqlite3_stmt *sel, const char *new_status,
                                  int *count)
{
    struct row { int64_t id, sku_id, location_id, quantity; } *rows = NULL;
    size_t n = 0, cap = 0;
    depot_err e = DEPOT_OK;
    while (sqlite3_step(sel) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            void *p = realloc(rows, cap * sizeof *rows);
            if (!p) {
                e = store__fail(st, DEPOT_E_NOMEM, "out of memory");
                break;
            }
            rows = p;
        }
        rows[n].id = sqlite3_column_int64(sel, 0);
        rows[n].sku_id = sqlite3_column_int64(sel, 1);
        rows[n].location_id = sqlite3_column_int64(sel, 2);
        rows[n].quantity = sqlite3_column_int64(sel, 3);
        n++;
    }
    sqlite3_reset(sel);
    for (size_t i = 0; i < n && e == DEPOT_OK; i++) {
        if ((e = move_reserved(st, rows[i].sku_id, rows[i].location_id, -rows[i].quantity)))
            break;
        sqlite3_stmt *s = store__stmt(st,
            "UPDATE reservations SET status = ?2, updated_at = ?3"
            " WHERE id = ?1 AND status = 'active'");
        if (!s) {
            e = DEPOT_E_DB;
            break;
        }
        sqlite3_bind_int64(s, 1, rows[i].id);
        sqlite3_bind_text(s, 2, new_status, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, store__now());
        if ((e = store__step_done(st, s)) != DEPOT_OK)
            break;
        if (strcmp(new_status, "committed") != 0)
            e = store__stock_changed(st, rows[i].sku_id, rows[i].location_id);
    }
    free(rows);
    if (count)
        *count = (int)n;
    return e;
}

depot_err store__order_release_active(depot_store *st, int64_t order_id, int *n)
{
    sqlite3_stmt *sel = store__stmt(st,
        "SELECT id, sku_id, location_id, quantity FROM reservations"
        " WHERE order_id = ?1 AND status = 'active'");
    if (!sel)
        return DEPOT_E_DB;
    sqlite3_bind_int64(sel, 1, order_id);
    return end_reservations(st, sel, "released", n);
}

static depot_err release_order(depot_store *st, int64_t order_id, const char *actor,
                               int cancel)
{
    store__clear_error(st);
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    char status[24];
    if ((e = order_status(st, order_id, status, NULL)) != DEPOT_OK)
        goto fail;
    if (!strcmp(status, "shipped") || !strcmp(status, "cancelled") ||
        (!cancel && strcmp(status, "reserved") != 0 && strcmp(status, "open") != 0)) {
        e = store__fail(st, DEPOT_E_STATE, "order %lld is %s", (long long)order_id, status);
        goto fail;
    }
    int n = 0;
    if ((e = store__order_release_active(st, order_id, &n)) != DEPOT_OK)
        goto fail;
    if ((e = set_order_status(st, order_id, cancel ? "cancelled" : "open")) != DEPOT_OK)
        goto fail;
    char detail[48];
    snprintf(detail, sizeof detail, "{\"released\":%d}", n);
    if ((e = audit_order(st, actor, cancel ? "order.cancel" : "order.release", order_id,
                         detail)) != DEPOT_OK)
        goto fail;
    return store__commit(st);
fail:
    store__rollback(st);
    return e;
}

depot_err depot_order_release(depot_store *st, int64_t order_id, const char *actor)
{
    return release_order(st, order_id, actor, 0);
}

depot_err depot_order_cancel(depot_store *st, int64_t order_id, const char *actor)
{
    return release_order(st, order_id, actor, 1);
}

depot_err depot_reservations_expire(depot_store *st, int64_t now, const char *actor,
                                    int *n_expired)
{
    store__clear_error(st);
    if (n_expired)
        *n_expired = 0;
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    /* Orders first (their status goes back to open), then their reservations. Bounded
     * per call so the write lock is held briefly; the caller runs this periodically. */
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE orders SET status = 'open', updated_at = ?1 WHERE status = 'reserved'"
        "   AND id IN (SELECT order_id FROM reservations WHERE status = 'active'"
        "              AND expires_at <= ?1 LIMIT 500)");
    if (!s) {
        e = DEPOT_E_DB;
        goto fail;
    }
    sqlite3_bind_int64(s, 1, now);
    if ((e = store__step_done(st, s)) != DEPOT_OK)
        goto fail;
    sqlite3_stmt *sel = store__stmt(st,
        "SELECT id, sku_id, location_id, quantity FROM reservations"
        " WHERE status = 'active' AND expires_at <= ?1"
        "   AND order_id IN (SELECT id FROM orders WHERE status = 'open')");
    if (!sel) {
        e = DEPOT_E_DB;
        goto fail;
    }
    sqlite3_bind_int64(sel, 1, now);
    int n = 0;
    if ((e = end_reservations(st, sel, "expired", &n)) != DEPOT_OK)
        goto fail;
    if (n > 0) {
        char detail[48];
        snprintf(detail, sizeof detail, "{\"expired\":%d}", n);
        if ((e = store__audit(st, actor, "reservation.expire", "reservations", detail)))
            goto fail;
    }
    if ((e = store__commit(st)) != DEPOT_OK)
        return e;
    if (n_expired)
        *n_expired = n;
    return DEPOT_OK;
fail:
    store__rollback(st);
    return e;
}

/* The fulfillment event the order's channel must learn, written in the ship transaction. */
static depot_err queue_fulfillment(depot_store *st, int64_t channel_id, int64_t order_id,
                                   int64_t shipment_id, const struct depot_shipment_in *in)
{
    sqlite3_stmt *s = store__stmt(st,
        "SELECT o.external_id, ol.external_line_id, sk.code, ol.quantity"
        "  FROM orders o JOIN order_lines ol ON ol.order_id = o.id"
        "  LEFT JOIN skus sk ON sk.id = ol.sku_id WHERE o.id = ?1 ORDER BY ol.line_no");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, order_id);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "order_id", (double)order_id);
    cJSON_AddNumberToObject(p, "shipment_id", (double)shipment_id);
    cJSON_AddStringToObject(p, "carrier", in->carrier);
    if (in->tracking_number)
        cJSON_AddStringToObject(p, "tracking_number", in->tracking_number);
    cJSON *lines = cJSON_AddArrayToObject(p, "lines");
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (!cJSON_GetObjectItem(p, "external_order_id"))
            cJSON_AddStringToObject(p, "external_order_id",
                                    (const char *)sqlite3_column_text(s, 0));
        cJSON *l = cJSON_CreateObject();
        if (sqlite3_column_type(s, 1) != SQLITE_NULL)
            cJSON_AddStringToObject(l, "external_line_id",
                                    (const char *)sqlite3_column_text(s, 1));
        if (sqlite3_column_type(s, 2) != SQLITE_NULL)
            cJSON_AddStringToObject(l, "sku", (const char *)sqlite3_column_text(s, 2));
        cJSON_AddNumberToObject(l, "quantity", (double)sqlite3_column_int64(s, 3));
        cJSON_AddItemToArray(lines, l);
    }
    sqlite3_reset(s);
    char *json = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    if (!json)
        return store__fail(st, DEPOT_E_NOMEM, "out of memory");
    char aggregate[32], key[64];
    snprintf(aggregate, sizeof aggregate, "order:%lld", (long long)order_id);
    snprintf(key, sizeof key, "fulfillment:%lld:%lld", (long long)order_id,
             (long long)shipment_id);
    depot_err e = store__outbox_put(st, "channel", channel_id, "fulfillment.create",
                                    aggregate, key, json);
    cJSON_free(json);
    return e;
}

depot_err depot_order_ship(depot_store *st, int64_t order_id,
                           const struct depot_shipment_in *in, const char *actor,
                           int64_t *shipment_id)
{
    store__clear_error(st);
    if (!in || !store__valid_code(in->carrier, 32))
        return store__fail(st, DEPOT_E_INVALID, "carrier must be 1..32 characters");
    if (in->tracking_number && !store__valid_code(in->tracking_number, 64))
        return store__fail(st, DEPOT_E_INVALID, "tracking number must be 1..64 characters");
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    char status[24];
    int64_t channel_id = 0;
    if ((e = order_status(st, order_id, status, &channel_id)) != DEPOT_OK)
        goto fail;
    if (strcmp(status, "reserved") != 0 && strcmp(status, "packed") != 0) {
        e = store__fail(st, DEPOT_E_STATE, "order %lld is %s; only a reserved order can ship",
                        (long long)order_id, status);
        goto fail;
    }
    sqlite3_stmt *s = store__stmt(st,
        "SELECT count(*) FROM order_lines ol WHERE ol.order_id = ?1 AND ol.quantity <>"
        " (SELECT coalesce(sum(quantity), 0) FROM reservations r"
        "   WHERE r.order_id = ol.order_id AND r.line_id = ol.id AND r.status = 'active')");
    if (!s) {
        e = DEPOT_E_DB;
        goto fail;
    }
    sqlite3_bind_int64(s, 1, order_id);
    int short_lines = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
    sqlite3_reset(s);
    if (short_lines != 0) {
        e = store__fail(st, DEPOT_E_STATE, "order %lld is not fully reserved",
                        (long long)order_id);
        goto fail;
    }
    int64_t now = store__now();
    s = store__stmt(st,
        "INSERT INTO shipments (order_id, carrier, tracking_number, status, created_at,"
        " updated_at) VALUES (?1, ?2, ?3, 'shipped', ?4, ?4)");
    if (!s) {
        e = DEPOT_E_DB;
        goto fail;
    }
    sqlite3_bind_int64(s, 1, order_id);
    sqlite3_bind_text(s, 2, in->carrier, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, in->tracking_number, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    if ((e = store__step_done(st, s)) != DEPOT_OK)
        goto fail;
    int64_t sid = sqlite3_last_insert_rowid(st->db);

    /* reserved goes down first so on_hand never dips below it mid-transaction. */
    sqlite3_stmt *sel = store__stmt(st,
        "SELECT id, sku_id, location_id, quantity FROM reservations"
        " WHERE order_id = ?1 AND status = 'active' ORDER BY id");
    if (!sel) {
        e = DEPOT_E_DB;
        goto fail;
    }
    sqlite3_bind_int64(sel, 1, order_id);
    struct { int64_t sku_id, location_id, quantity; } taken[256];
    size_t n = 0;
    while (sqlite3_step(sel) == SQLITE_ROW) {
        if (n == sizeof taken / sizeof taken[0]) {
            sqlite3_reset(sel);
            e = store__fail(st, DEPOT_E_INVALID, "order has too many reservations to ship "
                                                 "at once");
            goto fail;
        }
        taken[n].sku_id = sqlite3_column_int64(sel, 1);
        taken[n].location_id = sqlite3_column_int64(sel, 2);
        taken[n].quantity = sqlite3_column_int64(sel, 3);
        n++;
    }
    sqlite3_reset(sel);
    sqlite3_bind_int64(sel, 1, order_id);
    if ((e = end_reservations(st, sel, "committed", NULL)) != DEPOT_OK)
        goto fail;
    char ref[48];
    snprintf(ref, sizeof ref, "order:%lld/shipment:%lld", (long long)order_id, (long long)sid);
    for (size_t i = 0; i < n; i++) {
        e = store__ledger_apply(st, taken[i].sku_id, taken[i].location_id, -taken[i].quantity,
                                "ship", "shipment", ref, actor, NULL);
        if (e != DEPOT_OK)
            goto fail;
    }
    s = store__stmt(st, "UPDATE order_lines SET packed_qty = quantity WHERE order_id = ?1");
    if (!s) {
        e = DEPOT_E_DB;
        goto fail;
    }
    sqlite3_bind_int64(s, 1, order_id);
    if ((e = store__step_done(st, s)) != DEPOT_OK ||
        (e = set_order_status(st, order_id, "shipped")) != DEPOT_OK)
        goto fail;
    if (channel_id && (e = queue_fulfillment(st, channel_id, order_id, sid, in)) != DEPOT_OK)
        goto fail;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "shipment_id", (double)sid);
    cJSON_AddStringToObject(d, "carrier", in->carrier);
    char *detail = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    e = detail ? audit_order(st, actor, "order.ship", order_id, detail)
               : store__fail(st, DEPOT_E_NOMEM, "out of memory");
    cJSON_free(detail);
    if (e != DEPOT_OK)
        goto fail;
    if ((e = store__commit(st)) != DEPOT_OK)
        return e;
    if (shipment_id)
        *shipment_id = sid;
    return DEPOT_OK;
fail:
    store__rollback(st);
    return e;
}
