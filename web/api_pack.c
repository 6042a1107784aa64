/* The packing station's endpoints: the order behind a scanned code, PACK (scanned units
 * checked against the order server-side, then shipment, label on the station's printer,
 * order shipped with its fulfillment in the outbox), reprint, and void (supervisor). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "api_carriers.h"
#include "api_pack.h"
#include "carrier_worker.h"
#include "carriers.h"
#include "devices.h"
#include "pack.h"
#include "pack_label.h"
#include "printers.h"
#include "shipments.h"

#define STATION_MAX 64
#define BOX_MAX 32
#define WEIGHT_MAX_G 1000000

static void order_for_code(struct web_request *req, struct web_response *res)
{
    depot_store *st = req->srv->st;
    int64_t id = 0;
    cJSON *doc = NULL;
    depot_err e = depot_pack_order_find(st, req->params[0], &id);
    if (e == DEPOT_OK)
        e = depot_pack_order_json(st, id, &doc);
    web_api_view(res, st, e, doc, NULL);
}

/* GET /api/v1/orders/{id}/events: the order's history from the audit log. */
static void order_events(struct web_request *req, struct web_response *res)
{
    int64_t id;
    cJSON *doc = NULL;
    if (web_param_id(req, res, 0, &id) != 0)
        return;
    depot_err e = depot_pack_order_events_json(req->srv->st, id, 100, &doc);
    web_api_view(res, req->srv->st, e, doc, NULL);
}

/* Reads {"SKU": n, ...} into counts (at most max entries). Returns the number of
 * entries, or -1 with the 400 in res. */
static int scanned_counts(const cJSON *body, struct depot_pack_count *counts, int max,
                          struct web_response *res)
{
    const cJSON *scanned = cJSON_GetObjectItemCaseSensitive(body, "scanned");
    const cJSON *m;
    int n = 0;
    if (!cJSON_IsObject(scanned)) {
        web_respond_error(res, 400, "invalid_parameter",
                          "'scanned' must be an object of SKU: units");
        return -1;
    }
    cJSON_ArrayForEach(m, scanned) {
        if (n == max || !cJSON_IsNumber(m) || m->valuedouble < 0 ||
            m->valuedouble > 1000000 || m->valuedouble != (double)(int64_t)m->valuedouble) {
            web_respond_error(res, 400, "invalid_parameter",
                              "'scanned' holds at most %d SKUs, each a count 0..1000000",
                              max);
            return -1;
        }
        counts[n].sku = m->string;
        counts[n].quantity = (int64_t)m->valuedouble;
        n++;
    }
    return n;
}

struct pack_args {
    const char *station, *printer, *box;
    int64_t weight_g;
    char printer_buf[DEPOT_PRINTER_NAME_MAX + 1];
};

/* The print queue's printer name rule, checked before anything ships. */
static int printer_name_ok(const char *s, struct web_response *res)
{
    if (depot_printer_name_valid(s))
        return 0;
    web_respond_error(res, 400, "invalid_parameter",
                      "'printer' must be 1..%d of A-Z a-z 0-9 . _ -", DEPOT_PRINTER_NAME_MAX);
    return -1;
}

/* The printer named in the body, else the station's (a->printer_buf holds it). */
static int station_printer(struct web_request *req, struct web_response *res,
                           struct pack_args *a)
{
    cJSON *list = NULL, *s;
    if (a->printer)
        return printer_name_ok(a->printer, res);
    if (!a->station) {
        web_respond_error(res, 400, "invalid_parameter", "name a 'station' or a 'printer'");
        return -1;
    }
    depot_err e = depot_station_list_json(req->srv->st, &list);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, req->srv->st, e);
        return -1;
    }
    cJSON_ArrayForEach(s, list) {
        const char *name = web_json_string(s, "name"), *printer = web_json_string(s, "printer");
        if (name && printer && strcmp(name, a->station) == 0) {
            snprintf(a->printer_buf, sizeof a->printer_buf, "%s", printer);
            a->printer = a->printer_buf;
        }
    }
    cJSON_Delete(list);
    if (a->printer)
        return 0;
    web_respond_error(res, 400, "no_printer", "station '%s' has no label printer; name one",
                      a->station);
    return -1;
}

