/* Shipment steps that span the order and its label: shipping an order together with its
 * carrier label request (one transaction, so the fulfillment is held for the tracking
 * number from the start), the durable void request, and finishing a void once the
 * carrier confirmed it -- the shipment voided, a fulfillment the channel has not heard
 * of withdrawn, and the goods released back to the order or restocked, as the user
 * chose (see shipments.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inbound.h"
#include "shipments.h"
#include "store_int.h"

/* Ends a batch opened by depot_store_batch_begin without keeping anything. */
static void batch_abort(depot_store *st)
{
    if (sqlite3_get_autocommit(st->db) == 0)
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    st->batch = 0;
    st->in_tx = 0;
}

depot_err depot_order_ship_labelled(depot_store *st, int64_t order_id,
                                    const struct depot_label_in *in, const char *actor,
                                    int64_t *shipment_id, int64_t *outbox_id)
{
    int64_t sid = 0;
    depot_err e = depot_store_batch_begin(st);
    if (e != DEPOT_OK)
        return e;
    const struct depot_shipment_in ship = {.carrier = in->carrier};
    e = depot_order_ship(st, order_id, &ship, actor, &sid);
    if (e == DEPOT_OK)
        e = depot_label_request(st, sid, in, actor, outbox_id);
    if (e != DEPOT_OK) {
        char msg[sizeof st->errmsg];
        snprintf(msg, sizeof msg, "%s", st->errmsg);
        batch_abort(st);
        snprintf(st->errmsg, sizeof st->errmsg, "%s", msg);
        return e;
    }
    if ((e = depot_store_batch_commit(st)) == DEPOT_OK && shipment_id)
        *shipment_id = sid;
    return e;
}

struct shipped_unit {
    int64_t sku_id, location_id, quantity;
};

/* The stock the shipment took (its "ship" ledger rows), read into *out (malloc'd). */
static depot_err shipped_units(depot_store *st, const char *ref, struct shipped_unit **out,
                               size_t *n)
{
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = store__stmt(st,
        "SELECT sku_id, location_id, -sum(delta) FROM ledger WHERE kind = 'ship' AND ref = ?1"
        " GROUP BY sku_id, location_id HAVING sum(delta) < 0");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, ref, -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            void *p = realloc(*out, cap * sizeof **out);
            if (!p) {
                sqlite3_reset(s);
                return store__fail(st, DEPOT_E_NOMEM, "out of memory");
            }
            *out = p;
        }
        (*out)[*n].sku_id = sqlite3_column_int64(s, 0);
        (*out)[*n].location_id = sqlite3_column_int64(s, 1);
        (*out)[*n].quantity = sqlite3_column_int64(s, 2);
        (*n)++;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? DEPOT_OK : store__dberr(st, "read the shipment's ledger");
}

/* Puts the shipment's goods back on hand; with reserve, reserved for the order again
 * (if that fails -- someone else took the units meanwhile -- they stay available and
 * *reserved is 0). */
static depot_err goods_back(depot_store *st, int64_t order_id, int64_t sid, int reserve,
                            const char *actor, int *reserved)
{
    char ref[48], reason[64];
    struct shipped_unit *u = NULL;
    size_t n = 0;
    *reserved = 0;
    snprintf(ref, sizeof ref, "order:%lld/shipment:%lld", (long long)order_id, (long long)sid);
    snprintf(reason, sizeof reason, "shipment %lld voided", (long long)sid);
    depot_err e = shipped_units(st, ref, &u, &n);
    for (size_t i = 0; i < n && e == DEPOT_OK; i++)
        e = store__ledger_apply(st, u[i].sku_id, u[i].location_id, u[i].quantity, "return",
                                reason, ref, actor, NULL);
    if (e == DEPOT_OK && reserve) {
        if (sqlite3_exec(st->db, "SAVEPOINT void_reserve", NULL, NULL, NULL) != SQLITE_OK)
            e = store__dberr(st, "savepoint");
        else if (store__order_reserve_lines(st, order_id, 0) == DEPOT_OK) {
            sqlite3_exec(st->db, "RELEASE void_reserve", NULL, NULL, NULL);
            *reserved = 1;
        } else {
            sqlite3_exec(st->db, "ROLLBACK TO void_reserve; RELEASE void_reserve", NULL,
                         NULL, NULL);
            store__clear_error(st);
        }
    }
    for (size_t i = 0; i < n && e == DEPOT_OK && !*reserved; i++)
        e = store__stock_changed(st, u[i].sku_id, u[i].location_id);
    free(u);
    return e;
}

/* Withdraws the shipment's fulfillment if the channel has not been told yet; *told says
 * whether it had been (then only the channel's admin can cancel it). */
