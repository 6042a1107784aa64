/* POST /api/v1/orders/{id}/returns: a shipped order's units scanned back in at the back
 * office, each with its disposition, booked all or nothing (sqlite/returns_receive.c);
 * answered with the returns rows and the order as it is now, and an "order" event. */
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "api_returns.h"
#include "pack.h"
#include "returns_receive.h"

/* Reads {"units":[{"sku","disposition"}, ...]} into a malloc'd array (*n entries), or
 * NULL with the 400 in res. Strings point into body. */
static struct depot_return_unit *read_units(const cJSON *body, size_t *n,
                                            struct web_response *res)
{
    static const char *const fields[] = {"units", NULL};
    static const char *const unit_fields[] = {"sku", "disposition", NULL};
    const cJSON *units = cJSON_GetObjectItemCaseSensitive(body, "units"), *u;
    if (web_api_only(body, fields, res) != 0)
        return NULL;
    int count = cJSON_GetArraySize(units);
    if (!cJSON_IsArray(units) || count < 1 || count > DEPOT_RETURN_UNITS_MAX) {
        web_respond_error(res, 400, "invalid_parameter",
                          "'units' must be an array of 1..%d {\"sku\",\"disposition\"}",
                          DEPOT_RETURN_UNITS_MAX);
        return NULL;
    }
    struct depot_return_unit *out = calloc((size_t)count, sizeof *out);
    if (!out) {
        web_respond_error(res, 500, "out_of_memory", "out of memory");
        return NULL;
    }
    size_t i = 0;
    cJSON_ArrayForEach(u, units) {
        const char *disposition = NULL;
        if (!cJSON_IsObject(u) || web_api_only(u, unit_fields, res) != 0 ||
            web_api_string(u, "sku", 1, 64, res, &out[i].sku) != 0 ||
            web_api_string(u, "disposition", 1, 16, res, &disposition) != 0) {
            if (!cJSON_IsObject(u))
                web_respond_error(res, 400, "invalid_parameter", "unit %zu is not an object",
                                  i + 1);
            free(out);
            return NULL;
        }
        if (depot_return_disposition_parse(disposition, &out[i].disposition) != 0) {
            web_respond_error(res, 400, "invalid_parameter", "unit %zu: 'disposition' must "
                              "be sellable, damaged or unsellable", i + 1);
            free(out);
            return NULL;
        }
        i++;
    }
    *n = i;
    return out;
}

static void order_returns(struct web_request *req, struct web_response *res)
{
    depot_store *st = req->srv->st;
    int64_t id;
    size_t n = 0;
    cJSON *doc = NULL, *order = NULL;
    if (web_param_id(req, res, 0, &id) != 0)
        return;
    cJSON *body = web_body_json(req, res);
    if (!body)
        return;
    struct depot_return_unit *units = read_units(body, &n, res);
    if (!units)
        goto out;
    depot_err e = depot_return_receive(st, id, units, n, req->auth.actor, &doc);
    if (e == DEPOT_OK)
        e = depot_pack_order_json(st, id, &order);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, st, e);
        goto out;
    }
    cJSON *event = cJSON_CreateObject();
    cJSON_AddNumberToObject(event, "id", (double)id);
    cJSON_AddStringToObject(event, "status", web_json_string(order, "status"));
    cJSON_AddNumberToObject(event, "units_returned", (double)n);
    web_events_publish(req->srv, "order", event);
    cJSON_AddItemToObject(doc, "order", order);
    web_respond_json(res, 201, doc);
    doc = NULL;
out:
    cJSON_Delete(doc);
    free(units);
    cJSON_Delete(body);
}

const struct web_route web_routes_returns[] = {
    {WEB_POST, "/api/v1/orders/{id}/returns", WEB_ROLE_SUPERVISOR, 0, order_returns,
     "orders_returns"},
    {0},
};
