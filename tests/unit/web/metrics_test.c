/* Metrics rendering: request counters by route/method/code, cumulative histogram
 * buckets with +Inf, sum and count, label escaping, one HELP/TYPE per family, and the
 * WebSocket, database and build gauges. */
#include <stdio.h>
#include "testutil.h"
#include "web_int.h"

static char *render(struct web_metrics *m, const struct web_metrics_gauges *g)
{
    size_t len = 0;
    char *text = web_metrics_render(m, g, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(strlen(text), len);
    return text;
}

/* 1 if text has line as a whole line. */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p += n)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return 1;
    return 0;
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void TEST_requests_are_counted_by_route_method_and_code(void)
{
    struct web_metrics *m = web_metrics_new();
    struct web_metrics_gauges g = {0};
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    web_metrics_observe(m, "healthz", WEB_GET, 200, 0.0001);
    web_metrics_observe(m, "healthz", WEB_GET, 200, 0.0001);
    web_metrics_observe(m, "orders_reserve", WEB_POST, 409, 0.02);
    web_metrics_observe(m, "orders_reserve", WEB_POST, 200, 0.02);
    char *t = render(m, &g);
    CU_ASSERT_TRUE(has_line(t, "# TYPE depot_http_requests_total counter"));
    CU_ASSERT_TRUE(has_line(t, "depot_http_requests_total{route=\"healthz\",method=\"GET\","
                               "code=\"200\"} 2"));
    CU_ASSERT_TRUE(has_line(t, "depot_http_requests_total{route=\"orders_reserve\","
                               "method=\"POST\",code=\"409\"} 1"));
    CU_ASSERT_TRUE(has_line(t, "depot_http_requests_total{route=\"orders_reserve\","
                               "method=\"POST\",code=\"200\"} 1"));
    free(t);
    web_metrics_free(m);
}

static void TEST_histogram_buckets_are_cumulative(void)
{
    struct web_metrics *m = web_metrics_new();
    struct web_metrics_gauges g = {0};
    web_metrics_observe(m, "skus_show", WEB_GET, 200, 0.0005); /* le 0.001 */
    web_metrics_observe(m, "skus_show", WEB_GET, 200, 0.001);  /* le 0.001 (inclusive) */
    web_metrics_observe(m, "skus_show", WEB_GET, 200, 0.003);  /* le 0.005 */
    web_metrics_observe(m, "skus_show", WEB_GET, 200, 0.7);    /* le 1 */
    web_metrics_observe(m, "skus_show", WEB_GET, 404, 30.0);   /* only +Inf */
    char *t = render(m, &g);
    const char *b = "depot_http_request_duration_seconds_bucket{route=\"skus_show\",le=";
    char line[256];
    static const struct {
        const char *le;
        int n;
    } want[] = {{"0.001", 2}, {"0.0025", 2}, {"0.005", 3}, {"0.5", 3}, {"1", 4},
                {"10", 4},    {"+Inf", 5}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        snprintf(line, sizeof line, "%s\"%s\"} %d", b, want[i].le, want[i].n);
        CU_ASSERT_TRUE(has_line(t, line));
        if (!has_line(t, line))
            fprintf(stderr, "missing: %s\n", line);
    }
    CU_ASSERT_TRUE(has_line(t, "depot_http_request_duration_seconds_count{route=\"skus_show\"} 5"));
    CU_ASSERT_TRUE(has_line(t, "depot_http_request_duration_seconds_sum{route=\"skus_show\"} "
                               "30.7045"));
    CU_ASSERT_EQUAL(count(t, "{route=\"skus_show\",le="), 14); /* 13 bounds and +Inf */
    CU_ASSERT_TRUE(has_line(t, "# TYPE depot_http_request_duration_seconds histogram"));
    free(t);
    web_metrics_free(m);
}

static void TEST_label_values_are_escaped(void)
{
    struct web_metrics *m = web_metrics_new();
    struct web_metrics_gauges g = {0};
    web_metrics_observe(m, "we\"ird\\name\n", WEB_GET, 200, 0.001);
    char *t = render(m, &g);
    CU_ASSERT_TRUE(has_line(t, "depot_http_requests_total{route=\"we\\\"ird\\\\name\\n\","
                               "method=\"GET\",code=\"200\"} 1"));
    free(t);
    web_metrics_free(m);
}