static int pack_args(struct web_request *req, const cJSON *body, struct web_response *res,
                     const char *const *fields, struct pack_args *a)
{
    if (web_api_only(body, fields, res) != 0 ||
        web_api_string(body, "station", 0, STATION_MAX, res, &a->station) != 0 ||
        web_api_string(body, "printer", 0, DEPOT_PRINTER_NAME_MAX, res, &a->printer) != 0 ||
        web_api_string(body, "box", 0, BOX_MAX, res, &a->box) != 0 ||
        web_api_int(body, "weight_g", 0, 1, WEIGHT_MAX_G, 0, res, &a->weight_g) != 0)
        return -1;
    return station_printer(req, res, a);
}

/* Builds the shipment's label and queues it on printer; *job = 0 when it could not be
 * queued, with the reason in err. */
static void print_label(struct web_request *req, const cJSON *order, int64_t shipment_id,
                        const struct pack_args *a, int64_t *job, char *err, size_t errlen)
{
    struct depot_zpl_buf zpl = {0};
    struct depot_printer_row row;
    *job = 0;
    /* A printer not configured yet gets the common 203 dpi; its jobs wait for it. */
    int dpi = depot_printer_get(req->srv->st, a->printer, &row) == DEPOT_OK ? row.dpi : 203;
    if (pack_label_build(&zpl, order, shipment_id, dpi, err, errlen) != 0)
        return;
    depot_err e = depot_print_enqueue(req->srv->st, a->printer, zpl.data, zpl.len,
                                      req->auth.actor, job);
    if (e != DEPOT_OK)
        snprintf(err, errlen, "%s", depot_store_errmsg(req->srv->st));
    depot_zpl_buf_free(&zpl);
}

/* Audits what the packer did beyond the shipment itself: station, weight, box, label. */
static void audit_pack(struct web_request *req, int64_t order_id, int64_t shipment_id,
                       const struct pack_args *a, int64_t job)
{
    char entity[48];
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "shipment_id", (double)shipment_id);
    cJSON_AddStringToObject(d, "station", a->station ? a->station : "");
    cJSON_AddStringToObject(d, "printer", a->printer);
    if (a->weight_g)
        cJSON_AddNumberToObject(d, "weight_g", (double)a->weight_g);
    if (a->box)
        cJSON_AddStringToObject(d, "box", a->box);
    cJSON_AddNumberToObject(d, "print_job", (double)job);
    char *detail = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    snprintf(entity, sizeof entity, "order:%lld", (long long)order_id);
    if (detail)
        depot_audit_append(req->srv->st, req->auth.actor, "order.pack", entity, detail);
    cJSON_free(detail);
}

/* The answer after a shipment: the order as it is now, the shipment, the print job (or
 * why there is none), and an "order" event. */
static void shipped(struct web_request *req, struct web_response *res, int64_t order_id,
                    int64_t shipment_id, int64_t job, const char *print_error,
                    int64_t label_request)
{
    cJSON *doc = NULL;
    depot_err e = depot_pack_order_json(req->srv->st, order_id, &doc);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, req->srv->st, e);
        return;
    }
    cJSON *event = cJSON_CreateObject();
    cJSON_AddNumberToObject(event, "id", (double)order_id);
    cJSON_AddStringToObject(event, "status", "shipped");
    cJSON_AddNumberToObject(event, "shipment_id", (double)shipment_id);
    web_events_publish(req->srv, "order", event);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "order", doc);
    cJSON_AddNumberToObject(out, "shipment_id", (double)shipment_id);
    if (job)
        cJSON_AddNumberToObject(out, "print_job", (double)job);
    else
        cJSON_AddNullToObject(out, "print_job");
    if (print_error)
        cJSON_AddStringToObject(out, "print_error", print_error);
    if (label_request) /* the carrier's label comes from the carrier worker */
        cJSON_AddNumberToObject(out, "label_request", (double)label_request);
    web_respond_json(res, 201, out);
}

