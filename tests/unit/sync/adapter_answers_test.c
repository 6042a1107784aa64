/* Unit tests of how the channel adapters read hostile or broken answers and data, without
 * a network. Shopify: a THROTTLED answer with absurd cost figures waits a bounded time, a
 * fulfillmentCreate answer without the mutation's result is retried (never taken as
 * done), an inventory level out of any stock range is refused, and a backstop page
 * cursor too long to send back whole is not cut. WooCommerce: an order id too long for
 * the URL is refused, never cut into another order's path. */
#include <string.h>
#include "sync_int.h"
#include "testutil.h"

static struct sync_channel ch;
static struct sync_job job;
static struct depot_outbox_item item;
static int64_t prev;

static void delivery(const char *topic, const char *payload, int phase)
{
    memset(&ch, 0, sizeof ch);
    memset(&job, 0, sizeof job);
    memset(&item, 0, sizeof item);
    snprintf(ch.base, sizeof ch.base, "https://a.myshopify.com/admin/api/2025-07/graphql.json");
    ch.token = "shpat_token";
    snprintf(item.topic, sizeof item.topic, "%s", topic);
    snprintf(item.key, sizeof item.key, "k1");
    item.payload = (char *)payload;
    prev = 5;
    job.ch = &ch;
    job.items = &item;
    job.n = 1;
    job.prev = &prev;
    job.phase = phase;
    job.retry_after = -1;
}

static enum sync_step answer(const char *body)
{
    struct sync_response res = {.status = 200, .body = body, .len = strlen(body)};
    return sync_shopify_ops.on_response(&job, &res);
}

static void TEST_throttled_wait_is_bounded(void)
{
    delivery("fulfillment.create", "{\"external_order_id\":\"1\"}", 0);
    enum sync_step step = answer(
        "{\"errors\":[{\"message\":\"Throttled\",\"extensions\":{\"code\":\"THROTTLED\"}}],"
        "\"extensions\":{\"cost\":{\"requestedQueryCost\":1e300,\"throttleStatus\":"
        "{\"maximumAvailable\":1000,\"currentlyAvailable\":0,\"restoreRate\":1e-300}}}}");
    CU_ASSERT_EQUAL(step, SYNC_THROTTLED);
    CU_ASSERT_EQUAL(job.retry_after, 3600);
    /* ordinary figures: (req - available) / rate, rounded up */
    delivery("fulfillment.create", "{\"external_order_id\":\"1\"}", 0);
    answer("{\"errors\":[{\"extensions\":{\"code\":\"THROTTLED\"}}],"
           "\"extensions\":{\"cost\":{\"requestedQueryCost\":101,\"throttleStatus\":"
           "{\"maximumAvailable\":1000,\"currentlyAvailable\":1,\"restoreRate\":50}}}}");
    CU_ASSERT_EQUAL(job.retry_after, 2);
    sync_request_reset(&job.req);
}

static void TEST_fulfillment_answer_without_result_is_retried(void)
{
    static const char payload[] = "{\"external_order_id\":\"1\",\"tracking_number\":\"T1\"}";
    delivery("fulfillment.create", payload, 1 /* FUL_CREATE */);
    CU_ASSERT_EQUAL(answer("{\"data\":{\"fulfillmentCreate\":null}}"), SYNC_RETRY);
    CU_ASSERT_EQUAL(job.upstream_fault, 1);
    delivery("fulfillment.create", payload, 1);
    CU_ASSERT_EQUAL(answer("{\"data\":null}"), SYNC_RETRY);
    delivery("fulfillment.create", payload, 1);
    CU_ASSERT_EQUAL(answer("{\"data\":{\"fulfillmentCreate\":{\"fulfillment\":{\"id\":\"x\"},"
                           "\"userErrors\":[]}}}"), SYNC_DONE);
    delivery("fulfillment.create", payload, 1);
    CU_ASSERT_EQUAL(answer("{\"data\":{\"fulfillmentCreate\":{\"fulfillment\":null,"
                           "\"userErrors\":[{\"message\":\"is closed\"}]}}}"), SYNC_FAIL);
    CU_ASSERT_PTR_NOT_NULL(strstr(job.error, "is closed"));
}

