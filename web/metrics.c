/* HTTP request metrics (a counter by route, method and status; a latency histogram by
 * route) and the Prometheus text rendering of the whole /metrics page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "prom_text.h"
#include "web_int.h"
#include "api_sync_status.h"

/* Rationale: label sets are bounded by the route tables (a few dozen names, seven
 * methods, a handful of status codes), so plain arrays searched linearly are enough and
 * memory cannot grow with what clients send. Histogram buckets are kept per bucket and
 * made cumulative when rendered. */
#define N_BUCKETS 13
static const double bucket_le[N_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                            0.25,  0.5,    1,     2.5,  5,     10};
static const char *const bucket_label[N_BUCKETS] = {
    "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
    "0.25",  "0.5",    "1",     "2.5",  "5",     "10"};

#define ROUTE_NAME_MAX 64

struct req_series {
    char route[ROUTE_NAME_MAX];
    enum web_method method;
    int code;
    uint64_t count;
};

struct latency_series {
    char route[ROUTE_NAME_MAX];
    uint64_t in_bucket[N_BUCKETS]; /* observations whose first fitting bucket is this one */
    uint64_t count;
    double sum;
};

struct web_metrics {
    struct req_series *req;
    size_t n_req, cap_req;
    struct latency_series *lat;
    size_t n_lat, cap_lat;
};

struct web_metrics *web_metrics_new(void)
{
    return calloc(1, sizeof(struct web_metrics));
}

void web_metrics_free(struct web_metrics *m)
{
    if (!m)
        return;
    free(m->req);
    free(m->lat);
    free(m);
}

/* Makes room for one more element of size sz in *arr; 0 or -1. */
static int grow(void **arr, size_t n, size_t *cap, size_t sz)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 32;
    void *p = realloc(*arr, ncap * sz);
    if (!p)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

static struct req_series *req_series(struct web_metrics *m, const char *route,
                                     enum web_method method, int code)
{
    for (size_t i = 0; i < m->n_req; i++)
        if (m->req[i].method == method && m->req[i].code == code &&
            strcmp(m->req[i].route, route) == 0)
            return &m->req[i];
    if (grow((void **)&m->req, m->n_req, &m->cap_req, sizeof *m->req) != 0)
        return NULL;
    struct req_series *s = &m->req[m->n_req++];
    memset(s, 0, sizeof *s);
    snprintf(s->route, sizeof s->route, "%s", route);
    s->method = method;
    s->code = code;
    return s;
}

static struct latency_series *latency_series(struct web_metrics *m, const char *route)
{
    for (size_t i = 0; i < m->n_lat; i++)
        if (strcmp(m->lat[i].route, route) == 0)
            return &m->lat[i];
    if (grow((void **)&m->lat, m->n_lat, &m->cap_lat, sizeof *m->lat) != 0)
        return NULL;
    struct latency_series *s = &m->lat[m->n_lat++];
    memset(s, 0, sizeof *s);
    snprintf(s->route, sizeof s->route, "%s", route);
    return s;
}

void web_metrics_observe(struct web_metrics *m, const char *route, enum web_method method,
                         int status, double seconds)
{
    if (!m || !route)
        return;
    struct req_series *r = req_series(m, route, method, status);
    if (r)
        r->count++;
    struct latency_series *l = latency_series(m, route);
    if (!l)
        return;
    if (seconds < 0)
        seconds = 0;
    for (int b = 0; b < N_BUCKETS; b++) {
        if (seconds <= bucket_le[b]) {
            l->in_bucket[b]++;
            break;
        }
    }
    l->count++;
    l->sum += seconds;
}

/* ---- Rendering ------------------------------------------------------------------ */

