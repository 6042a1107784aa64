/* GET /healthz, /readyz and /metrics: liveness, readiness (the database answers and is
 * migrated) and the Prometheus page. */
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "web_int.h"

static void healthz(struct web_request *req, struct web_response *res)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "status", "ok");
    web_respond_json(res, 200, doc);
}

static void readyz(struct web_request *req, struct web_response *res)
{
    struct web_server *srv = req->srv;
    if (!srv->ready || !srv->st) {
        web_respond_error(res, 503, "not_ready", "the server is still starting");
        return;
    }
    int version = depot_store_schema_version(srv->st);
    if (version < 0) {
        web_respond_error(res, 503, "database_unavailable", "the database does not answer");
        return;
    }
    if (version != depot_store_schema_latest()) {
        web_respond_error(res, 503, "not_migrated",
                          "database schema is version %d; this build needs %d", version,
                          depot_store_schema_latest());
        return;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "status", "ready");
    web_respond_json(res, 200, doc);
}

/* 127.0.0.0/8 or ::1, also as IPv4-mapped IPv6. */
static int is_loopback(const char *peer)
{
    if (strncmp(peer, "::ffff:", 7) == 0)
        peer += 7;
    return strncmp(peer, "127.", 4) == 0 || strcmp(peer, "::1") == 0;
}

/* Rationale: a local scraper (Prometheus or node-exporter's textfile on the same box)
 * needs no credentials; from the network the page reveals traffic and queue depths, so
 * it needs a bearer token or session of any role. The route is public for the router,
 * and the rule is applied here. */
static void metrics(struct web_request *req, struct web_response *res)
{
    struct web_server *srv = req->srv;
    if (!is_loopback(req->peer) && web_authenticate(req) != 0) {
        web_add_header(res, "WWW-Authenticate", "Bearer realm=\"depot\"");
        web_respond_error(res, 401, "unauthenticated",
                          "/metrics from %s needs Authorization: Bearer <token>", req->peer);
        return;
    }
    struct web_metrics_gauges g = {0};
    cJSON *stats = NULL;
    web_events_counts(srv->events, &g.ws_clients, &g.ws_dropped);
    if (depot_store_stats_json(srv->st, &stats) != DEPOT_OK)
        depot_log(DEPOT_LOG_WARN, "web", "metrics: database gauges unavailable: %s",
                  depot_store_errmsg(srv->st));
    g.store = stats;
    size_t len = 0;
    char *text = web_metrics_render(srv->metrics, &g, &len);
    cJSON_Delete(stats);
    if (!text) {
        web_respond_error(res, 500, "out_of_memory", "out of memory");
        return;
    }
    web_respond_raw(res, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

const struct web_route web_routes_health[] = {
    {WEB_GET, "/healthz", WEB_ROLE_NONE, WEB_ROUTE_PUBLIC, healthz, "healthz"},
    {WEB_GET, "/readyz", WEB_ROLE_NONE, WEB_ROUTE_PUBLIC, readyz, "readyz"},
    {WEB_GET, "/metrics", WEB_ROLE_NONE, WEB_ROUTE_PUBLIC, metrics, "metrics"},
    {0},
};