static void TEST_inventory_level_out_of_range_is_refused(void)
{
    static const char payload[] = "{\"external_inventory_id\":\"1\",\"external_location_id\":"
                                  "\"2\",\"available\":7,\"sku\":\"A\"}";
    delivery("inventory.set", payload, 1 /* INV_READ */);
    CU_ASSERT_EQUAL(answer("{\"data\":{\"inventoryItem\":{\"inventoryLevel\":{\"quantities\":"
                           "[{\"name\":\"available\",\"quantity\":1e300}]}}}}"), SYNC_RETRY);
    CU_ASSERT_EQUAL(prev, 5); /* the compare quantity is not taken from it */
    delivery("inventory.set", payload, 1);
    CU_ASSERT_EQUAL(answer("{\"data\":{\"inventoryItem\":{\"inventoryLevel\":{\"quantities\":"
                           "[{\"name\":\"available\",\"quantity\":3}]}}}}"), SYNC_SEND);
    CU_ASSERT_EQUAL(prev, 3);
    sync_request_reset(&job.req);
}

static void TEST_pull_cursor_too_long_is_not_cut(void)
{
    static char body[1024];
    char cursor[600];
    memset(cursor, 'c', sizeof cursor - 1);
    cursor[sizeof cursor - 1] = '\0';
    delivery("", "{}", 0);
    struct sync_response res = {.status = 200, .body = body};
    res.len = (size_t)snprintf(body, sizeof body, "{\"data\":{\"orders\":{\"nodes\":[],"
                               "\"pageInfo\":{\"hasNextPage\":true,\"endCursor\":\"%s\"}}}}",
                               cursor);
    CU_ASSERT_EQUAL(sync_shopify_on_pull(&job, &res), SYNC_RETRY);
    CU_ASSERT_PTR_NULL(job.req.body);
    cJSON_Delete(job.scratch);
    /* an ordinary cursor asks for the next page with it */
    delivery("", "{}", 0);
    res.len = (size_t)snprintf(body, sizeof body, "{\"data\":{\"orders\":{\"nodes\":[],"
                               "\"pageInfo\":{\"hasNextPage\":true,\"endCursor\":\"abc\"}}}}");
    CU_ASSERT_EQUAL_FATAL(sync_shopify_on_pull(&job, &res), SYNC_SEND);
    CU_ASSERT_PTR_NOT_NULL(strstr(job.req.body, "\"after\":\"abc\""));
    cJSON_Delete(job.scratch);
    sync_request_reset(&job.req);
}

static void TEST_woocommerce_order_id_too_long_is_refused(void)
{
    static char payload[512];
    char id[200];
    memset(id, '/', sizeof id - 1); /* each escapes to 3 bytes: over the 512-byte path */
    id[sizeof id - 1] = '\0';
    snprintf(payload, sizeof payload, "{\"external_order_id\":\"%s\"}", id);
    delivery("fulfillment.create", payload, 0);
    snprintf(ch.base, sizeof ch.base, "https://shop.example.com/wp-json/wc/v3");
    ch.consumer_key = "ck";
    ch.consumer_secret = "cs";
    CU_ASSERT_EQUAL(sync_woocommerce_ops.begin(&job), SYNC_FAIL);
    CU_ASSERT_PTR_NOT_NULL(strstr(job.error, "too long"));
    sync_request_reset(&job.req);
    /* an ordinary id asks for the order's notes */
    delivery("fulfillment.create", "{\"external_order_id\":\"42\"}", 0);
    snprintf(ch.base, sizeof ch.base, "https://shop.example.com/wp-json/wc/v3");
    ch.consumer_key = "ck";
    ch.consumer_secret = "cs";
    CU_ASSERT_EQUAL_FATAL(sync_woocommerce_ops.begin(&job), SYNC_SEND);
    CU_ASSERT_PTR_NOT_NULL(strstr(job.req.url, "/orders/42/notes?per_page=100"));
    sync_request_reset(&job.req);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"THROTTLED wait is bounded", TEST_throttled_wait_is_bounded},
        {"fulfillment answer without result is retried",
         TEST_fulfillment_answer_without_result_is_retried},
        {"inventory level out of range is refused",
         TEST_inventory_level_out_of_range_is_refused},
        {"pull cursor too long is not cut", TEST_pull_cursor_too_long_is_not_cut},
        {"WooCommerce order id too long is refused",
         TEST_woocommerce_order_id_too_long_is_refused},
        {NULL, NULL},
    };
    return test_run("adapter_answers", cases);
}
