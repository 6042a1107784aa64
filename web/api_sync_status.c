/* GET /api/v1/sync/status: the outbound sync worker's state (channels, rate limits,
 * circuit breakers, counters) beside the outbox queue depths; and the worker's series
 * for /metrics. */
#include <stdlib.h>
#include "api.h"
#include "api_sync_status.h"
#include "log.h"
#include "web_sync.h"

/* Rationale: one web server and one sync worker per process, and the daemon sets the
 * source before the loop runs and clears it after, so a plain static copy read on the
 * loop thread is enough. */
static struct depot_web_sync_source source;

void depot_web_set_sync_source(const struct depot_web_sync_source *src)
{
    if (src)
        source = *src;
    else
        source = (struct depot_web_sync_source){0};
}

char *web_sync_metrics_text(void)
{
    return source.metrics_text ? source.metrics_text(source.user) : NULL;
}

static void sync_status(struct web_request *req, struct web_response *res)
{
    cJSON *doc = source.status_json ? source.status_json(source.user) : NULL;
    if (!doc) {
        doc = cJSON_CreateObject();
        cJSON_AddBoolToObject(doc, "running", 0);
    }
    cJSON *stats = NULL;
    if (depot_store_stats_json(req->srv->st, &stats) == DEPOT_OK) {
        cJSON *outbox = cJSON_DetachItemFromObjectCaseSensitive(stats, "outbox");
        if (outbox)
            cJSON_AddItemToObject(doc, "outbox", outbox);
    } else {
        depot_log(DEPOT_LOG_WARN, "web", "sync status: outbox counts unavailable: %s",
                  depot_store_errmsg(req->srv->st));
    }
    cJSON_Delete(stats);
    web_respond_json(res, 200, doc);
}

const struct web_route web_routes_sync_status[] = {
    {WEB_GET, "/api/v1/sync/status", WEB_ROLE_SUPERVISOR, 0, sync_status, "sync_status"},
    {0},
};
