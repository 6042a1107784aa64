/* Channel events that move stock: refunds with returned units (each with its
 * disposition) and inventory levels the channel reports (our own echo ignored, a genuine
 * change booked to the ledger with reason "channel"). One transaction each, together
 * with the inbox delivery's outcome. */
#include <stdio.h>
#include <string.h>
#include "inbound_int.h"

static depot_err order_of(depot_store *st, int64_t channel_id, const char *external_id,
                          int64_t *order_id, char status[24])
{
    sqlite3_stmt *s = store__stmt(st,
        "SELECT id, status FROM orders WHERE channel_id = ?1 AND external_id = ?2");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, channel_id);
    sqlite3_bind_text(s, 2, external_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    *order_id = 0;
    if (rc == SQLITE_ROW) {
        *order_id = sqlite3_column_int64(s, 0);
        snprintf(status, 24, "%s", sqlite3_column_text(s, 1));
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DEPOT_OK : store__dberr(st, "find order");
}

/* The line's SKU and the location its units left from (its newest committed
 * reservation; else the SKU's first stock location). */
static depot_err line_origin(depot_store *st, int64_t order_id, const char *external_line_id,
                             int64_t *sku_id, int64_t *location_id)
{
    sqlite3_stmt *s = store__stmt(st,
        "SELECT coalesce(ol.sku_id, 0),"
        "       coalesce((SELECT r.location_id FROM reservations r WHERE r.line_id = ol.id"
        "                  ORDER BY (r.status = 'committed') DESC, r.id DESC LIMIT 1),"
        "                (SELECT location_id FROM stock WHERE sku_id = ol.sku_id"
        "                  ORDER BY location_id LIMIT 1), 0)"
        "  FROM order_lines ol WHERE ol.order_id = ?1 AND ol.external_line_id = ?2");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, order_id);
    sqlite3_bind_text(s, 2, external_line_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    *sku_id = *location_id = 0;
    if (rc == SQLITE_ROW) {
        *sku_id = sqlite3_column_int64(s, 0);
        *location_id = sqlite3_column_int64(s, 1);
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DEPOT_OK : store__dberr(st, "read line");
}

depot_err store__quarantine_location(depot_store *st, int64_t *id)
{
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO locations (code, name, created_at) VALUES (?1, 'Returns quarantine', ?2)"
        " ON CONFLICT (code) DO NOTHING");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, STORE_QUARANTINE_LOCATION, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, store__now());
    depot_err e = store__step_done(st, s);
    return e != DEPOT_OK ? e : store__location_id(st, STORE_QUARANTINE_LOCATION, id);
}

