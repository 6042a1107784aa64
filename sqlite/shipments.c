/* Carrier labels of shipments, store side: the durable label request (outbox row,
 * target "carrier"), its lease, and the one transaction that stores the label, queues
 * it to the station printer and closes the request (see shipments.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "carriers.h"
#include "shipments.h"
#include "store_int.h"

#define ERROR_MAX 240

static int valid_format(const char *f)
{
    return f && (strcmp(f, "zpl") == 0 || strcmp(f, "pdf") == 0 || strcmp(f, "png") == 0);
}

static int valid_printer(const char *p)
{
    size_t n = p ? strlen(p) : 0;
    if (n == 0 || n > DEPOT_PRINTER_NAME_MAX)
        return 0;
    return strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static depot_err audit_shipment(depot_store *st, const char *actor, const char *action,
                                int64_t sid, cJSON *detail)
{
    char entity[40];
    snprintf(entity, sizeof entity, "shipment:%lld", (long long)sid);
    return store__audit_json(st, actor, action, entity, detail);
}

/* Within a transaction: the shipment's fulfillment (reserve.c's outbox row, key
 * "fulfillment:<order>:<shipment>"), if it has not gone to the channel yet, waits for the
 * label so the channel learns the carrier's tracking number with it; after
 * DEPOT_LABEL_FULFILLMENT_HOLD_S it goes without one. */
static depot_err hold_fulfillment(depot_store *st, int64_t order_id, int64_t shipment_id)
{
    char key[64];
    snprintf(key, sizeof key, "fulfillment:%lld:%lld", (long long)order_id,
             (long long)shipment_id);
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE outbox SET payload = json_set(payload, '$.awaiting_label', json('true')),"
        " next_attempt_at = max(next_attempt_at, ?2 + ?3), updated_at = ?2"
        " WHERE idempotency_key = ?1 AND topic = 'fulfillment.create' AND status = 'pending'");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, store__now());
    sqlite3_bind_int64(s, 3, DEPOT_LABEL_FULFILLMENT_HOLD_S);
    return store__step_done(st, s);
}

/* Within a transaction: the held fulfillment gets the carrier and tracking number and
 * is due now. One that already went (or was never held) is left alone. */
static depot_err release_fulfillment(depot_store *st, const struct depot_label_job *job,
                                     const char *tracking)
{
    char key[64];
    const cJSON *oid = cJSON_GetObjectItemCaseSensitive(job->payload, "order_id");
    snprintf(key, sizeof key, "fulfillment:%lld:%lld",
             (long long)(cJSON_IsNumber(oid) ? oid->valuedouble : 0),
             (long long)job->shipment_id);
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE outbox SET payload = json_remove(json_set(payload, '$.tracking_number', ?2,"
        "   '$.carrier', (SELECT carrier FROM shipments WHERE id = ?3)), '$.awaiting_label'),"
        " next_attempt_at = ?4, updated_at = ?4"
        " WHERE idempotency_key = ?1 AND topic = 'fulfillment.create' AND status = 'pending'"
        "   AND payload ->> '$.awaiting_label'");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, tracking, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, job->shipment_id);
    sqlite3_bind_int64(s, 4, store__now());
    return store__step_done(st, s);
}

/* Within a transaction: an existing request for the shipment, made due again if dead. */
static depot_err existing_request(depot_store *st, const char *key, int64_t *outbox_id)
{
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE outbox SET status = CASE status WHEN 'dead' THEN 'pending' ELSE status END,"
        " attempts = CASE status WHEN 'dead' THEN 0 ELSE attempts END,"
        " next_attempt_at = CASE status WHEN 'dead' THEN ?2 ELSE next_attempt_at END,"
        " updated_at = ?2 WHERE idempotency_key = ?1 RETURNING id, status");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, store__now());
    int rc = sqlite3_step(s);
    int done = rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(s, 1), "done") == 0;
    if (rc == SQLITE_ROW)
        *outbox_id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return DEPOT_E_NOT_FOUND;
    if (rc != SQLITE_ROW)
        return store__dberr(st, "read label request");
    return done ? store__fail(st, DEPOT_E_STATE, "the shipment's label was already created")
                : DEPOT_OK;
}