static void TEST_every_family_has_one_help_and_type(void)
{
    struct web_metrics *m = web_metrics_new();
    web_metrics_observe(m, "a", WEB_GET, 200, 0.001);
    web_metrics_observe(m, "b", WEB_GET, 200, 0.001);
    cJSON *store = cJSON_Parse("{\"outbox\":{\"pending\":3,\"dead\":1},\"inbox\":{\"pending\":0},"
                               "\"reservations_active\":5,\"orders\":{\"open\":2},"
                               "\"database_size_bytes\":409600}");
    struct web_metrics_gauges g = {.ws_clients = 2, .ws_dropped = 7, .store = store};
    char *t = render(m, &g);
    static const char *const families[] = {
        "depot_http_requests_total", "depot_http_request_duration_seconds",
        "depot_websocket_clients", "depot_websocket_dropped_total", "depot_outbox_events",
        "depot_inbox_events", "depot_reservations_active", "depot_orders",
        "depot_database_size_bytes", "depot_build_info"};
    char needle[128];
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        snprintf(needle, sizeof needle, "# TYPE %s ", families[i]);
        CU_ASSERT_EQUAL(count(t, needle), 1);
        snprintf(needle, sizeof needle, "# HELP %s ", families[i]);
        CU_ASSERT_EQUAL(count(t, needle), 1);
    }
    CU_ASSERT_TRUE(has_line(t, "depot_websocket_clients 2"));
    CU_ASSERT_TRUE(has_line(t, "depot_websocket_dropped_total 7"));
    CU_ASSERT_TRUE(has_line(t, "depot_outbox_events{status=\"pending\"} 3"));
    CU_ASSERT_TRUE(has_line(t, "depot_outbox_events{status=\"dead\"} 1"));
    CU_ASSERT_TRUE(has_line(t, "depot_inbox_events{status=\"pending\"} 0"));
    CU_ASSERT_TRUE(has_line(t, "depot_reservations_active 5"));
    CU_ASSERT_TRUE(has_line(t, "depot_orders{status=\"open\"} 2"));
    CU_ASSERT_TRUE(has_line(t, "depot_database_size_bytes 409600"));
    CU_ASSERT_TRUE(has_line(t, "depot_build_info{version=\"" DEPOT_VERSION "\"} 1"));
    CU_ASSERT_EQUAL(t[strlen(t) - 1], '\n');
    free(t);
    cJSON_Delete(store);
    web_metrics_free(m);
}

static void TEST_database_series_are_left_out_without_store_figures(void)
{
    struct web_metrics *m = web_metrics_new();
    struct web_metrics_gauges g = {0};
    char *t = render(m, &g);
    CU_ASSERT_PTR_NULL(strstr(t, "depot_outbox_events"));
    CU_ASSERT_PTR_NULL(strstr(t, "depot_database_size_bytes"));
    CU_ASSERT_TRUE(has_line(t, "depot_websocket_clients 0"));
    CU_ASSERT_TRUE(has_line(t, "# TYPE depot_http_requests_total counter"));
    free(t);
    web_metrics_free(m);
}

/* The store side: the live statuses, all present, counted from real rows. */
static void TEST_store_stats_count_by_status(void)
{
    struct test_db t;
    cJSON *doc = NULL;
    CU_ASSERT_EQUAL_FATAL(test_db_open(&t), 0);
    CU_ASSERT_EQUAL(test_sql(&t, "INSERT INTO orders (external_id, status, created_at,"
                                 " updated_at) VALUES ('A', 'open', 0, 0), ('B', 'open', 0, 0),"
                                 " ('C', 'shipped', 0, 0)"), SQLITE_OK);
    CU_ASSERT_EQUAL(test_sql(&t, "INSERT INTO outbox (idempotency_key, target, target_id,"
                                 " topic, aggregate, payload, status, next_attempt_at,"
                                 " created_at, updated_at) VALUES"
                                 " ('k1', 'channel', 1, 't', 'a', '{}', 'dead', 0, 0, 0),"
                                 " ('k2', 'channel', 1, 't', 'a', '{}', 'pending', 0, 0, 0),"
                                 " ('k3', 'channel', 1, 't', 'a', '{}', 'pending', 0, 0, 0),"
                                 " ('k4', 'channel', 1, 't', 'a', '{}', 'done', 0, 0, 0)"),
                    SQLITE_OK);
    CU_ASSERT_EQUAL_FATAL(depot_store_stats_json(t.st, &doc), DEPOT_OK);
    const cJSON *orders = cJSON_GetObjectItem(doc, "orders");
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(orders, "open")->valueint, 2);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(orders, "packed")->valueint, 0);
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(orders, "shipped")); /* history: not counted */
    CU_ASSERT_EQUAL(cJSON_GetArraySize(orders), 4);
    const cJSON *outbox = cJSON_GetObjectItem(doc, "outbox");
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(outbox, "dead")->valueint, 1);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(outbox, "pending")->valueint, 2);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(outbox, "inflight")->valueint, 0);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(outbox), 3);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "inbox")), 3);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(doc, "reservations_active")->valueint, 0);
    CU_ASSERT_TRUE(cJSON_GetObjectItem(doc, "database_size_bytes")->valuedouble >= 4096);
    cJSON_Delete(doc);
    test_db_close(&t);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"requests_are_counted_by_route_method_and_code",
         TEST_requests_are_counted_by_route_method_and_code},
        {"histogram_buckets_are_cumulative", TEST_histogram_buckets_are_cumulative},
        {"label_values_are_escaped", TEST_label_values_are_escaped},
        {"every_family_has_one_help_and_type", TEST_every_family_has_one_help_and_type},
        {"database_series_are_left_out_without_store_figures",
         TEST_database_series_are_left_out_without_store_figures},
        {"store_stats_count_by_status", TEST_store_stats_count_by_status},
        {NULL, NULL},
    };
    return test_run("metrics", cases);
}
