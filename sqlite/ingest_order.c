/* Channel order ingestion: one mapped order from a webhook (or the backstop pull) applied
 * idempotently in one transaction with its inbox delivery -- create or update by
 * (channel, external id) in the channel's updated_at order, adjust reservations to
 * changed lines, reserve paid orders (or backorder them), cancel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inbound_int.h"

/* Rationale: a delivery is applied and its inbox row marked done in the same
 * transaction, so a crash either leaves both undone (the delivery is processed again)
 * or both done (never twice). Duplicates and redeliveries are harmless because the
 * outcome depends only on the order's state: an update older than the stored
 * channel_updated_at changes nothing; an equal one re-applies the same lines (no
 * change); changed lines release the order's reservations and reserve again, inside a
 * savepoint so a shortage leaves the order backordered rather than half reserved. */

struct stored_order {
    int64_t id;
    char status[24];
    int64_t channel_updated_at; /* 0 when unknown */
    int backordered;
};

struct stored_line {
    int64_t id;
    int64_t line_no;
    char external_line_id[129];
    int64_t sku_id;
    int64_t quantity;
    int seen; /* matched by an incoming line */
};

depot_err store__check_order_id(depot_store *st, const char *external_id)
{
    if (!external_id || !store__valid_code(external_id, 128))
        return store__fail(st, DEPOT_E_INVALID, "order id must be 1..128 printable "
                                                "characters");
    return DEPOT_OK;
}

static depot_err validate(depot_store *st, const struct depot_ingest_order *in)
{
    if (in->channel_id <= 0)
        return store__fail(st, DEPOT_E_INVALID, "order has no channel");
    if (store__check_order_id(st, in->external_id) != DEPOT_OK)
        return DEPOT_E_INVALID;
    if (in->n_lines > DEPOT_INGEST_LINES_MAX)
        return store__fail(st, DEPOT_E_INVALID, "an order has at most %d lines",
                           DEPOT_INGEST_LINES_MAX);
    for (size_t i = 0; i < in->n_lines; i++) {
        const struct depot_ingest_line *l = &in->lines[i];
        if (!l->external_line_id || !store__valid_code(l->external_line_id, 128))
            return store__fail(st, DEPOT_E_INVALID, "line %zu: line id must be 1..128 "
                                                    "printable characters", i + 1);
        if (l->quantity < 0 || l->quantity > 1000000)
            return store__fail(st, DEPOT_E_INVALID, "line %zu: quantity must be 0..1000000",
                               i + 1);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(in->lines[j].external_line_id, l->external_line_id))
                return store__fail(st, DEPOT_E_INVALID, "line %zu: line id %s repeats",
                                   i + 1, l->external_line_id);
    }
    return DEPOT_OK;
}

static depot_err lookup_id(depot_store *st, sqlite3_stmt *s, int64_t *id)
{
    int rc = sqlite3_step(s);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DEPOT_OK : store__dberr(st, "resolve SKU");
}

/* The SKU holding gtin in any of its forms (sku_gtins keeps GTINs as imported: 8, 12,
 * 13 or 14 digits; a shorter form exists when the digits it drops are zeros). */
static depot_err sku_by_gtin(depot_store *st, const char *gtin, int64_t *sku_id)
{
    static const size_t lens[4] = {14, 13, 12, 8};
    char g14[15], forms[4][15];
    size_t n = strlen(gtin);
    if (!store__valid_gtin(gtin))
        return DEPOT_OK;
    memset(g14, '0', 14 - n);
    memcpy(g14 + 14 - n, gtin, n + 1);
    for (int i = 0; i < 4; i++) {
        size_t cut = 14 - lens[i];
        forms[i][0] = '\0';
        if (strspn(g14, "0") >= cut)
            memcpy(forms[i], g14 + cut, lens[i] + 1);
    }
    sqlite3_stmt *s = store__stmt(st, "SELECT sku_id FROM sku_gtins"
                                      " WHERE gtin = ?1 OR gtin = ?2 OR gtin = ?3 OR gtin = ?4"
                                      " ORDER BY length(gtin) DESC LIMIT 1");
    if (!s)
        return DEPOT_E_DB;
    for (int i = 0; i < 4; i++)
        sqlite3_bind_text(s, i + 1, forms[i], -1, SQLITE_STATIC);
    return lookup_id(st, s, sku_id);
}

