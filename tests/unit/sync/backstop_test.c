/* Unit tests of the backstop pull's pure and store parts: a Shopify GraphQL Order node
 * converted to the REST order the inbound mapper reads (ids, state, lines, removed lines,
 * cancellation), the per-channel cursor (defaults to the channel's creation, only moves
 * forward, never far past this host's clock), and the webhook subscriptions queued for a channel (once per topic and URL). */
#include <time.h>
#include "channel_sync.h"
#include "inbound_map.h"
#include "sync_int.h"
#include "testutil.h"

static struct test_db T;

static const char ORDER_NODE[] =
    "{\"id\":\"gid://shopify/Order/9007199254740993\",\"name\":\"#1001\","
    "\"email\":\"a@example.com\",\"updatedAt\":\"2030-01-02T03:04:05Z\",\"cancelledAt\":null,"
    "\"displayFinancialStatus\":\"PARTIALLY_PAID\","
    "\"customer\":{\"firstName\":\"Ada\",\"lastName\":\"Lovelace\",\"phone\":null},"
    "\"shippingAddress\":{\"name\":\"Ada\",\"city\":\"London\",\"countryCodeV2\":\"GB\","
    "\"provinceCode\":null},"
    "\"lineItems\":{\"pageInfo\":{\"hasNextPage\":false},\"nodes\":["
    "{\"id\":\"gid://shopify/LineItem/71\",\"sku\":\"SKU-1\",\"title\":\"One\",\"quantity\":3,"
    "\"currentQuantity\":2,\"variant\":{\"id\":\"gid://shopify/ProductVariant/301\"}},"
    "{\"id\":\"gid://shopify/LineItem/72\",\"sku\":\"SKU-2\",\"title\":\"Two\",\"quantity\":1,"
    "\"currentQuantity\":0,\"variant\":null}]}}";

/* node -> REST -> the inbound mapper; 0 or -1. */
static int map_node(const char *node_json, struct depot_mapped_order *m, char *err)
{
    cJSON *node = cJSON_Parse(node_json);
    cJSON *rest = sync_shopify_order_rest(node);
    char *text = rest ? cJSON_PrintUnformatted(rest) : NULL;
    int rc = text ? depot_map_shopify_order(text, strlen(text), 7, "orders/updated", m, err,
                                            200)
                  : -1;
    cJSON_free(text);
    cJSON_Delete(rest);
    cJSON_Delete(node);
    return rc;
}

static void TEST_graphql_order_maps_like_its_webhook(void)
{
    struct depot_mapped_order m;
    char err[200] = "";
    CU_ASSERT_EQUAL_FATAL(map_node(ORDER_NODE, &m, err), 0);
    CU_ASSERT_STRING_EQUAL(m.order.external_id, "9007199254740993"); /* exact above 2^53 */
    CU_ASSERT_STRING_EQUAL(m.order.number, "#1001");
    CU_ASSERT_EQUAL(m.order.channel_id, 7);
    CU_ASSERT_EQUAL(m.order.updated_at_ms, 1893553445000LL);
    CU_ASSERT_EQUAL(m.order.state, DEPOT_INGEST_PAID);
    CU_ASSERT_EQUAL_FATAL(m.order.n_lines, 2);
    CU_ASSERT_STRING_EQUAL(m.order.lines[0].external_line_id, "71");
    CU_ASSERT_STRING_EQUAL(m.order.lines[0].variant_id, "301");
    CU_ASSERT_STRING_EQUAL(m.order.lines[0].sku, "SKU-1");
    CU_ASSERT_EQUAL(m.order.lines[0].quantity, 2);  /* currentQuantity wins */
    CU_ASSERT_PTR_NULL(m.order.lines[1].variant_id);
    CU_ASSERT_EQUAL(m.order.lines[1].quantity, 0);  /* removed by an edit */
    CU_ASSERT_PTR_NOT_NULL(strstr(m.order.customer_json, "Lovelace"));
    CU_ASSERT_PTR_NOT_NULL(strstr(m.order.ship_to_json, "\"country_code\":\"GB\""));
    depot_mapped_order_free(&m);
}

