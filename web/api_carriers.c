/* Carrier endpoints: the carrier accounts with their availability (the carrier worker's
 * circuit breakers: "Service temporarily unavailable" while one is down), and asking
 * for a shipment's label -- committed as a durable request the carrier worker works, so
 * the loop never waits on a carrier and a carrier outage never blocks packing. */
#include <stdlib.h>
#include <string.h>
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

const struct web_route web_routes_carriers[] = {
    {WEB_GET, "/api/v1/carriers", WEB_ROLE_SUPERVISOR, 0, carrier_list, "carriers_list"},
    {WEB_POST, "/api/v1/shipments/{id}/label", WEB_ROLE_PACKER, 0, shipment_label,
     "shipments_label"},
    {0},
};