depot_err depot_label_request(depot_store *st, int64_t shipment_id,
                              const struct depot_label_in *in, const char *actor,
                              int64_t *outbox_id)
{
    char key[48], aggregate[48], ref[48];
    struct depot_carrier carrier;
    depot_err e;

    store__clear_error(st);
    if (!in->carrier || strlen(in->carrier) > 32)
        return store__fail(st, DEPOT_E_INVALID, "carrier name must be 1..32 characters");
    if (!(in->weight_kg > 0 && in->weight_kg <= 1000))
        return store__fail(st, DEPOT_E_INVALID, "weight must be more than 0 and at most 1000 kg");
    if (!valid_format(in->format))
        return store__fail(st, DEPOT_E_INVALID, "label format must be zpl, pdf or png");
    if (in->printer && !valid_printer(in->printer))
        return store__fail(st, DEPOT_E_INVALID, "printer names are 1..64 of [A-Za-z0-9._-]");
    if (in->printer && strcmp(in->format, "zpl") != 0)
        return store__fail(st, DEPOT_E_INVALID, "label printers take zpl; a %s label is "
                           "printed from GET /api/v1/shipments/{id}/label", in->format);
    if (in->service && !store__valid_code(in->service, 64))
        return store__fail(st, DEPOT_E_INVALID, "service must be 1..64 printable characters");
    if ((e = depot_carrier_find(st, in->carrier, &carrier)) != DEPOT_OK)
        return e;
    if (!carrier.enabled)
        return store__fail(st, DEPOT_E_STATE, "carrier %s is disabled", carrier.name);
    if ((e = store__begin(st)) != DEPOT_OK)
        return e;
    sqlite3_stmt *s = store__stmt(st,
        "SELECT sh.order_id, sh.status, sh.label IS NOT NULL, o.ship_to"
        "  FROM shipments sh JOIN orders o ON o.id = sh.order_id WHERE sh.id = ?1");
    if (!s)
        return store__end_tx(st, DEPOT_E_DB);
    sqlite3_bind_int64(s, 1, shipment_id);
    int rc = sqlite3_step(s);
    int64_t order_id = 0;
    int has_label = 0, voided = 0;
    cJSON *ship_to = NULL;
    if (rc == SQLITE_ROW) {
        order_id = sqlite3_column_int64(s, 0);
        voided = strcmp((const char *)sqlite3_column_text(s, 1), "voided") == 0;
        has_label = sqlite3_column_int(s, 2);
        if (sqlite3_column_type(s, 3) != SQLITE_NULL)
            ship_to = cJSON_Parse((const char *)sqlite3_column_text(s, 3));
    }
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        e = store__fail(st, DEPOT_E_NOT_FOUND, "unknown shipment %lld", (long long)shipment_id);
    else if (rc != SQLITE_ROW)
        e = store__dberr(st, "read shipment");
    else if (voided || has_label)
        e = store__fail(st, DEPOT_E_STATE, "shipment %lld %s", (long long)shipment_id,
                        voided ? "is voided" : "already has a label");
    else if (!cJSON_IsObject(ship_to))
        e = store__fail(st, DEPOT_E_STATE, "order %lld has no ship-to address",
                        (long long)order_id);
    if (e != DEPOT_OK) {
        cJSON_Delete(ship_to);
        return store__end_tx(st, e);
    }
    snprintf(key, sizeof key, "label:%lld", (long long)shipment_id);
    e = existing_request(st, key, outbox_id);
    if (e != DEPOT_E_NOT_FOUND) {
        cJSON_Delete(ship_to);
        return store__end_tx(st, e);
    }
    store__clear_error(st);
    /* Our shipment id is the customer reference: the idempotency key at the carrier. */
    snprintf(ref, sizeof ref, "depot-shipment-%lld", (long long)shipment_id);
    snprintf(aggregate, sizeof aggregate, "shipment:%lld", (long long)shipment_id);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "shipment_id", (double)shipment_id);
    cJSON_AddNumberToObject(p, "order_id", (double)order_id);
    cJSON_AddStringToObject(p, "reference", ref);
    if (in->service)
        cJSON_AddStringToObject(p, "service", in->service);
    cJSON_AddNumberToObject(p, "weight_kg", in->weight_kg);
    cJSON_AddStringToObject(p, "format", in->format);
    if (in->printer)
        cJSON_AddStringToObject(p, "printer", in->printer);
    cJSON_AddItemToObject(p, "ship_to", ship_to);
    char *json = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    if (!json)
        return store__end_tx(st, store__fail(st, DEPOT_E_NOMEM, "out of memory"));
    e = store__outbox_put(st, "carrier", carrier.id, "label.create", aggregate, key, json);
    cJSON_free(json);
    if (e == DEPOT_OK) {
        *outbox_id = sqlite3_last_insert_rowid(st->db);
        s = store__stmt(st, "UPDATE shipments SET carrier = ?2, updated_at = ?3 WHERE id = ?1");
        if (!s)
            return store__end_tx(st, DEPOT_E_DB);
        sqlite3_bind_int64(s, 1, shipment_id);
        sqlite3_bind_text(s, 2, carrier.name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, store__now());
        e = store__step_done(st, s);
    }
    if (e == DEPOT_OK)
        e = hold_fulfillment(st, order_id, shipment_id);
    if (e == DEPOT_OK) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "carrier", carrier.name);
        cJSON_AddStringToObject(d, "format", in->format);
        e = audit_shipment(st, actor, "shipment.label_request", shipment_id, d);
    }
    return store__end_tx(st, e);
}