static void TEST_graphql_order_states(void)
{
    static const struct { const char *from, *to; enum depot_ingest_state state; } cases[] = {
        {"\"PARTIALLY_PAID\"", "\"PENDING\"", DEPOT_INGEST_OPEN},
        {"\"PARTIALLY_PAID\"", "\"AUTHORIZED\"", DEPOT_INGEST_PAID},
        {"\"cancelledAt\":null", "\"cancelledAt\":\"2030-01-02T03:04:06Z\"",
         DEPOT_INGEST_CANCELLED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char node[sizeof ORDER_NODE + 64], err[200] = "";
        const char *at = strstr(ORDER_NODE, cases[i].from);
        CU_ASSERT_PTR_NOT_NULL_FATAL(at);
        snprintf(node, sizeof node, "%.*s%s%s", (int)(at - ORDER_NODE), ORDER_NODE,
                 cases[i].to, at + strlen(cases[i].from));
        struct depot_mapped_order m;
        CU_ASSERT_EQUAL_FATAL(map_node(node, &m, err), 0);
        CU_ASSERT_EQUAL(m.order.state, cases[i].state);
        depot_mapped_order_free(&m);
    }
    CU_ASSERT_PTR_NULL(sync_shopify_order_rest(NULL));
    cJSON *no_id = cJSON_Parse("{\"name\":\"#1\"}");
    CU_ASSERT_PTR_NULL(sync_shopify_order_rest(no_id));
    cJSON_Delete(no_id);
}

static void TEST_cursor_starts_at_the_channel_and_only_moves_forward(void)
{
    int64_t ms = 0;
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL(test_sql(&T, "INSERT INTO channels (id, kind, name, created_at)"
                                 " VALUES (1, 'shopify', 'a.myshopify.com', 1700000000)"), 0);
    CU_ASSERT_EQUAL(depot_backstop_cursor(T.st, 1, &ms), DEPOT_OK);
    CU_ASSERT_EQUAL(ms, 1700000000000LL);
    CU_ASSERT_EQUAL(depot_backstop_cursor_advance(T.st, 1, 1700000005000LL), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_backstop_cursor_advance(T.st, 1, 1700000001000LL), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_backstop_cursor(T.st, 1, &ms), DEPOT_OK);
    CU_ASSERT_EQUAL(ms, 1700000005000LL);
    /* an update stamped in the year 9999 moves it at most a day past now */
    CU_ASSERT_EQUAL(depot_backstop_cursor_advance(T.st, 1, 253402300799000LL), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_backstop_cursor(T.st, 1, &ms), DEPOT_OK);
    CU_ASSERT_TRUE(ms <= ((int64_t)time(NULL) + 86400) * 1000);
    CU_ASSERT_TRUE(ms >= ((int64_t)time(NULL) + 86400 - 60) * 1000);
    CU_ASSERT_EQUAL(depot_backstop_cursor(T.st, 2, &ms), DEPOT_E_NOT_FOUND);
    test_db_close(&T);
}

static void TEST_webhook_subscriptions_are_queued_once(void)
{
    int n = -1;
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL(test_sql(&T, "INSERT INTO channels (id, kind, name, created_at) VALUES"
                                 " (1, 'shopify', 'a.myshopify.com', 0),"
                                 " (2, 'woocommerce', 'https://w.example.com', 0)"), 0);
    const char *url = "https://depot.example.com/webhooks/shopify";
    CU_ASSERT_EQUAL(depot_channel_webhooks_queue(T.st, 1, url, "t", &n), DEPOT_OK);
    CU_ASSERT_EQUAL(n, 8);
    CU_ASSERT_EQUAL(depot_channel_webhooks_queue(T.st, 1, url, "t", &n), DEPOT_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM outbox WHERE topic ="
                                     " 'webhooks.register' AND aggregate = 'webhooks'"), 8);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM audit WHERE action ="
                                     " 'channel.webhooks_queued'"), 1);
    CU_ASSERT_EQUAL(depot_channel_webhooks_queue(T.st, 1, "ftp://x", "t", &n), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(depot_channel_webhooks_queue(T.st, 1, "https://a b", "t", &n),
                    DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(depot_channel_webhooks_queue(T.st, 2, url, "t", &n), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(test_verify_ok(&T), 1);
    test_db_close(&T);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"GraphQL order maps like its webhook", TEST_graphql_order_maps_like_its_webhook},
        {"GraphQL order states", TEST_graphql_order_states},
        {"cursor starts at the channel and only moves forward",
         TEST_cursor_starts_at_the_channel_and_only_moves_forward},
        {"webhook subscriptions are queued once", TEST_webhook_subscriptions_are_queued_once},
        {NULL, NULL},
    };
    return test_run("backstop", cases);
}