static depot_err withdraw_fulfillment(depot_store *st, int64_t order_id, int64_t sid,
                                      int *told)
{
    char key[64];
    snprintf(key, sizeof key, "fulfillment:%lld:%lld", (long long)order_id, (long long)sid);
    *told = 0;
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE outbox SET status = CASE status WHEN 'pending' THEN 'superseded'"
        "   WHEN 'dead' THEN 'superseded' ELSE status END, updated_at = ?2"
        " WHERE idempotency_key = ?1 RETURNING status");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, store__now());
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *told = strcmp((const char *)sqlite3_column_text(s, 0), "superseded") != 0;
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DEPOT_OK
                                                 : store__dberr(st, "withdraw fulfillment");
}

static const char *const then_names[] = {"none", "release", "restock"};

/* Within a transaction: depot_shipment_void_finish's work (see shipments.h). */
static depot_err void_in_tx(depot_store *st, int64_t shipment_id, enum depot_void_then then,
                            const char *actor, struct depot_void_result *r)
{
    memset(r, 0, sizeof *r);
    r->then = then;
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE shipments SET status = 'voided', updated_at = ?2 WHERE id = ?1"
        " AND status <> 'voided' RETURNING order_id,"
        " (SELECT status FROM orders WHERE id = order_id)");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, shipment_id);
    sqlite3_bind_int64(s, 2, store__now());
    int rc = sqlite3_step(s);
    char order_status[24] = "";
    if (rc == SQLITE_ROW) {
        r->order_id = sqlite3_column_int64(s, 0);
        snprintf(order_status, sizeof order_status, "%s", sqlite3_column_text(s, 1));
    }
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return store__fail(st, DEPOT_E_STATE, "shipment %lld is unknown or already voided",
                           (long long)shipment_id);
    if (rc != SQLITE_ROW)
        return store__dberr(st, "void shipment");
    depot_err e = withdraw_fulfillment(st, r->order_id, shipment_id, &r->channel_told);
    if (e != DEPOT_OK)
        return e;
    snprintf(r->order_status, sizeof r->order_status, "%s", order_status);
    /* The label is gone at the carrier by now: the shipment is voided in any case; goods
     * go back only from a shipped order (depot_void_request checked it before the call,
     * but the order may have changed since). */
    if (then != DEPOT_VOID_NONE && strcmp(order_status, "shipped") != 0)
        r->then = then = DEPOT_VOID_NONE;
    if (then != DEPOT_VOID_NONE) {
        int reserved = 0;
        if ((e = goods_back(st, r->order_id, shipment_id, then == DEPOT_VOID_RELEASE, actor,
                            &reserved)) != DEPOT_OK)
            return e;
        snprintf(r->order_status, sizeof r->order_status, "%s", reserved ? "reserved" : "open");
        sqlite3_stmt *u = store__stmt(st,
            "UPDATE orders SET status = ?2, updated_at = ?3 WHERE id = ?1");
        sqlite3_stmt *l = store__stmt(st,
            "UPDATE order_lines SET packed_qty = 0 WHERE order_id = ?1");
        if (!u || !l)
            return DEPOT_E_DB;
        sqlite3_bind_int64(u, 1, r->order_id);
        sqlite3_bind_text(u, 2, r->order_status, -1, SQLITE_STATIC);
        sqlite3_bind_int64(u, 3, store__now());
        if ((e = store__step_done(st, u)) != DEPOT_OK)
            return e;
        sqlite3_bind_int64(l, 1, r->order_id);
        if ((e = store__step_done(st, l)) != DEPOT_OK)
            return e;
    }
    char entity[40];
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "then", then_names[then]);
    cJSON_AddStringToObject(d, "order_status", r->order_status);
    cJSON_AddBoolToObject(d, "channel_told", r->channel_told);
    snprintf(entity, sizeof entity, "shipment:%lld", (long long)shipment_id);
    return store__audit_json(st, actor, "shipment.voided", entity, d);
}

/* Checks the user's choice for after a void and opens the transaction of a void step. */
static depot_err begin_void(depot_store *st, enum depot_void_then then)
{
    store__clear_error(st);
    if (then != DEPOT_VOID_NONE && then != DEPOT_VOID_RELEASE && then != DEPOT_VOID_RESTOCK)
        return store__fail(st, DEPOT_E_INVALID, "after a void: none, release or restock");
    return store__begin(st);
}

depot_err depot_shipment_void_finish(depot_store *st, int64_t shipment_id,
                                     enum depot_void_then then, const char *actor,
                                     struct depot_void_result *out)
{
    struct depot_void_result r;
    depot_err e = begin_void(st, then);
    if (e != DEPOT_OK)
        return e;
    e = store__end_tx(st, void_in_tx(st, shipment_id, then, actor, &r));
    if (e == DEPOT_OK && out)
        *out = r;
    return e;
}