void depot_label_job_free(struct depot_label_job *j)
{
    cJSON_Delete(j->payload);
    memset(j, 0, sizeof *j);
}

/* Claims a due carrier request of topic (label.create or label.void). */
static depot_err claim(depot_store *st, const char *topic, int64_t outbox_id, int64_t lease_s,
                       struct depot_label_job *job)
{
    memset(job, 0, sizeof *job);
    store__clear_error(st);
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    int64_t now = store__now();
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE outbox SET status = 'inflight', attempts = attempts + 1,"
        " next_attempt_at = ?2 + ?3, updated_at = ?2"
        " WHERE id = (SELECT id FROM outbox WHERE target = 'carrier' AND topic = ?4"
        "   AND status IN ('pending', 'inflight') AND next_attempt_at <= ?2"
        "   AND (?1 = 0 OR id = ?1) ORDER BY id LIMIT 1)"
        " RETURNING id, target_id, attempts, payload");
    if (!s)
        return store__end_tx(st, DEPOT_E_DB);
    sqlite3_bind_int64(s, 1, outbox_id);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_int64(s, 3, lease_s);
    sqlite3_bind_text(s, 4, topic, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        job->outbox_id = sqlite3_column_int64(s, 0);
        job->carrier_id = sqlite3_column_int64(s, 1);
        job->attempts = sqlite3_column_int(s, 2);
        job->payload = cJSON_Parse((const char *)sqlite3_column_text(s, 3));
    }
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        e = store__fail(st, DEPOT_E_NOT_FOUND, "no %s request is due", topic);
    else if (rc != SQLITE_ROW)
        e = store__dberr(st, "claim carrier request");
    else if (!job->payload)
        e = store__fail(st, DEPOT_E_NOMEM, "out of memory");
    else {
        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(job->payload, "shipment_id");
        job->shipment_id = cJSON_IsNumber(sid) ? (int64_t)sid->valuedouble : 0;
    }
    e = store__end_tx(st, e);
    if (e != DEPOT_OK)
        depot_label_job_free(job);
    return e;
}

depot_err depot_label_claim(depot_store *st, int64_t outbox_id, int64_t lease_s,
                            struct depot_label_job *job)
{
    return claim(st, "label.create", outbox_id, lease_s, job);
}

depot_err depot_void_claim(depot_store *st, int64_t outbox_id, int64_t lease_s,
                           struct depot_label_job *job)
{
    return claim(st, "label.void", outbox_id, lease_s, job);
}

