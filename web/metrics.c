/* HTTP request metrics (a counter by route, method and status; a latency histogram by
 * route) and the Prometheus text rendering of the whole /metrics page. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

struct text {
    char *p;
    size_t len, cap;
    int oom;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
    if (t->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p ? t->p + t->len : NULL, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->oom = 1;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t ncap = (t->cap ? t->cap * 2 : 8192) + (size_t)n;
        char *p = realloc(t->p, ncap);
        if (!p) {
            t->oom = 1;
            return;
        }
        t->p = p;
        t->cap = ncap;
    }
}

/* A label value with \, " and newline escaped, as the text format requires. */
static void put_label(struct text *t, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            put(t, "\\%c", *v);
        else if (*v == '\n')
            put(t, "\\n");
        else
            put(t, "%c", *v);
    }
}

static void put_family(struct text *t, const char *name, const char *type, const char *help)
{
    put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_requests(struct text *t, const struct web_metrics *m)
{
    put_family(t, "depot_http_requests_total", "counter",
               "HTTP requests answered, by route, method and status code.");
    for (size_t i = 0; i < m->n_req; i++) {
        const struct req_series *s = &m->req[i];
        put(t, "depot_http_requests_total{route=\"");
        put_label(t, s->route);
        put(t, "\",method=\"%s\",code=\"%d\"} %llu\n", web_method_name(s->method), s->code,
            (unsigned long long)s->count);
    }
    put_family(t, "depot_http_request_duration_seconds", "histogram",
               "Time from a request's headers to its response being queued, by route.");
    for (size_t i = 0; i < m->n_lat; i++) {
        const struct latency_series *s = &m->lat[i];
        uint64_t cumulative = 0;
        for (int b = 0; b < N_BUCKETS; b++) {
            cumulative += s->in_bucket[b];
            put(t, "depot_http_request_duration_seconds_bucket{route=\"");
            put_label(t, s->route);
            put(t, "\",le=\"%s\"} %llu\n", bucket_label[b], (unsigned long long)cumulative);
        }
        put(t, "depot_http_request_duration_seconds_bucket{route=\"");
        put_label(t, s->route);
        put(t, "\",le=\"+Inf\"} %llu\n", (unsigned long long)s->count);
        put(t, "depot_http_request_duration_seconds_sum{route=\"");
        put_label(t, s->route);
        put(t, "\"} %.9g\n", s->sum);
        put(t, "depot_http_request_duration_seconds_count{route=\"");
        put_label(t, s->route);
        put(t, "\"} %llu\n", (unsigned long long)s->count);
    }
}

/* One gauge family with a "status" label from a JSON object of status -> count. */
static void render_by_status(struct text *t, const cJSON *store, const char *member,
                             const char *name, const char *help)
{
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(store, member);
    if (!cJSON_IsObject(obj))
        return;
    put_family(t, name, "gauge", help);
    for (const cJSON *c = obj->child; c; c = c->next) {
        if (!cJSON_IsNumber(c))
            continue;
        put(t, "%s{status=\"", name);
        put_label(t, c->string);
        put(t, "\"} %.0f\n", c->valuedouble);
    }
}

static void render_number(struct text *t, const cJSON *store, const char *member,
                          const char *name, const char *help)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(store, member);
    if (!cJSON_IsNumber(v))
        return;
    put_family(t, name, "gauge", help);
    put(t, "%s %.0f\n", name, v->valuedouble);
}

char *web_metrics_render(const struct web_metrics *m, const struct web_metrics_gauges *g,
                         size_t *len)
{
    struct text t = {0};
    render_requests(&t, m);
    put_family(&t, "depot_websocket_clients", "gauge", "Connected WebSocket clients.");
    put(&t, "depot_websocket_clients %zu\n", g->ws_clients);
    put_family(&t, "depot_websocket_dropped_total", "counter",
               "WebSocket event messages dropped because a client fell too far behind.");
    put(&t, "depot_websocket_dropped_total %llu\n", (unsigned long long)g->ws_dropped);
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
        put(&t, "%s", sync);
        free(sync);
    }
    put_family(&t, "depot_build_info", "gauge", "Depot's version; the value is always 1.");
    put(&t, "depot_build_info{version=\"");
    put_label(&t, DEPOT_VERSION);
    put(&t, "\"} 1\n");
    if (t.oom) {
        free(t.p);
        return NULL;
    }
    *len = t.len;
    return t.p;
}
