/* The sync endpoints: outbox and inbox by status, re-queuing dead outbox events,
 * showing and replaying inbox deliveries, and the open order alerts they raise. */
#include "api.h"
#include "inbound.h"

#define STATUS_MAX 32

/* The status, before and limit arguments every queue list takes. */
static int queue_args(struct web_request *req, struct web_response *res,
                      char buf[WEB_API_QUERY_MAX], const char **status, int64_t *before,
                      int64_t *limit)
{
    if (web_api_query(req, res, "status", STATUS_MAX, buf, status) != 0 ||
        web_api_page(req, res, "before", before, limit) != 0)
        return -1;
    if (*status && !**status)
        *status = NULL;
    return 0;
}

/* A queue list: its arguments and the store's view of that queue. */
static void queue_list(struct web_request *req, struct web_response *res,
                       depot_err (*view)(depot_store *, const char *, int64_t, int, cJSON **))
{
    char buf[WEB_API_QUERY_MAX];
    const char *status;
    int64_t before, limit;
    cJSON *doc = NULL;
    if (queue_args(req, res, buf, &status, &before, &limit) != 0)
        return;
    depot_err e = view(req->srv->st, status, before, (int)limit, &doc);
    web_api_view(res, req->srv->st, e, doc, "status");
}

static void outbox_list(struct web_request *req, struct web_response *res)
{
    queue_list(req, res, depot_outbox_page_json);
}

static void inbox_list(struct web_request *req, struct web_response *res)
{
    queue_list(req, res, depot_inbox_page_json);
}

/* 200 {"<what>": n}: how many rows a retry or replay put back in their queue. */
static void counted(struct web_response *res, const char *what, int n)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, what, n);
    web_respond_json(res, 200, doc);
}

static void outbox_retry(struct web_request *req, struct web_response *res)
{
    int64_t id;
    if (web_param_id(req, res, 0, &id) != 0)
        return;
    depot_err e = depot_outbox_retry(req->srv->st, id, req->auth.actor);
    if (e == DEPOT_OK)
        counted(res, "requeued", 1);
    else
        web_respond_store_error(res, req->srv->st, e);
}

static void outbox_retry_dead(struct web_request *req, struct web_response *res)
{
    int n = 0;
    depot_err e = depot_outbox_retry_all_dead(req->srv->st, req->auth.actor, &n);
    if (e == DEPOT_OK)
        counted(res, "requeued", n);
    else
        web_respond_store_error(res, req->srv->st, e);
}

static void inbox_show(struct web_request *req, struct web_response *res)
{
    int64_t id;
    cJSON *doc = NULL;
    if (web_param_id(req, res, 0, &id) != 0)
        return;
    depot_err e = depot_inbox_show_json(req->srv->st, id, &doc);
    web_api_view(res, req->srv->st, e, doc, NULL);
}

static void inbox_replay(struct web_request *req, struct web_response *res)
{
    int64_t id;
    if (web_param_id(req, res, 0, &id) != 0)
        return;
    depot_err e = depot_inbox_replay(req->srv->st, id, req->auth.actor);
    if (e == DEPOT_OK)
        counted(res, "replayed", 1);
    else
        web_respond_store_error(res, req->srv->st, e);
}

static void inbox_replay_dead(struct web_request *req, struct web_response *res)
{
    int n = 0;
    depot_err e = depot_inbox_replay_all_dead(req->srv->st, req->auth.actor, &n);
    if (e == DEPOT_OK)
        counted(res, "replayed", n);
    else
        web_respond_store_error(res, req->srv->st, e);
}

static void alerts_list(struct web_request *req, struct web_response *res)
{
    int64_t order_id;
    cJSON *items = NULL;
    if (web_query_int(req, res, "order", 1, INT64_MAX, 0, &order_id) != 0)
        return;
    depot_err e = depot_order_alerts_json(req->srv->st, order_id, &items);
    cJSON *doc = NULL;
    if (e == DEPOT_OK) {
        doc = cJSON_CreateObject();
        cJSON_AddItemToObject(doc, "items", items);
    }
    web_api_view(res, req->srv->st, e, doc, NULL);
}

const struct web_route web_routes_sync[] = {
    {WEB_GET, "/api/v1/outbox", WEB_ROLE_SUPERVISOR, 0, outbox_list, "outbox_list"},
    {WEB_POST, "/api/v1/outbox/{id}/retry", WEB_ROLE_SUPERVISOR, 0, outbox_retry,
     "outbox_retry"},
    {WEB_POST, "/api/v1/outbox/retry-dead", WEB_ROLE_SUPERVISOR, 0, outbox_retry_dead,
     "outbox_retry_dead"},
    {WEB_GET, "/api/v1/inbox", WEB_ROLE_SUPERVISOR, 0, inbox_list, "inbox_list"},
    {WEB_GET, "/api/v1/inbox/{id}", WEB_ROLE_SUPERVISOR, 0, inbox_show, "inbox_show"},
    {WEB_POST, "/api/v1/inbox/{id}/replay", WEB_ROLE_SUPERVISOR, 0, inbox_replay,
     "inbox_replay"},
    {WEB_POST, "/api/v1/inbox/replay-dead", WEB_ROLE_SUPERVISOR, 0, inbox_replay_dead,
     "inbox_replay_dead"},
    {WEB_GET, "/api/v1/alerts", WEB_ROLE_PACKER, 0, alerts_list, "alerts_list"},
    {0},
};