depot_err depot_label_store(depot_store *st, const struct depot_label_job *job,
                            const char *tracking, const char *format, const void *label,
                            size_t len, const char *actor, int64_t *print_job_id)
{
    const char *printer = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(job->payload, "printer"));
    int64_t job_id = 0;
    store__clear_error(st);
    if (!store__valid_code(tracking, 64) || !valid_format(format) || !label || len == 0 ||
        len > DEPOT_PRINT_PAYLOAD_MAX)
        return store__fail(st, DEPOT_E_INVALID, "carrier answer: bad tracking number or label");
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    int64_t now = store__now();
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE shipments SET tracking_number = ?2, label_format = ?3, label = ?4,"
        " status = CASE status WHEN 'pending' THEN 'labelled' ELSE status END, updated_at = ?5"
        " WHERE id = ?1 AND label IS NULL AND status <> 'voided'");
    if (!s)
        return store__end_tx(st, DEPOT_E_DB);
    sqlite3_bind_int64(s, 1, job->shipment_id);
    sqlite3_bind_text(s, 2, tracking, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, format, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 4, label, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, now);
    if ((e = store__step_done(st, s)) != DEPOT_OK)
        return store__end_tx(st, e);
    if (sqlite3_changes(st->db) != 1)
        return store__end_tx(st, store__fail(st, DEPOT_E_STATE, "shipment %lld already has a label "
                                      "or is voided", (long long)job->shipment_id));
    if (printer) {
        s = store__stmt(st,
            "INSERT INTO print_jobs (printer, payload, status, created_at, updated_at)"
            " VALUES (?1, ?2, 'queued', ?3, ?3)");
        if (!s)
            return store__end_tx(st, DEPOT_E_DB);
        sqlite3_bind_text(s, 1, printer, -1, SQLITE_STATIC);
        sqlite3_bind_blob(s, 2, label, (int)len, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, now);
        if ((e = store__step_done(st, s)) != DEPOT_OK)
            return store__end_tx(st, e);
        job_id = sqlite3_last_insert_rowid(st->db);
    }
    s = store__stmt(st,
        "UPDATE outbox SET status = 'done', delivered_at = ?2, updated_at = ?2, last_error = NULL"
        " WHERE id = ?1");
    if (!s)
        return store__end_tx(st, DEPOT_E_DB);
    sqlite3_bind_int64(s, 1, job->outbox_id);
    sqlite3_bind_int64(s, 2, now);
    if ((e = store__step_done(st, s)) != DEPOT_OK ||
        (e = release_fulfillment(st, job, tracking)) != DEPOT_OK)
        return store__end_tx(st, e);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "tracking_number", tracking);
    cJSON_AddStringToObject(d, "format", format);
    if (job_id)
        cJSON_AddNumberToObject(d, "print_job", (double)job_id);
    e = store__end_tx(st, audit_shipment(st, actor, "shipment.labelled", job->shipment_id, d));
    if (e == DEPOT_OK && print_job_id)
        *print_job_id = job_id;
    return e;
}

depot_err depot_label_failed(depot_store *st, const struct depot_label_job *job,
                             const char *error, int give_up, int64_t next_attempt_at,
                             int clean)
{
    store__clear_error(st);
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE outbox SET status = ?2, next_attempt_at = ?3, last_error = substr(?4, 1, 240),"
        " updated_at = ?5, payload = CASE WHEN ?6 THEN json_set(payload, '$.clean_failures',"
        "   coalesce(payload ->> '$.clean_failures', 0) + 1) ELSE payload END"
        " WHERE id = ?1 AND status = 'inflight'");
    if (!s)
        return store__end_tx(st, DEPOT_E_DB);
    sqlite3_bind_int64(s, 1, job->outbox_id);
    sqlite3_bind_text(s, 2, give_up ? "dead" : "pending", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, next_attempt_at);
    sqlite3_bind_text(s, 4, error ? error : "unknown", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, store__now());
    sqlite3_bind_int(s, 6, clean);
    return store__end_tx(st, store__step_done(st, s));
}

depot_err depot_label_defer(depot_store *st, const struct depot_label_job *job,
                            int64_t next_attempt_at)
{
    store__clear_error(st);
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE outbox SET status = 'pending', attempts = max(attempts - 1, 0),"
        " next_attempt_at = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'inflight'");
    if (!s)
        return store__end_tx(st, DEPOT_E_DB);
    sqlite3_bind_int64(s, 1, job->outbox_id);
    sqlite3_bind_int64(s, 2, next_attempt_at);
    sqlite3_bind_int64(s, 3, store__now());
    return store__end_tx(st, store__step_done(st, s));
}

depot_err depot_shipment_carrier(depot_store *st, int64_t shipment_id, char carrier[33],
                                 char tracking[65], char status[16])
{
    store__clear_error(st);
    sqlite3_stmt *s = store__stmt(st,
        "SELECT carrier, coalesce(tracking_number, ''), status FROM shipments WHERE id = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, shipment_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        snprintf(carrier, 33, "%s", sqlite3_column_text(s, 0));
        snprintf(tracking, 65, "%s", sqlite3_column_text(s, 1));
        snprintf(status, 16, "%s", sqlite3_column_text(s, 2));
    }
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return store__fail(st, DEPOT_E_NOT_FOUND, "unknown shipment %lld", (long long)shipment_id);
    return rc == SQLITE_ROW ? DEPOT_OK : store__dberr(st, "read shipment");
}

depot_err depot_shipment_mark_voided(depot_store *st, int64_t shipment_id, const char *actor)
{
    return depot_shipment_void_finish(st, shipment_id, DEPOT_VOID_NONE, actor, NULL);
}