/* Rationale: the scanned counts are checked here, not trusted from the page; the order
 * ships in one store transaction (stock, shipment, outbox) before the label is queued,
 * so a label can never exist for an order that did not ship. If queueing the label
 * fails the order has still shipped: the answer says so and Reprint recovers. */
static void order_pack(struct web_request *req, struct web_response *res)
{
    depot_store *st = req->srv->st;
    struct depot_pack_count counts[256];
    struct pack_args a = {0};
    int64_t id, sid = 0, job = 0, label_request = 0;
    cJSON *order = NULL;
    char print_err[200] = "";
    if (web_param_id(req, res, 0, &id) != 0)
        return;
    cJSON *body = web_body_json(req, res);
    if (!body)
        return;
    static const char *const fields[] = {"scanned", "station", "printer", "weight_g", "box",
                                         "carrier", NULL};
    const char *carrier = NULL;
    int n = pack_args(req, body, res, fields, &a) == 0 &&
                    web_api_string(body, "carrier", 0, 32, res, &carrier) == 0
                ? scanned_counts(body, counts, (int)(sizeof counts / sizeof counts[0]), res)
                : -1;
    if (carrier && strcmp(carrier, "manual") == 0)
        carrier = NULL;
    if (n < 0)
        goto out;
    depot_err e = depot_pack_verify(st, id, counts, (size_t)n);
    if (e == DEPOT_E_INVALID) {
        web_respond_error(res, 409, "pack_mismatch", "%s", depot_store_errmsg(st));
        goto out;
    }
    if (e == DEPOT_OK && (e = depot_pack_order_json(st, id, &order)) == DEPOT_OK &&
        web_json_string(order, "status") && strcmp(web_json_string(order, "status"), "open") == 0)
        e = depot_order_reserve(st, id, 0, req->auth.actor);
    const struct depot_shipment_in ship = {.carrier = "manual"};
    if (e == DEPOT_OK && carrier) /* with the carrier's label, worked by the carrier worker */
        e = api_carriers_pack_ship(st, id, carrier, a.printer, a.weight_g, req->auth.actor,
                                   &sid, &label_request);
    else if (e == DEPOT_OK)
        e = depot_order_ship(st, id, &ship, req->auth.actor, &sid);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, st, e);
        goto out;
    }
    if (!label_request)
        print_label(req, order, sid, &a, &job, print_err, sizeof print_err);
    audit_pack(req, id, sid, &a, job);
    shipped(req, res, id, sid, job, job || label_request ? NULL : print_err, label_request);
out:
    cJSON_Delete(order);
    cJSON_Delete(body);
}

/* Queues the carrier's stored label of shipment sid again on printer; *job = 0 with the
 * error answered in res when there is none (yet) or it is not ZPL. */
static void reprint_carrier_label(struct web_request *req, struct web_response *res,
                                  int64_t sid, const char *carrier, const char *printer,
                                  int64_t *job)
{
    char format[8];
    unsigned char *data = NULL;
    size_t len = 0;
    *job = 0;
    depot_err e = depot_shipment_label_get(req->srv->st, sid, format, &data, &len);
    if (e == DEPOT_E_NOT_FOUND) {
        web_respond_error(res, 409, "label_pending", "%s's label for shipment %lld has not "
                          "arrived yet; it prints by itself when it does", carrier,
                          (long long)sid);
        return;
    }
    if (e == DEPOT_OK && strcmp(format, "zpl") != 0)
        web_respond_error(res, 409, "not_zpl", "shipment %lld's label is %s, not ZPL: get it "
                          "from GET /api/v1/shipments/%lld/label", (long long)sid, format,
                          (long long)sid);
    else if (e == DEPOT_OK)
        e = depot_print_enqueue(req->srv->st, printer, data, len, req->auth.actor, job);
    if (e != DEPOT_OK)
        web_respond_store_error(res, req->srv->st, e);
    free(data);
}