/* Within a transaction: one returned line; *created = 0 if source_ref was seen before. */
static depot_err return_line(depot_store *st, int64_t order_id,
                             const struct depot_ingest_return_line *l, const char *actor,
                             int *created)
{
    *created = 0;
    int64_t sku_id, location_id;
    depot_err e = line_origin(st, order_id, l->external_line_id, &sku_id, &location_id);
    if (e != DEPOT_OK)
        return e;
    if (!sku_id || !location_id)
        return store__order_alert(st, order_id, "return_unmatched",
                                  "a returned line (%s) has no SKU or location here; "
                                  "book it by hand", l->external_line_id);
    if (l->disposition == DEPOT_RETURN_DAMAGED &&
        (e = store__quarantine_location(st, &location_id)) != DEPOT_OK)
        return e;
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO returns (order_id, sku_id, location_id, quantity, disposition,"
        " created_at, source_ref, actor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        " ON CONFLICT (source_ref) WHERE source_ref IS NOT NULL DO NOTHING");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, order_id);
    sqlite3_bind_int64(s, 2, sku_id);
    sqlite3_bind_int64(s, 3, location_id);
    sqlite3_bind_int64(s, 4, l->quantity);
    sqlite3_bind_text(s, 5, store__return_disposition_words[l->disposition], -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, store__now());
    sqlite3_bind_text(s, 7, l->source_ref, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 8, actor, -1, SQLITE_STATIC);
    if ((e = store__step_done(st, s)) != DEPOT_OK || sqlite3_changes(st->db) == 0)
        return e;
    *created = 1;
    int64_t return_id = sqlite3_last_insert_rowid(st->db);
    char ref[64], entity[32], detail[160];
    snprintf(ref, sizeof ref, "order:%lld/return:%lld", (long long)order_id,
             (long long)return_id);
    if (l->disposition == DEPOT_RETURN_SELLABLE) {
        e = store__ledger_apply(st, sku_id, location_id, l->quantity, "return",
                                "return: sellable", ref, actor, NULL);
        if (e == DEPOT_OK)
            e = store__stock_changed(st, sku_id, location_id);
    } else if (l->disposition == DEPOT_RETURN_DAMAGED) {
        e = store__order_alert(st, order_id, "return_damaged",
                               "%lld damaged unit(s) of line %s are in %s for inspection",
                               (long long)l->quantity, l->external_line_id,
                               STORE_QUARANTINE_LOCATION);
    }
    if (e != DEPOT_OK)
        return e;
    snprintf(entity, sizeof entity, "order:%lld", (long long)order_id);
    snprintf(detail, sizeof detail,
             "{\"return_id\":%lld,\"sku_id\":%lld,\"quantity\":%lld,\"disposition\":\"%s\"}",
             (long long)return_id, (long long)sku_id, (long long)l->quantity,
             store__return_disposition_labels[l->disposition]);
    return store__audit(st, actor, "return.create", entity, detail);
}

depot_err depot_ingest_returns(depot_store *st, int64_t inbox_id, int64_t channel_id,
                               const char *external_id,
                               const struct depot_ingest_return_line *lines, size_t n,
                               const char *actor, int *n_returned)
{
    store__clear_error(st);
    if (n_returned)
        *n_returned = 0;
    if (store__check_order_id(st, external_id) != DEPOT_OK)
        return DEPOT_E_INVALID;
    for (size_t i = 0; i < n; i++) {
        const struct depot_ingest_return_line *l = &lines[i];
        if (!l->source_ref || !store__valid_code(l->source_ref, 200) ||
            !l->external_line_id || !store__valid_code(l->external_line_id, 128))
            return store__fail(st, DEPOT_E_INVALID, "returned line %zu: bad line id", i + 1);
        if (l->quantity < 1 || l->quantity > 1000000)
            return store__fail(st, DEPOT_E_INVALID, "returned line %zu: quantity must be "
                                                    "1..1000000", i + 1);
        if ((unsigned)l->disposition > DEPOT_RETURN_UNSELLABLE)
            return store__fail(st, DEPOT_E_INVALID, "returned line %zu: bad disposition",
                               i + 1);
    }
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    int64_t order_id;
    char status[24] = "";
    int count = 0;
    if ((e = order_of(st, channel_id, external_id, &order_id, status)) != DEPOT_OK)
        goto fail;
    if (!order_id) {
        e = store__inbox_done(st, inbox_id, "ignored", "refund for an order not held here");
    } else if (strcmp(status, "shipped") != 0) {
        /* Units that never left are not returns: the order update reduces its lines. */
        e = store__inbox_done(st, inbox_id, "ignored",
                              "refund before shipping: no units came back");
    } else {
        for (size_t i = 0; i < n && e == DEPOT_OK; i++) {
            int created = 0;
            e = return_line(st, order_id, &lines[i], actor, &created);
            count += created;
        }
        if (e == DEPOT_OK)
            e = store__inbox_done(st, inbox_id, "done", NULL);
    }
    if (e != DEPOT_OK)
        goto fail;
    if ((e = store__commit(st)) == DEPOT_OK && n_returned)
        *n_returned = count;
    return e;
fail:
    store__rollback(st);
    return e;
}

/* The SKU and location a channel's inventory report is about: the item by inventory
 * item id, variant id or product id; the location by the channel's location id, or the
 * channel's only mapped location when the report names none (WooCommerce). */
static depot_err resolve_level(depot_store *st, int64_t channel_id, const char *item,
                               const char *location, int64_t *sku_id, int64_t *location_id,
                               int64_t *buffer)
{
    *sku_id = *location_id = *buffer = 0;
    sqlite3_stmt *s = store__stmt(st,
        "SELECT sku_id FROM channel_skus WHERE channel_id = ?1 AND (external_inventory_id = ?2"
        " OR external_variant_id = ?2 OR external_product_id = ?2)"
        " ORDER BY (external_inventory_id = ?2) DESC, (external_variant_id = ?2) DESC LIMIT 1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, channel_id);
    sqlite3_bind_text(s, 2, item, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *sku_id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__dberr(st, "resolve item");
    s = store__stmt(st,
        "SELECT location_id, buffer FROM channel_locations WHERE channel_id = ?1"
        "   AND (external_location_id = ?2 OR (?2 IS NULL AND"
        "        (SELECT count(*) FROM channel_locations WHERE channel_id = ?1) = 1))");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, channel_id);
    sqlite3_bind_text(s, 2, location, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *location_id = sqlite3_column_int64(s, 0);
        *buffer = sqlite3_column_int64(s, 1);
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DEPOT_OK
                                                 : store__dberr(st, "resolve location");
}

/* What we would tell the channel now, and what is held: on_hand and reserved. */
static depot_err current_level(depot_store *st, int64_t sku_id, int64_t location_id,
                               int64_t channel_buffer, int64_t *available, int64_t *on_hand,
                               int64_t *reserved, int64_t *stock_buffer)
{
    sqlite3_stmt *s = store__stmt(st,
        "SELECT on_hand, reserved, buffer FROM stock WHERE sku_id = ?1 AND location_id = ?2");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, sku_id);
    sqlite3_bind_int64(s, 2, location_id);
    int rc = sqlite3_step(s);
    *on_hand = *reserved = *stock_buffer = 0;
    if (rc == SQLITE_ROW) {
        *on_hand = sqlite3_column_int64(s, 0);
        *reserved = sqlite3_column_int64(s, 1);
        *stock_buffer = sqlite3_column_int64(s, 2);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__dberr(st, "read stock");
    int64_t a = *on_hand - *reserved - *stock_buffer - channel_buffer;
    *available = a > 0 ? a : 0;
    return DEPOT_OK;
}

depot_err depot_ingest_inventory_level(depot_store *st, int64_t inbox_id,
                                       int64_t channel_id, const char *inventory_item_id,
                                       const char *external_location_id, int64_t available,
                                       int64_t echo_window, const char *actor,
                                       const char **outcome)
{
    store__clear_error(st);
    *outcome = "unmapped";
    if (!inventory_item_id || !store__valid_code(inventory_item_id, 128) ||
        (external_location_id && !store__valid_code(external_location_id, 128)))
        return store__fail(st, DEPOT_E_INVALID, "inventory item and location ids must be "
                                                "1..128 printable characters");
    if (available < -1000000000 || available > 1000000000)
        return store__fail(st, DEPOT_E_INVALID, "available is out of range");
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    int64_t sku_id, location_id, buffer, current = 0, on_hand = 0, reserved = 0;
    int64_t stock_buffer = 0;
    const char *result = "unmapped";
    e = resolve_level(st, channel_id, inventory_item_id, external_location_id, &sku_id,
                      &location_id, &buffer);
    if (e != DEPOT_OK)
        goto fail;
    if (!sku_id || !location_id) {
        e = store__inbox_done(st, inbox_id, "ignored", "item or location not mapped");
        goto done;
    }
    int echo = 0;
    if ((e = depot_inventory_push_is_echo(st, channel_id, sku_id, location_id, available,
                                          echo_window, &echo)) != DEPOT_OK)
        goto fail;
    if (echo) {
        result = "echo";
        e = store__inbox_done(st, inbox_id, "ignored", "echo of our own inventory push");
        goto done;
    }
    if ((e = current_level(st, sku_id, location_id, buffer, &current, &on_hand, &reserved,
                           &stock_buffer)) != DEPOT_OK)
        goto fail;
    /* The channel sells what it shows; the difference is a count change here. on_hand
     * never drops below what is reserved for orders. */
    int64_t delta = (available < 0 ? 0 : available) - current;
    if (on_hand + delta < reserved)
        delta = reserved - on_hand;
    if (delta == 0) {
        result = "unchanged";
        e = store__inbox_done(st, inbox_id, "done", NULL);
        goto done;
    }
    char ref[48];
    snprintf(ref, sizeof ref, "inbox:%lld", (long long)inbox_id);
    if ((e = store__ledger_apply(st, sku_id, location_id, delta, "adjust", "channel", ref,
                                 actor, NULL)) != DEPOT_OK ||
        (e = store__stock_changed(st, sku_id, location_id)) != DEPOT_OK)
        goto fail;
    char entity[48], detail[128];
    snprintf(entity, sizeof entity, "sku:%lld", (long long)sku_id);
    snprintf(detail, sizeof detail,
             "{\"channel_id\":%lld,\"location_id\":%lld,\"delta\":%lld,\"reported\":%lld}",
             (long long)channel_id, (long long)location_id, (long long)delta,
             (long long)available);
    if ((e = store__audit(st, actor, "stock.channel_adjust", entity, detail)) != DEPOT_OK)
        goto fail;
    result = "adjusted";
    e = store__inbox_done(st, inbox_id, "done", NULL);
done:
    if (e != DEPOT_OK)
        goto fail;
    if ((e = store__commit(st)) == DEPOT_OK)
        *outcome = result;
    return e;
fail:
    store__rollback(st);
    return e;
}

depot_err depot_ingest_fulfillment(depot_store *st, int64_t inbox_id, int64_t channel_id,
                                   const char *external_id, const char *status,
                                   int64_t *order_id)
{
    store__clear_error(st);
    *order_id = 0;
    if (store__check_order_id(st, external_id) != DEPOT_OK)
        return DEPOT_E_INVALID;
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    char state[24] = "";
    if ((e = order_of(st, channel_id, external_id, order_id, state)) != DEPOT_OK)
        goto fail;
    int shipped_elsewhere = *order_id && status && !strcmp(status, "success") &&
                            strcmp(state, "shipped") != 0 && strcmp(state, "cancelled") != 0;
    if (shipped_elsewhere) {
        sqlite3_stmt *s = store__stmt(st,
            "SELECT count(*) FROM order_alerts WHERE order_id = ?1"
            " AND kind = 'fulfilled_upstream' AND resolved_at IS NULL");
        if (!s) {
            e = DEPOT_E_DB;
            goto fail;
        }
        sqlite3_bind_int64(s, 1, *order_id);
        int rc = sqlite3_step(s);
        int open = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
        sqlite3_reset(s);
        if (rc != SQLITE_ROW)
            e = store__dberr(st, "read the order's alerts");
        else if (!open)
            e = store__order_alert(st, *order_id, "fulfilled_upstream",
                                   "the channel fulfilled this order, which has not shipped "
                                   "from here: check before packing it");
    }
    if (e == DEPOT_OK)
        e = store__inbox_done(st, inbox_id, shipped_elsewhere ? "done" : "ignored",
                              shipped_elsewhere ? NULL : "fulfillment noted; nothing to do");
    if (e != DEPOT_OK)
        goto fail;
    return store__commit(st);
fail:
    store__rollback(st);
    return e;
}