depot_err depot_shipments_to_track(depot_store *st, int64_t interval_s, int limit, cJSON **out)
{
    int rc = SQLITE_DONE;
    *out = NULL;
    store__clear_error(st);
    if (limit < 1 || limit > 100)
        return store__fail(st, DEPOT_E_INVALID, "limit must be 1..100");
    sqlite3_stmt *s = store__stmt(st,
        "SELECT id, carrier, tracking_number, tracking_status FROM shipments"
        " WHERE label IS NOT NULL AND status <> 'voided'"
        "   AND (tracking_status IS NULL OR tracking_status <> 'delivered')"
        "   AND coalesce(tracked_at, 0) <= ?1 ORDER BY coalesce(tracked_at, 0), id LIMIT ?2");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, store__now() - interval_s);
    sqlite3_bind_int(s, 2, limit);
    cJSON *doc = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(doc, "items");
    while (items && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(items, o);
        cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(s, 0));
        cJSON_AddStringToObject(o, "carrier", (const char *)sqlite3_column_text(s, 1));
        cJSON_AddStringToObject(o, "tracking_number", (const char *)sqlite3_column_text(s, 2));
        if (sqlite3_column_type(s, 3) == SQLITE_NULL)
            cJSON_AddNullToObject(o, "tracking_status");
        else
            cJSON_AddStringToObject(o, "tracking_status", (const char *)sqlite3_column_text(s, 3));
    }
    return store__list_end(st, s, rc, doc, items, "list shipments to track", out);
}

depot_err depot_shipment_tracked(depot_store *st, int64_t shipment_id, const char *status,
                                 const char *actor, int *changed)
{
    *changed = 0;
    store__clear_error(st);
    if (!store__valid_code(status, 16))
        return store__fail(st, DEPOT_E_INVALID, "tracking status must be 1..16 characters");
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    sqlite3_stmt *q = store__stmt(st, "SELECT tracking_status FROM shipments WHERE id = ?1");
    sqlite3_stmt *u = store__stmt(st,
        "UPDATE shipments SET tracked_at = ?3, tracking_status = ?2,"
        " updated_at = CASE WHEN tracking_status IS ?2 THEN updated_at ELSE ?3 END"
        " WHERE id = ?1");
    if (!q || !u)
        return store__end_tx(st, DEPOT_E_DB);
    sqlite3_bind_int64(q, 1, shipment_id);
    int rc = sqlite3_step(q);
    const unsigned char *old = rc == SQLITE_ROW ? sqlite3_column_text(q, 0) : NULL;
    int was_changed = rc == SQLITE_ROW && (!old || strcmp((const char *)old, status) != 0);
    sqlite3_reset(q);
    if (rc == SQLITE_DONE)
        return store__end_tx(st, store__fail(st, DEPOT_E_NOT_FOUND, "unknown shipment %lld",
                                      (long long)shipment_id));
    if (rc != SQLITE_ROW)
        return store__end_tx(st, store__dberr(st, "read shipment"));
    sqlite3_bind_int64(u, 1, shipment_id);
    sqlite3_bind_text(u, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(u, 3, store__now());
    if ((e = store__step_done(st, u)) != DEPOT_OK)
        return store__end_tx(st, e);
    if (was_changed) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "tracking_status", status);
        e = audit_shipment(st, actor, "shipment.tracking", shipment_id, d);
    }
    e = store__end_tx(st, e);
    if (e == DEPOT_OK)
        *changed = was_changed;
    return e;
}

depot_err depot_shipment_label_get(depot_store *st, int64_t shipment_id, char format[8],
                                   unsigned char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    store__clear_error(st);
    sqlite3_stmt *s = store__stmt(st,
        "SELECT label_format, label FROM shipments WHERE id = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, shipment_id);
    int rc = sqlite3_step(s);
    depot_err e = DEPOT_OK;
    if (rc == SQLITE_DONE)
        e = store__fail(st, DEPOT_E_NOT_FOUND, "unknown shipment %lld", (long long)shipment_id);
    else if (rc != SQLITE_ROW)
        e = store__dberr(st, "read label");
    else if (sqlite3_column_type(s, 1) == SQLITE_NULL || sqlite3_column_type(s, 0) == SQLITE_NULL)
        e = store__fail(st, DEPOT_E_NOT_FOUND, "shipment %lld has no carrier label (yet)",
                        (long long)shipment_id);
    else {
        int n = sqlite3_column_bytes(s, 1);
        snprintf(format, 8, "%s", (const char *)sqlite3_column_text(s, 0));
        if (!(*data = malloc(n > 0 ? (size_t)n : 1)))
            e = store__fail(st, DEPOT_E_NOMEM, "out of memory");
        else {
            memcpy(*data, sqlite3_column_blob(s, 1), (size_t)n);
            *len = (size_t)n;
        }
    }
    sqlite3_reset(s);
    return e;
}