depot_err depot_void_request(depot_store *st, int64_t shipment_id, enum depot_void_then then,
                             const char *actor, int64_t *outbox_id)
{
    char key[48], aggregate[48], status[16] = "";
    depot_err e = begin_void(st, then);
    if (e != DEPOT_OK)
        return e;
    sqlite3_stmt *s = store__stmt(st,
        "SELECT sh.status, sh.tracking_number, c.id, o.status FROM shipments sh"
        " JOIN orders o ON o.id = sh.order_id"
        " LEFT JOIN carriers c ON c.name = sh.carrier WHERE sh.id = ?1");
    if (!s)
        return store__end_tx(st, DEPOT_E_DB);
    sqlite3_bind_int64(s, 1, shipment_id);
    int rc = sqlite3_step(s), labelled = 0;
    int64_t carrier_id = 0;
    char tracking[65] = "", order_status[24] = "";
    if (rc == SQLITE_ROW) {
        snprintf(status, sizeof status, "%s", sqlite3_column_text(s, 0));
        snprintf(order_status, sizeof order_status, "%s", sqlite3_column_text(s, 3));
        labelled = sqlite3_column_type(s, 1) != SQLITE_NULL &&
                   sqlite3_column_type(s, 2) != SQLITE_NULL;
        if (labelled)
            snprintf(tracking, sizeof tracking, "%s", sqlite3_column_text(s, 1));
        carrier_id = sqlite3_column_int64(s, 2);
    }
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return store__end_tx(st, store__fail(st, DEPOT_E_NOT_FOUND, "unknown shipment %lld",
                                      (long long)shipment_id));
    if (rc != SQLITE_ROW)
        return store__end_tx(st, store__dberr(st, "read shipment"));
    if (strcmp(status, "voided") == 0 || !labelled)
        return store__end_tx(st, store__fail(st, DEPOT_E_STATE, "shipment %lld %s",
                                      (long long)shipment_id, labelled ? "is already voided"
                                      : "has no carrier label to void"));
    if (then != DEPOT_VOID_NONE && strcmp(order_status, "shipped") != 0)
        return store__end_tx(st, store__fail(st, DEPOT_E_STATE, "order of shipment %lld is %s, not "
                                      "shipped: its goods cannot go back",
                                      (long long)shipment_id, order_status));
    /* A repeated request is the user's latest word: its choice, and due now. */
    snprintf(key, sizeof key, "void:%lld", (long long)shipment_id);
    s = store__stmt(st,
        "UPDATE outbox SET payload = json_set(payload, '$.then', ?2), updated_at = ?3,"
        " next_attempt_at = CASE status WHEN 'inflight' THEN next_attempt_at ELSE ?3 END,"
        " attempts = CASE status WHEN 'dead' THEN 0 ELSE attempts END,"
        " status = CASE status WHEN 'dead' THEN 'pending' ELSE status END"
        " WHERE idempotency_key = ?1 AND status <> 'done' RETURNING id");
    if (!s)
        return store__end_tx(st, DEPOT_E_DB);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, then_names[then], -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, store__now());
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *outbox_id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (rc == SQLITE_ROW)
        return store__end_tx(st, DEPOT_OK);
    if (rc != SQLITE_DONE)
        return store__end_tx(st, store__dberr(st, "read void request"));
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "shipment_id", (double)shipment_id);
    cJSON_AddStringToObject(p, "tracking_number", tracking);
    cJSON_AddStringToObject(p, "then", then_names[then]);
    char *json = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    if (!json)
        return store__end_tx(st, store__fail(st, DEPOT_E_NOMEM, "out of memory"));
    snprintf(aggregate, sizeof aggregate, "shipment:%lld", (long long)shipment_id);
    e = store__outbox_put(st, "carrier", carrier_id, "label.void", aggregate, key, json);
    cJSON_free(json);
    if (e == DEPOT_OK)
        *outbox_id = sqlite3_last_insert_rowid(st->db);
    return store__end_tx(st, e);
}

depot_err depot_void_done(depot_store *st, const struct depot_label_job *job, const char *actor,
                          struct depot_void_result *out)
{
    struct depot_void_result r;
    enum depot_void_then then = DEPOT_VOID_NONE;
    store__clear_error(st);
    depot_void_then_parse(cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(job->payload, "then")), &then);
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    e = void_in_tx(st, job->shipment_id, then, actor, &r);
    sqlite3_stmt *s = e == DEPOT_OK ? store__stmt(st,
        "UPDATE outbox SET status = 'done', delivered_at = ?2, updated_at = ?2,"
        " last_error = NULL WHERE id = ?1") : NULL;
    if (e == DEPOT_OK && !s)
        e = DEPOT_E_DB;
    if (e == DEPOT_OK) {
        sqlite3_bind_int64(s, 1, job->outbox_id);
        sqlite3_bind_int64(s, 2, store__now());
        e = store__step_done(st, s);
    }
    e = store__end_tx(st, e);
    if (e == DEPOT_OK && out)
        *out = r;
    return e;
}

int depot_void_then_parse(const char *s, enum depot_void_then *out)
{
    for (int i = 0; s && i < 3; i++)
        if (strcmp(s, then_names[i]) == 0) {
            *out = (enum depot_void_then)i;
            return 0;
        }
    return -1;
}