static void shipment_reprint(struct web_request *req, struct web_response *res)
{
    static const char *const fields[] = {"printer", "station", NULL};
    depot_store *st = req->srv->st;
    struct pack_args a = {0};
    int64_t sid, order_id, job = 0;
    char status[16], err[200] = "";
    cJSON *order = NULL;
    if (web_param_id(req, res, 0, &sid) != 0)
        return;
    cJSON *body = web_body_json(req, res);
    if (!body)
        return;
    if (pack_args(req, body, res, fields, &a) != 0)
        goto out;
    char carrier[33], tracking[65];
    depot_err e = depot_pack_shipment_get(st, sid, &order_id, status);
    if (e == DEPOT_OK && strcmp(status, "voided") == 0) {
        web_respond_error(res, 409, "invalid_state", "shipment %lld is voided",
                          (long long)sid);
        goto out;
    }
    if (e == DEPOT_OK)
        e = depot_shipment_carrier(st, sid, carrier, tracking, status);
    if (e == DEPOT_OK && strcmp(carrier, "manual") != 0) {
        /* A carrier's shipment: its own label again, never our address label. */
        reprint_carrier_label(req, res, sid, carrier, a.printer, &job);
        if (!job)
            goto out;
    } else {
        if (e == DEPOT_OK)
            e = depot_pack_order_json(st, order_id, &order);
        if (e != DEPOT_OK) {
            web_respond_store_error(res, st, e);
            goto out;
        }
        print_label(req, order, sid, &a, &job, err, sizeof err);
        if (!job) {
            web_respond_error(res, 400, "print_failed", "%s", err);
            goto out;
        }
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "shipment_id", (double)sid);
    cJSON_AddNumberToObject(doc, "print_job", (double)job);
    web_respond_json(res, 201, doc);
out:
    cJSON_Delete(order);
    cJSON_Delete(body);
}

/* Voids a shipment's label (supervisor), optionally {"then":"none"|"release"|"restock"}
 * for its goods (depot_shipment_void_finish: "release" puts the order back to be packed
 * again). Our own "manual" labels are voided here at once; a carrier's label has to be
 * voided with the carrier first (POST /api/v1/shipments/{id}/void-label), so it is
 * refused rather than marked voided behind the carrier's back. */