/* The SKU of a channel line: by the channel's variant id, then product id, then our SKU
 * code, then GTIN -- the line's own, else its SKU text when that is a valid GTIN
 * (merchants often keep the barcode in the SKU field). *sku_id = 0 when none matches. */
static depot_err resolve_sku(depot_store *st, int64_t channel_id,
                             const struct depot_ingest_line *l, int64_t *sku_id)
{
    sqlite3_stmt *s;
    depot_err e;
    *sku_id = 0;
    if (l->variant_id) {
        if (!(s = store__stmt(st, "SELECT sku_id FROM channel_skus"
                                  " WHERE channel_id = ?1 AND external_variant_id = ?2")))
            return DEPOT_E_DB;
        sqlite3_bind_int64(s, 1, channel_id);
        sqlite3_bind_text(s, 2, l->variant_id, -1, SQLITE_STATIC);
        if ((e = lookup_id(st, s, sku_id)) != DEPOT_OK || *sku_id)
            return e;
    }
    if (l->product_id) {
        if (!(s = store__stmt(st, "SELECT sku_id FROM channel_skus"
                                  " WHERE channel_id = ?1 AND external_product_id = ?2"
                                  " ORDER BY sku_id LIMIT 1")))
            return DEPOT_E_DB;
        sqlite3_bind_int64(s, 1, channel_id);
        sqlite3_bind_text(s, 2, l->product_id, -1, SQLITE_STATIC);
        if ((e = lookup_id(st, s, sku_id)) != DEPOT_OK || *sku_id)
            return e;
    }
    if (l->sku && l->sku[0]) {
        if (!(s = store__stmt(st, "SELECT id FROM skus WHERE code = ?1")))
            return DEPOT_E_DB;
        sqlite3_bind_text(s, 1, l->sku, -1, SQLITE_STATIC);
        if ((e = lookup_id(st, s, sku_id)) != DEPOT_OK || *sku_id)
            return e;
    }
    if (l->gtin && (e = sku_by_gtin(st, l->gtin, sku_id)) != DEPOT_OK)
        return e;
    if (!*sku_id && l->sku)
        return sku_by_gtin(st, l->sku, sku_id);
    return DEPOT_OK;
}

static depot_err find_stored(depot_store *st, int64_t channel_id, const char *external_id,
                             struct stored_order *o)
{
    memset(o, 0, sizeof *o);
    sqlite3_stmt *s = store__stmt(st,
        "SELECT id, status, coalesce(channel_updated_at, 0), backordered FROM orders"
        " WHERE channel_id = ?1 AND external_id = ?2");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, channel_id);
    sqlite3_bind_text(s, 2, external_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        o->id = sqlite3_column_int64(s, 0);
        snprintf(o->status, sizeof o->status, "%s", sqlite3_column_text(s, 1));
        o->channel_updated_at = sqlite3_column_int64(s, 2);
        o->backordered = sqlite3_column_int(s, 3);
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DEPOT_OK : store__dberr(st, "find order");
}

static depot_err load_lines(depot_store *st, int64_t order_id, struct stored_line **out,
                            size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    sqlite3_stmt *s = store__stmt(st,
        "SELECT id, line_no, coalesce(external_line_id, ''), coalesce(sku_id, 0), quantity"
        "  FROM order_lines WHERE order_id = ?1 ORDER BY line_no");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, order_id);
    struct stored_line *v = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            void *p = realloc(v, cap * sizeof *v);
            if (!p) {
                sqlite3_reset(s);
                free(v);
                return store__fail(st, DEPOT_E_NOMEM, "out of memory");
            }
            v = p;
        }
        memset(&v[n], 0, sizeof v[n]);
        v[n].id = sqlite3_column_int64(s, 0);
        v[n].line_no = sqlite3_column_int64(s, 1);
        snprintf(v[n].external_line_id, sizeof v[n].external_line_id, "%s",
                 sqlite3_column_text(s, 2));
        v[n].sku_id = sqlite3_column_int64(s, 3);
        v[n].quantity = sqlite3_column_int64(s, 4);
        n++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        free(v);
        return store__dberr(st, "read order lines");
    }
    *out = v;
    *n_out = n;
    return DEPOT_OK;
}