static void render_requests(struct prom_text *t, const struct web_metrics *m)
{
    prom_family(t, "depot_http_requests_total", "counter",
                "HTTP requests answered, by route, method and status code.");
    for (size_t i = 0; i < m->n_req; i++) {
        const struct req_series *s = &m->req[i];
        prom_printf(t, "depot_http_requests_total{route=\"");
        prom_label(t, s->route);
        prom_printf(t, "\",method=\"%s\",code=\"%d\"} %llu\n", web_method_name(s->method), s->code,
                    (unsigned long long)s->count);
    }
    prom_family(t, "depot_http_request_duration_seconds", "histogram",
                "Time from a request's headers to its response being queued, by route.");
    for (size_t i = 0; i < m->n_lat; i++) {
        const struct latency_series *s = &m->lat[i];
        uint64_t cumulative = 0;
        for (int b = 0; b < N_BUCKETS; b++) {
            cumulative += s->in_bucket[b];
            prom_printf(t, "depot_http_request_duration_seconds_bucket{route=\"");
            prom_label(t, s->route);
            prom_printf(t, "\",le=\"%s\"} %llu\n", bucket_label[b], (unsigned long long)cumulative);
        }
        prom_printf(t, "depot_http_request_duration_seconds_bucket{route=\"");
        prom_label(t, s->route);
        prom_printf(t, "\",le=\"+Inf\"} %llu\n", (unsigned long long)s->count);
        prom_printf(t, "depot_http_request_duration_seconds_sum{route=\"");
        prom_label(t, s->route);
        prom_printf(t, "\"} %.9g\n", s->sum);
        prom_printf(t, "depot_http_request_duration_seconds_count{route=\"");
        prom_label(t, s->route);
        prom_printf(t, "\"} %llu\n", (unsigned long long)s->count);
    }
}

/* One gauge family with a "status" label from a JSON object of status -> count. */
static void render_by_status(struct prom_text *t, const cJSON *store, const char *member,
                             const char *name, const char *help)
{
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(store, member);
    if (!cJSON_IsObject(obj))
        return;
    prom_family(t, name, "gauge", help);
    for (const cJSON *c = obj->child; c; c = c->next) {
        if (!cJSON_IsNumber(c))
            continue;
        prom_printf(t, "%s{status=\"", name);
        prom_label(t, c->string);
        prom_printf(t, "\"} %.0f\n", c->valuedouble);
    }
}

static void render_number(struct prom_text *t, const cJSON *store, const char *member,
                          const char *name, const char *help)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(store, member);
    if (!cJSON_IsNumber(v))
        return;
    prom_family(t, name, "gauge", help);
    prom_printf(t, "%s %.0f\n", name, v->valuedouble);
}

char *web_metrics_render(const struct web_metrics *m, const struct web_metrics_gauges *g,
                         size_t *len)
{
    struct prom_text t = {0};
    render_requests(&t, m);
    prom_family(&t, "depot_websocket_clients", "gauge", "Connected WebSocket clients.");
    prom_printf(&t, "depot_websocket_clients %zu\n", g->ws_clients);
    prom_family(&t, "depot_websocket_dropped_total", "counter",
                "WebSocket event messages dropped because a client fell too far behind.");
    prom_printf(&t, "depot_websocket_dropped_total %llu\n", (unsigned long long)g->ws_dropped);
    if (g->store) {
        render_by_status(&t, g->store, "outbox", "depot_outbox_events",
                         "Outbox events (changes for channels and carriers) by status.");
        render_by_status(&t, g->store, "inbox", "depot_inbox_events",
                         "Inbox events (received webhooks) by status.");
        render_number(&t, g->store, "reservations_active", "depot_reservations_active",
                      "Active stock reservations.");
        render_by_status(&t, g->store, "orders", "depot_orders", "Orders by status.");
        render_number(&t, g->store, "database_size_bytes", "depot_database_size_bytes",
                      "Size of the SQLite database file (pages times page size).");
    }
    char *sync = web_sync_metrics_text(); /* the outbound worker's series */
    if (sync) {
        prom_printf(&t, "%s", sync);
        free(sync);
    }
    prom_family(&t, "depot_build_info", "gauge", "Depot's version; the value is always 1.");
    prom_printf(&t, "depot_build_info{version=\"");
    prom_label(&t, DEPOT_VERSION);
    prom_printf(&t, "\"} 1\n");
    return prom_finish(&t, len);
}