static void shipment_void(struct web_request *req, struct web_response *res)
{
    static const char *const fields[] = {"then", NULL};
    depot_store *st = req->srv->st;
    enum depot_void_then then = DEPOT_VOID_NONE;
    struct depot_void_result done = {0};
    int64_t sid;
    char carrier[33], tracking[65], status[16];
    cJSON *body = NULL, *order = NULL;
    if (web_param_id(req, res, 0, &sid) != 0)
        return;
    if (req->body_len > 0) { /* the body is optional */
        const char *then_in = NULL;
        if (!(body = web_body_json(req, res)) || web_api_only(body, fields, res) != 0 ||
            web_api_string(body, "then", 0, 16, res, &then_in) != 0)
            goto out;
        if (then_in && depot_void_then_parse(then_in, &then) != 0) {
            web_respond_error(res, 400, "invalid_parameter",
                              "'then' must be none, release or restock");
            goto out;
        }
    }
    depot_err e = depot_shipment_carrier(st, sid, carrier, tracking, status);
    if (e == DEPOT_OK && strcmp(status, "voided") == 0) {
        web_respond_error(res, 409, "invalid_state", "shipment %lld is already voided",
                          (long long)sid);
        goto out;
    }
    if (e == DEPOT_OK && strcmp(carrier, "manual") != 0) {
        web_respond_error(res, 409, "carrier_label", "shipment %lld has a %s label: void it "
                          "with the carrier (POST /api/v1/shipments/%lld/void-label)",
                          (long long)sid, carrier, (long long)sid);
        goto out;
    }
    if (e == DEPOT_OK)
        e = depot_shipment_void_finish(st, sid, then, req->auth.actor, &done);
    if (e == DEPOT_OK)
        e = depot_pack_order_json(st, done.order_id, &order);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, st, e);
        goto out;
    }
    static const char *const then_names[] = {"none", "release", "restock"};
    cJSON *event = cJSON_CreateObject();
    cJSON_AddNumberToObject(event, "id", (double)done.order_id);
    cJSON_AddStringToObject(event, "status", done.order_status);
    cJSON_AddNumberToObject(event, "shipment_id", (double)sid);
    cJSON_AddStringToObject(event, "shipment_status", "voided");
    web_events_publish(req->srv, "order", event);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "shipment_id", (double)sid);
    cJSON_AddStringToObject(doc, "status", "voided");
    cJSON_AddStringToObject(doc, "then", then_names[done.then]);
    cJSON_AddBoolToObject(doc, "channel_told", done.channel_told);
    cJSON_AddItemToObject(doc, "order", order);
    web_respond_json(res, 200, doc);
out:
    cJSON_Delete(body);
}

/* GET /api/v1/pack/carriers: the enabled carrier accounts a packer may ship with and
 * whether each is reachable now (its circuit breaker) -- names and states only. */
static void pack_carriers(struct web_request *req, struct web_response *res)
{
    cJSON *all = NULL, *it, *live;
    depot_err e = depot_carrier_list_json(req->srv->st, &all);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, req->srv->st, e);
        return;
    }
    cJSON *status = depot_carrier_status_json();
    cJSON *doc = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(doc, "items");
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(all, "items")) {
        if (!items || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "enabled")))
            continue;
        double id = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "id"));
        const cJSON *mine = NULL;
        cJSON_ArrayForEach(live, cJSON_GetObjectItemCaseSensitive(status, "carriers"))
            if (cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(live, "id")) == id)
                mine = live;
        const char *message = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(mine, "message"));
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(items, o);
        cJSON_AddStringToObject(o, "name", web_json_string(it, "name"));
        cJSON_AddStringToObject(o, "kind", web_json_string(it, "kind"));
        cJSON_AddBoolToObject(o, "available",
                              !mine || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(mine,
                                                                                    "available")));
        if (message)
            cJSON_AddStringToObject(o, "message", message);
        else
            cJSON_AddNullToObject(o, "message");
    }
    cJSON_Delete(status);
    cJSON_Delete(all);
    if (!items) {
        cJSON_Delete(doc);
        web_respond_error(res, 500, "out_of_memory", "out of memory");
        return;
    }
    web_respond_json(res, 200, doc);
}

const struct web_route web_routes_pack[] = {
    {WEB_GET, "/api/v1/pack/carriers", WEB_ROLE_PACKER, 0, pack_carriers, "pack_carriers"},
    {WEB_GET, "/api/v1/pack/orders/{code}", WEB_ROLE_PACKER, 0, order_for_code,
     "pack_order"},
    {WEB_POST, "/api/v1/orders/{id}/pack", WEB_ROLE_PACKER, 0, order_pack, "orders_pack"},
    {WEB_GET, "/api/v1/orders/{id}/events", WEB_ROLE_SUPERVISOR, 0, order_events,
     "orders_events"},
    {WEB_POST, "/api/v1/shipments/{id}/reprint", WEB_ROLE_PACKER, 0, shipment_reprint,
     "shipments_reprint"},
    {WEB_POST, "/api/v1/shipments/{id}/void", WEB_ROLE_SUPERVISOR, 0, shipment_void,
     "shipments_void"},
    {0},
};
