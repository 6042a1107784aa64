/* Carrier endpoints: the carrier accounts with their availability (the carrier worker's
 * circuit breakers: "Service temporarily unavailable" while one is down), and asking
 * for a shipment's label -- committed as a durable request the carrier worker works, so
 * the loop never waits on a carrier and a carrier outage never blocks packing; and the
 * packing station's ship-with-a-carrier-label step (api_carriers.h); a stored label for
 * paper printers; and the durable void request (void at the carrier, then release or
 * restock). */
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "api_carriers.h"
#include "carrier_worker.h"
#include "carriers.h"
#include "oauth.h"
#include "shipments.h"

static void carrier_list(struct web_request *req, struct web_response *res)
{
    cJSON *doc = NULL, *it, *st_it;
    depot_err e = depot_carrier_list_json(req->srv->st, &doc);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, req->srv->st, e);
        return;
    }
    cJSON *status = depot_carrier_status_json();
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(doc, "items")) {
        double id = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "id"));
        cJSON *mine = NULL;
        cJSON_ArrayForEach(st_it, cJSON_GetObjectItemCaseSensitive(status, "carriers"))
            if (cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(st_it, "id")) == id)
                mine = st_it;
        cJSON *avail = cJSON_GetObjectItemCaseSensitive(mine, "available");
        cJSON_AddBoolToObject(it, "available", !avail || cJSON_IsTrue(avail));
        cJSON_AddItemToObject(it, "breaker", mine ? cJSON_Duplicate(mine, 1) : cJSON_CreateNull());
        cJSON *msg = cJSON_GetObjectItemCaseSensitive(mine, "message");
        if (cJSON_IsString(msg))
            cJSON_AddStringToObject(it, "message", msg->valuestring);
        else
            cJSON_AddNullToObject(it, "message");
    }
    cJSON_Delete(status);
    web_respond_json(res, 200, doc);
}

static void shipment_label(struct web_request *req, struct web_response *res)
{
    int64_t sid, outbox_id = 0;
    if (web_param_id(req, res, 0, &sid) != 0)
        return;
    cJSON *body = web_body_json(req, res);
    if (!body)
        return;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(body, "weight_kg");
    struct depot_label_in in = {
        .carrier = web_json_string(body, "carrier"),
        .service = web_json_string(body, "service"),
        .weight_kg = cJSON_IsNumber(w) ? w->valuedouble : 0,
        .format = web_json_string(body, "format") ? web_json_string(body, "format") : "zpl",
        .printer = web_json_string(body, "printer"),
    };
    if (!in.carrier || !cJSON_IsNumber(w)) {
        web_respond_error(res, 400, "invalid_parameter", "give carrier and weight_kg");
        cJSON_Delete(body);
        return;
    }
    depot_err e = depot_label_request(req->srv->st, sid, &in, req->auth.actor, &outbox_id);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, req->srv->st, e);
    } else {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddNumberToObject(doc, "shipment_id", (double)sid);
        cJSON_AddNumberToObject(doc, "request_id", (double)outbox_id);
        cJSON_AddStringToObject(doc, "status", "queued");
        web_respond_json(res, 202, doc);
    }
    cJSON_Delete(body);
}

/* Asks for a carrier label to be voided, then the goods released or restocked:
 * committed as a durable request the carrier worker works (the loop never waits on the
 * carrier); the outcome arrives as a "shipment" event. */
static void shipment_void_label(struct web_request *req, struct web_response *res)
{
    static const char *const fields[] = {"then", NULL};
    enum depot_void_then then = DEPOT_VOID_NONE;
    int64_t sid, outbox_id = 0;
    if (web_param_id(req, res, 0, &sid) != 0)
        return;
    cJSON *body = web_body_json(req, res);
    if (!body)
        return;
    const char *then_in = web_json_string(body, "then");
    if (web_api_only(body, fields, res) != 0)
        goto out;
    if (then_in && depot_void_then_parse(then_in, &then) != 0) {
        web_respond_error(res, 400, "invalid_parameter", "then is none, release or restock");
        goto out;
    }
    depot_err e = depot_void_request(req->srv->st, sid, then, req->auth.actor, &outbox_id);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, req->srv->st, e);
        goto out;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "shipment_id", (double)sid);
    cJSON_AddNumberToObject(doc, "request_id", (double)outbox_id);
    cJSON_AddStringToObject(doc, "status", "queued");
    web_respond_json(res, 202, doc);
out:
    cJSON_Delete(body);
}

/* The stored label, for printers that are not on the print queue (PDF/PNG on paper). */
static void shipment_label_get(struct web_request *req, struct web_response *res)
{
    int64_t sid;
    char format[8];
    unsigned char *data = NULL;
    size_t len = 0;
    if (web_param_id(req, res, 0, &sid) != 0)
        return;
    depot_err e = depot_shipment_label_get(req->srv->st, sid, format, &data, &len);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, req->srv->st, e);
        return;
    }
    /* UPS sends its raster label as GIF. */
    const char *type = len >= 4 && memcmp(data, "GIF8", 4) == 0 ? "image/gif"
                       : strcmp(format, "pdf") == 0              ? "application/pdf"
                       : strcmp(format, "png") == 0              ? "image/png"
                                                                 : "application/zpl";
    web_respond_raw(res, 200, type, data, len);
    free(data);
}

depot_err api_carriers_pack_ship(depot_store *st, int64_t order_id, const char *carrier,
                                 const char *printer, int64_t weight_g, const char *actor,
                                 int64_t *shipment_id, int64_t *label_request)
{
    /* A missing weight (0) is refused by depot_label_request. Station printers are label
     * printers: ZPL (PDF/PNG labels are for paper, via POST .../label). */
    const struct depot_label_in in = {.carrier = carrier, .weight_kg = (double)weight_g / 1000,
                                      .format = "zpl", .printer = printer};
    return depot_order_ship_labelled(st, order_id, &in, actor, shipment_id, label_request);
}

const struct web_route web_routes_carriers[] = {
    {WEB_GET, "/api/v1/carriers", WEB_ROLE_SUPERVISOR, 0, carrier_list, "carriers_list"},
    {WEB_POST, "/api/v1/shipments/{id}/label", WEB_ROLE_PACKER, 0, shipment_label,
     "shipments_label"},
    {WEB_GET, "/api/v1/shipments/{id}/label", WEB_ROLE_PACKER, 0, shipment_label_get,
     "shipments_label_get"},
    {WEB_POST, "/api/v1/shipments/{id}/void-label", WEB_ROLE_SUPERVISOR, 0,
     shipment_void_label, "shipments_void_label"},
    {0},
};