static depot_err insert_line(depot_store *st, int64_t order_id, int64_t line_no,
                             const struct depot_ingest_line *l, int64_t sku_id)
{
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO order_lines (order_id, line_no, sku_id, external_line_id, title,"
        " quantity) VALUES (?1, ?2, nullif(?3, 0), ?4, ?5, ?6)");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, order_id);
    sqlite3_bind_int64(s, 2, line_no);
    sqlite3_bind_int64(s, 3, sku_id);
    sqlite3_bind_text(s, 4, l->external_line_id, -1, SQLITE_STATIC);
    const char *title = l->title && store__valid_text(l->title, 255) ? l->title : l->sku;
    if (title && store__valid_text(title, 255))
        sqlite3_bind_text(s, 5, title, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, l->quantity);
    return store__step_done(st, s);
}

static depot_err exec_sql(depot_store *st, const char *sql)
{
    if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return store__dberr(st, sql);
    return DEPOT_OK;
}

/* Brings the stored lines to the incoming ones (matched by the channel's line id);
 * *changed tells whether anything differed. The order's reservations must already be
 * released when lines change: the caller releases first if *changed would be set, so
 * this runs in two passes (dry, then apply). */
static depot_err sync_lines(depot_store *st, int64_t order_id,
                            const struct depot_ingest_order *in, const int64_t *sku_ids,
                            struct stored_line *old, size_t n_old, int apply, int *changed)
{
    int64_t next_no = 1;
    *changed = 0;
    for (size_t k = 0; k < n_old; k++) {
        old[k].seen = 0;
        if (old[k].line_no >= next_no)
            next_no = old[k].line_no + 1;
    }
    for (size_t i = 0; i < in->n_lines; i++) {
        const struct depot_ingest_line *l = &in->lines[i];
        struct stored_line *m = NULL;
        for (size_t k = 0; k < n_old && !m; k++)
            if (!strcmp(old[k].external_line_id, l->external_line_id))
                m = &old[k];
        if (m)
            m->seen = 1;
        if (l->quantity == 0 || (m && m->quantity == l->quantity && m->sku_id == sku_ids[i]))
            continue; /* removed lines are handled below, as unseen */
        *changed = 1;
        if (!apply)
            continue;
        depot_err e;
        if (m) {
            sqlite3_stmt *s = store__stmt(st,
                "UPDATE order_lines SET quantity = ?2, sku_id = nullif(?3, 0),"
                " packed_qty = min(packed_qty, ?2) WHERE id = ?1");
            if (!s)
                return DEPOT_E_DB;
            sqlite3_bind_int64(s, 1, m->id);
            sqlite3_bind_int64(s, 2, l->quantity);
            sqlite3_bind_int64(s, 3, sku_ids[i]);
            e = store__step_done(st, s);
        } else {
            e = insert_line(st, order_id, next_no++, l, sku_ids[i]);
        }
        if (e != DEPOT_OK)
            return e;
    }
    for (size_t k = 0; k < n_old; k++) {
        int gone = !old[k].seen;
        for (size_t i = 0; !gone && i < in->n_lines; i++)
            gone = !strcmp(in->lines[i].external_line_id, old[k].external_line_id) &&
                   in->lines[i].quantity == 0;
        if (!gone)
            continue;
        *changed = 1;
        if (!apply)
            continue;
        /* Its reservations were released; their history goes with the line. */
        sqlite3_stmt *s = store__stmt(st,
            "DELETE FROM reservations WHERE line_id = ?1 AND status <> 'active'");
        if (!s)
            return DEPOT_E_DB;
        sqlite3_bind_int64(s, 1, old[k].id);
        depot_err e = store__step_done(st, s);
        if (e == DEPOT_OK && !(s = store__stmt(st, "DELETE FROM order_lines WHERE id = ?1")))
            e = DEPOT_E_DB;
        if (e == DEPOT_OK) {
            sqlite3_bind_int64(s, 1, old[k].id);
            e = store__step_done(st, s);
        }
        if (e != DEPOT_OK)
            return e;
    }
    return DEPOT_OK;
}

static depot_err update_header(depot_store *st, int64_t order_id,
                               const struct depot_ingest_order *in, const char *status,
                               int backordered)
{
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE orders SET status = ?2, backordered = ?3, number = coalesce(?4, number),"
        " customer = coalesce(?5, customer), ship_to = coalesce(?6, ship_to),"
        " channel_updated_at = max(coalesce(channel_updated_at, 0), ?7), updated_at = ?8"
        " WHERE id = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, order_id);
    sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, backordered);
    sqlite3_bind_text(s, 4, in->number, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, in->customer_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, in->ship_to_json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, in->updated_at_ms);
    sqlite3_bind_int64(s, 8, store__now());
    return store__step_done(st, s);
}

