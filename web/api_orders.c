/* The order endpoints: list with filters, one order with its lines and reservations,
 * and the reserve, release and cancel actions. */
#include <stdio.h>
#include "api.h"
#include "log.h"

#define STATUS_MAX 32
#define TTL_MAX (366 * 24 * 3600) /* a reservation may be held for up to a year */

static void order_list(struct web_request *req, struct web_response *res)
{
    char sbuf[WEB_API_QUERY_MAX];
    const char *status;
    int64_t channel, before, limit;
    cJSON *doc = NULL;
    if (web_api_query(req, res, "status", STATUS_MAX, sbuf, &status) != 0 ||
        web_query_int(req, res, "channel", 0, INT64_MAX, -1, &channel) != 0 ||
        web_api_page(req, res, "before", &before, &limit) != 0)
        return;
    depot_err e = depot_order_page_json(req->srv->st, status && *status ? status : NULL,
                                        channel, before, (int)limit, &doc);
    web_api_view(res, req->srv->st, e, doc, "status");
}

static void order_show(struct web_request *req, struct web_response *res)
{
    int64_t id;
    cJSON *doc = NULL;
    if (web_param_id(req, res, 0, &id) != 0)
        return;
    depot_err e = depot_order_show_json(req->srv->st, id, &doc);
    web_api_view(res, req->srv->st, e, doc, NULL);
}

/* Each action is a line of the order's story in the log (journald: ORDER_ID=, REQUEST_ID=),
 * whether it worked or not. */
static void log_action(struct web_request *req, int64_t id, const char *action, depot_err e)
{
    char order_id[24];
    snprintf(order_id, sizeof order_id, "%lld", (long long)id);
    depot_log_kv(DEPOT_LOG_INFO, "orders",
                 DEPOT_KV({"order_id", order_id}, {"request_id", req->request_id},
                          {"actor", req->auth.actor}),
                 "order %s: %s %s%s%s", order_id, action, e == DEPOT_OK ? "done" : "refused",
                 e == DEPOT_OK ? "" : ": ", e == DEPOT_OK ? "" : depot_store_errmsg(req->srv->st));
}

/* After an action: the order as it is now, and an "order" event {id, status}. */
static void changed(struct web_request *req, struct web_response *res, int64_t id,
                    const char *action, depot_err e)
{
    cJSON *doc = NULL;
    log_action(req, id, action, e);
    if (e == DEPOT_OK)
        e = depot_order_show_json(req->srv->st, id, &doc);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, req->srv->st, e);
        return;
    }
    cJSON *event = cJSON_CreateObject();
    cJSON_AddNumberToObject(event, "id", (double)id);
    cJSON_AddItemToObject(event, "status",
                          cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(doc, "status"), 0));
    web_events_publish(req->srv, "order", event);
    web_respond_json(res, 200, doc);
}

/* The body is optional: none (or an empty one) reserves without expiry. */
static void order_reserve(struct web_request *req, struct web_response *res)
{
    static const char *const fields[] = {"ttl", NULL};
    int64_t id, ttl = 0;
    if (web_param_id(req, res, 0, &id) != 0)
        return;
    if (req->body_len > 0) {
        cJSON *body = web_body_json(req, res);
        if (!body)
            return;
        int bad = web_api_only(body, fields, res) != 0 ||
                  web_api_int(body, "ttl", 0, 0, TTL_MAX, 0, res, &ttl) != 0;
        cJSON_Delete(body);
        if (bad)
            return;
    }
    changed(req, res, id, "reserve", depot_order_reserve(req->srv->st, id, ttl, req->auth.actor));
}

static void order_release(struct web_request *req, struct web_response *res)
{
    int64_t id;
    if (web_param_id(req, res, 0, &id) == 0)
        changed(req, res, id, "release", depot_order_release(req->srv->st, id, req->auth.actor));
}

static void order_cancel(struct web_request *req, struct web_response *res)
{
    int64_t id;
    if (web_param_id(req, res, 0, &id) == 0)
        changed(req, res, id, "cancel", depot_order_cancel(req->srv->st, id, req->auth.actor));
}

const struct web_route web_routes_orders[] = {
    {WEB_GET, "/api/v1/orders", WEB_ROLE_PACKER, 0, order_list, "orders_list"},
    {WEB_GET, "/api/v1/orders/{id}", WEB_ROLE_PACKER, 0, order_show, "orders_show"},
    {WEB_POST, "/api/v1/orders/{id}/reserve", WEB_ROLE_PACKER, 0, order_reserve,
     "orders_reserve"},
    {WEB_POST, "/api/v1/orders/{id}/release", WEB_ROLE_SUPERVISOR, 0, order_release,
     "orders_release"},
    {WEB_POST, "/api/v1/orders/{id}/cancel", WEB_ROLE_SUPERVISOR, 0, order_cancel,
     "orders_cancel"},
    {0},
};
