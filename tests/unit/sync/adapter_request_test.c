/* Unit tests of the requests the channel adapters build, without a network: WooCommerce
 * authenticates with HTTP Basic over HTTPS and with an OAuth 1.0a signed query over plain
 * HTTP (never both, never a secret in an HTTPS URL), and the backstop pulls ask each
 * platform for the orders updated since the cursor in its own syntax. */
#include <string.h>
#include "sync_int.h"
#include "testutil.h"

static struct sync_channel ch;
static struct sync_job job;

static void channel(const char *base)
{
    memset(&ch, 0, sizeof ch);
    memset(&job, 0, sizeof job);
    snprintf(ch.base, sizeof ch.base, "%s", base);
    ch.consumer_key = "ck_key";
    ch.consumer_secret = "cs_secret";
    ch.token = "shpat_token";
    job.ch = &ch;
    job.since_ms = 1700000000000LL; /* 2023-11-14T22:13:20Z */
}

static void TEST_woocommerce_basic_over_https(void)
{
    channel("https://shop.example.com/wp-json/wc/v3");
    const struct sync_oauth1_param q[] = {{"per_page", "100"}, {"after", "a b&c"}};
    CU_ASSERT_EQUAL_FATAL(sync_woo_request(&job, "GET", "orders", "/orders", q, 2), 0);
    CU_ASSERT_STRING_EQUAL(job.req.user, "ck_key");
    CU_ASSERT_STRING_EQUAL(job.req.password, "cs_secret");
    CU_ASSERT_STRING_EQUAL(job.req.url, "https://shop.example.com/wp-json/wc/v3/orders"
                                        "?per_page=100&after=a%20b%26c");
    CU_ASSERT_PTR_NULL(strstr(job.req.url, "oauth_"));
    CU_ASSERT_PTR_NULL(strstr(job.req.url, "cs_secret"));
    sync_request_reset(&job.req);
}

static void TEST_woocommerce_oauth1_over_http(void)
{
    channel("http://shop.example.com/wp-json/wc/v3");
    CU_ASSERT_EQUAL_FATAL(sync_woo_request(&job, "GET", "orders", "/orders", NULL, 0), 0);
    CU_ASSERT_PTR_NULL(job.req.user);
    CU_ASSERT_PTR_NOT_NULL(strstr(job.req.url, "oauth_consumer_key=ck_key"));
    CU_ASSERT_PTR_NOT_NULL(strstr(job.req.url, "oauth_signature="));
    CU_ASSERT_PTR_NULL(strstr(job.req.url, "cs_secret"));
    sync_request_reset(&job.req);
    /* a query that cannot fit the URL is refused, not cut */
    static char big[SYNC_URL_MAX];
    memset(big, 'x', sizeof big - 1);
    channel("https://shop.example.com/wp-json/wc/v3");
    const struct sync_oauth1_param q[] = {{"q", big}};
    CU_ASSERT_EQUAL(sync_woo_request(&job, "GET", "orders", "/orders", q, 1), -1);
    sync_request_reset(&job.req);
}

static void TEST_woocommerce_pull_asks_by_modification_time(void)
{
    channel("https://shop.example.com/wp-json/wc/v3");
    CU_ASSERT_EQUAL_FATAL(sync_woo_pull_begin(&job), SYNC_SEND);
    CU_ASSERT_STRING_EQUAL(job.req.method, "GET");
    CU_ASSERT_STRING_EQUAL(job.req.endpoint, "orders");
    /* one second before the cursor: modified_after is exclusive */
    CU_ASSERT_PTR_NOT_NULL(strstr(job.req.url, "/orders?modified_after=2023-11-14T22%3A13%3A19"
                                               "&dates_are_gmt=true&orderby=modified&order=asc"
                                               "&per_page=50&page=1"));
    sync_request_reset(&job.req);
}

static void TEST_shopify_pull_asks_by_updated_at_sorted(void)
{
    channel("https://a.myshopify.com/admin/api/2025-07/graphql.json");
    CU_ASSERT_EQUAL_FATAL(sync_shopify_pull_begin(&job), SYNC_SEND);
    CU_ASSERT_STRING_EQUAL(job.req.method, "POST");
    CU_ASSERT_STRING_EQUAL(job.req.endpoint, "graphql");
    CU_ASSERT_EQUAL(job.req.cost, SYNC_SHOPIFY_PULL_COST);
    cJSON *body = cJSON_Parse(job.req.body);
    const char *query = cJSON_GetStringValue(cJSON_GetObjectItem(body, "query"));
    cJSON *vars = cJSON_GetObjectItem(body, "variables");
    CU_ASSERT_PTR_NOT_NULL(strstr(query, "sortKey: UPDATED_AT"));
    CU_ASSERT_PTR_NOT_NULL(strstr(query, "pageInfo { hasNextPage endCursor }"));
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(vars, "query")),
                           "updated_at:>='2023-11-14T22:13:20Z'");
    CU_ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(vars, "after")));
    cJSON_Delete(body);
    struct curl_slist *h = job.req.headers;
    int token = 0;
    for (; h; h = h->next)
        token += strcmp(h->data, "X-Shopify-Access-Token: shpat_token") == 0;
    CU_ASSERT_EQUAL(token, 1);
    sync_request_reset(&job.req);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"WooCommerce: Basic over HTTPS", TEST_woocommerce_basic_over_https},
        {"WooCommerce: OAuth 1.0a over HTTP", TEST_woocommerce_oauth1_over_http},
        {"WooCommerce pull asks by modification time",
         TEST_woocommerce_pull_asks_by_modification_time},
        {"Shopify pull asks by updated_at, sorted", TEST_shopify_pull_asks_by_updated_at_sorted},
        {NULL, NULL},
    };
    return test_run("adapter_request", cases);
}