static depot_err insert_order(depot_store *st, const struct depot_ingest_order *in,
                              int64_t *id)
{
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO orders (channel_id, external_id, number, status, customer, ship_to,"
        " created_at, updated_at, channel_updated_at) VALUES (?1, ?2, ?3, 'open', ?4, ?5,"
        " ?6, ?6, nullif(?7, 0))");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, in->channel_id);
    sqlite3_bind_text(s, 2, in->external_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, in->number, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, in->customer_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, in->ship_to_json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, store__now());
    sqlite3_bind_int64(s, 7, in->updated_at_ms);
    depot_err e = store__step_done(st, s);
    if (e == DEPOT_E_INVALID)
        return store__fail(st, e, "unknown channel %lld or bad customer/ship-to JSON",
                           (long long)in->channel_id);
    *id = sqlite3_last_insert_rowid(st->db);
    return e;
}

/* Reserves all lines inside a savepoint; a shortage rolls back to it and reports
 * *short_of = 1 with the reason kept for the alert. */
static depot_err try_reserve(depot_store *st, int64_t order_id, int *short_of,
                             char *why, size_t whylen)
{
    *short_of = 0;
    depot_err e = exec_sql(st, "SAVEPOINT ingest_reserve");
    if (e != DEPOT_OK)
        return e;
    e = store__order_reserve_lines(st, order_id, 0);
    if (e == DEPOT_E_INSUFFICIENT) {
        snprintf(why, whylen, "%s", depot_store_errmsg(st));
        *short_of = 1;
        e = exec_sql(st, "ROLLBACK TO ingest_reserve");
    }
    depot_err r = exec_sql(st, "RELEASE ingest_reserve");
    return e != DEPOT_OK ? e : r;
}

static int is_final(const char *status)
{
    return !strcmp(status, "shipped") || !strcmp(status, "cancelled");
}

/* Applies the incoming state to an order that is not shipped or cancelled. */
static depot_err apply_state(depot_store *st, int64_t order_id,
                             const struct depot_ingest_order *in, const char *old_status,
                             int was_backordered, int lines_changed, int unresolved,
                             struct depot_ingest_result *res)
{
    int reserved_now = !strcmp(old_status, "reserved") || !strcmp(old_status, "packed");
    depot_err e;
    int n = 0;
    if (in->state == DEPOT_INGEST_CANCELLED || unresolved || lines_changed) {
        if (reserved_now && (e = store__order_release_active(st, order_id, &n)) != DEPOT_OK)
            return e;
        reserved_now = 0;
    }
    if (in->state == DEPOT_INGEST_CANCELLED) {
        res->cancelled = 1;
        return update_header(st, order_id, in, "cancelled", 0);
    }
    if (unresolved) {
        if (lines_changed || strcmp(old_status, "needs_attention") != 0)
            e = store__order_alert(st, order_id, "unknown_items",
                                   "%d line(s) match no SKU (by channel id, SKU code or "
                                   "GTIN): map them; the order's next update resolves them",
                                   unresolved);
        else
            e = DEPOT_OK;
        return e != DEPOT_OK ? e : update_header(st, order_id, in, "needs_attention", 0);
    }
    if (in->state != DEPOT_INGEST_PAID || reserved_now)
        return update_header(st, order_id, in, reserved_now ? old_status : "open",
                             reserved_now ? 0 : was_backordered);
    int short_of = 0;
    char why[256] = "";
    if ((e = try_reserve(st, order_id, &short_of, why, sizeof why)) != DEPOT_OK)
        return e;
    if (short_of) {
        res->backordered = 1;
        if (!was_backordered || lines_changed)
            e = store__order_alert(st, order_id, "backordered",
                                   "paid but not reservable: %s", why);
        return e != DEPOT_OK ? e : update_header(st, order_id, in, "open", 1);
    }
    res->reserved = 1;
    return update_header(st, order_id, in, "reserved", 0);
}

static depot_err audit_ingest(depot_store *st, const char *actor, int64_t order_id,
                              const struct depot_ingest_order *in,
                              const struct depot_ingest_result *res)
{
    char entity[32], detail[256];
    snprintf(entity, sizeof entity, "order:%lld", (long long)order_id);
    snprintf(detail, sizeof detail,
             "{\"channel_id\":%lld,\"created\":%d,\"lines_changed\":%d,\"reserved\":%d,"
             "\"backordered\":%d,\"unresolved\":%d,\"cancelled\":%d}",
             (long long)in->channel_id, res->created, res->lines_changed, res->reserved,
             res->backordered, res->unresolved, res->cancelled);
    return store__audit(st, actor, "order.ingest", entity, detail);
}

static depot_err ingest(depot_store *st, int64_t inbox_id, const struct depot_ingest_order *in,
                        const char *actor, struct depot_ingest_result *res,
                        int64_t *sku_ids)
{
    struct stored_order o;
    depot_err e = find_stored(st, in->channel_id, in->external_id, &o);
    if (e != DEPOT_OK)
        return e;
    char before[24];
    snprintf(before, sizeof before, "%s", o.status);
    res->order_id = o.id;
    if (o.id && in->updated_at_ms && o.channel_updated_at > in->updated_at_ms) {
        res->stale = 1;
        return store__inbox_done(st, inbox_id, "ignored",
                                 "older than the order's stored state; not applied");
    }
    for (size_t i = 0; i < in->n_lines; i++) {
        if ((e = resolve_sku(st, in->channel_id, &in->lines[i], &sku_ids[i])) != DEPOT_OK)
            return e;
        res->unresolved += in->lines[i].quantity > 0 && !sku_ids[i];
    }
    if (o.id && is_final(o.status)) {
        if (in->state == DEPOT_INGEST_CANCELLED && !strcmp(o.status, "shipped"))
            e = store__order_alert(st, o.id, "cancelled_after_shipping",
                                   "the channel cancelled an order that has shipped");
        if (e == DEPOT_OK)
            e = update_header(st, o.id, in, o.status, 0);
        return e != DEPOT_OK ? e : store__inbox_done(st, inbox_id, "done", NULL);
    }
    if (!o.id) {
        if ((e = insert_order(st, in, &o.id)) != DEPOT_OK)
            return e;
        snprintf(o.status, sizeof o.status, "open");
        res->order_id = o.id;
        res->created = 1;
    }
    struct stored_line *old = NULL;
    size_t n_old = 0;
    if ((e = load_lines(st, o.id, &old, &n_old)) != DEPOT_OK)
        return e;
    int changed = 0;
    e = sync_lines(st, o.id, in, sku_ids, old, n_old, 0, &changed);
    if (e == DEPOT_OK && changed) {
        /* Release before the lines move under the reservations. */
        int reserved = !strcmp(o.status, "reserved") || !strcmp(o.status, "packed");
        int n = 0;
        if (reserved && (e = store__order_release_active(st, o.id, &n)) == DEPOT_OK)
            snprintf(o.status, sizeof o.status, "open");
        if (e == DEPOT_OK)
            e = sync_lines(st, o.id, in, sku_ids, old, n_old, 1, &changed);
    }
    free(old);
    if (e != DEPOT_OK)
        return e;
    res->lines_changed = changed && !res->created;
    if ((e = apply_state(st, o.id, in, o.status, o.backordered, changed, res->unresolved,
                         res)) != DEPOT_OK)
        return e;
    /* A redelivery that changed nothing leaves no audit row. */
    struct stored_order after;
    if ((e = find_stored(st, in->channel_id, in->external_id, &after)) != DEPOT_OK)
        return e;
    if ((res->created || res->lines_changed || strcmp(before, after.status) != 0 ||
         after.backordered != o.backordered) &&
        (e = audit_ingest(st, actor, o.id, in, res)) != DEPOT_OK)
        return e;
    return store__inbox_done(st, inbox_id, "done", NULL);
}

depot_err depot_ingest_order(depot_store *st, int64_t inbox_id,
                             const struct depot_ingest_order *in, const char *actor,
                             struct depot_ingest_result *res)
{
    struct depot_ingest_result local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    store__clear_error(st);
    depot_err e = validate(st, in);
    if (e != DEPOT_OK)
        return e;
    /* A display number we cannot show is dropped, not a reason to refuse the order. */
    struct depot_ingest_order copy = *in;
    if (copy.number && !store__valid_text(copy.number, 64))
        copy.number = NULL;
    in = &copy;
    int64_t *sku_ids = calloc(in->n_lines ? in->n_lines : 1, sizeof *sku_ids);
    if (!sku_ids)
        return store__fail(st, DEPOT_E_NOMEM, "out of memory");
    if ((e = store__begin(st)) == DEPOT_OK) {
        e = ingest(st, inbox_id, in, actor, res, sku_ids);
        if (e == DEPOT_OK)
            e = store__commit(st);
        else
            store__rollback(st);
    }
    free(sku_ids);
    return e;
}

depot_err depot_ingest_cancel(depot_store *st, int64_t inbox_id, int64_t channel_id,
                              const char *external_id, const char *actor,
                              int64_t *order_id)
{
    store__clear_error(st);
    *order_id = 0;
    if (store__check_order_id(st, external_id) != DEPOT_OK)
        return DEPOT_E_INVALID;
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    struct stored_order o;
    if ((e = find_stored(st, channel_id, external_id, &o)) != DEPOT_OK)
        goto fail;
    if (!o.id) {
        e = store__inbox_done(st, inbox_id, "ignored", "no such order here");
    } else if (!strcmp(o.status, "shipped")) {
        e = store__order_alert(st, o.id, "cancelled_after_shipping",
                               "the channel deleted an order that has shipped");
        if (e == DEPOT_OK)
            e = store__inbox_done(st, inbox_id, "done", NULL);
    } else if (strcmp(o.status, "cancelled") != 0) {
        struct depot_ingest_order in = {.channel_id = channel_id, .external_id = external_id,
                                        .state = DEPOT_INGEST_CANCELLED};
        struct depot_ingest_result res = {.order_id = o.id};
        int n = 0;
        if ((e = store__order_release_active(st, o.id, &n)) == DEPOT_OK &&
            (e = update_header(st, o.id, &in, "cancelled", 0)) == DEPOT_OK) {
            res.cancelled = 1;
            e = audit_ingest(st, actor, o.id, &in, &res);
        }
        if (e == DEPOT_OK)
            e = store__inbox_done(st, inbox_id, "done", NULL);
    } else {
        e = store__inbox_done(st, inbox_id, "done", NULL);
    }
    if (e != DEPOT_OK)
        goto fail;
    *order_id = o.id;
    return store__commit(st);
fail:
    store__rollback(st);
    return e;
}

/* Within a transaction: one backordered order reserved if its stock is there now. */
static depot_err retry_backorder(depot_store *st, int64_t order_id, const char *actor,
                                 int *reserved)
{
    int short_of = 0;
    char why[256];
    depot_err e = try_reserve(st, order_id, &short_of, why, sizeof why);
    if (e != DEPOT_OK || short_of)
        return e;
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE orders SET status = 'reserved', backordered = 0, updated_at = ?2"
        " WHERE id = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, order_id);
    sqlite3_bind_int64(s, 2, store__now());
    if ((e = store__step_done(st, s)) != DEPOT_OK)
        return e;
    if (!(s = store__stmt(st, "UPDATE order_alerts SET resolved_at = ?2 WHERE order_id = ?1"
                              " AND kind = 'backordered' AND resolved_at IS NULL")))
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, order_id);
    sqlite3_bind_int64(s, 2, store__now());
    if ((e = store__step_done(st, s)) != DEPOT_OK)
        return e;
    char entity[32];
    snprintf(entity, sizeof entity, "order:%lld", (long long)order_id);
    *reserved = 1;
    return store__audit(st, actor, "order.reserve", entity, "{\"backorder\":true}");
}

depot_err depot_backorders_retry(depot_store *st, int limit, const char *actor,
                                 int *n_reserved)
{
    int64_t ids[256];
    size_t n = 0;
    store__clear_error(st);
    if (n_reserved)
        *n_reserved = 0;
    if (limit < 1 || limit > 256)
        return store__fail(st, DEPOT_E_INVALID, "limit must be 1..256");
    sqlite3_stmt *s = store__stmt(st,
        "SELECT id FROM orders WHERE status = 'open' AND backordered = 1 ORDER BY id"
        " LIMIT ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int(s, 1, limit);
    while (n < (size_t)limit && sqlite3_step(s) == SQLITE_ROW)
        ids[n++] = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    for (size_t i = 0; i < n; i++) {
        int reserved = 0;
        depot_err e = store__begin(st);
        if (e != DEPOT_OK)
            return e;
        if ((e = retry_backorder(st, ids[i], actor, &reserved)) != DEPOT_OK) {
            store__rollback(st);
            return e;
        }
        if ((e = store__commit(st)) != DEPOT_OK)
            return e;
        if (n_reserved)
            *n_reserved += reserved;
    }
    return DEPOT_OK;
}
