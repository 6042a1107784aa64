/* Unit tests of the outbox's delivery side on a real database: coalescing stock pushes,
 * due rows in per-aggregate order, claiming, outcomes, and recovery after a crash. */
#include "outbox_claim.h"
#include "testutil.h"

static struct test_db T;

static long long q(const char *sql)
{
    return test_sql_int(&T, sql);
}

/* A channel with SKU A mapped at location MAIN (buffer 1), stock 10. */
static void setup(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL_FATAL(test_sql(&T,
        "INSERT INTO channels (id, kind, name, created_at)"
        " VALUES (1, 'shopify', 'a.myshopify.com', 0), (2, 'shopify', 'b.myshopify.com', 0);"),
        0);
    CU_ASSERT_EQUAL(depot_sku_upsert(T.st, "A", "Alpha", NULL, "t", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_location_ensure(T.st, "MAIN", "t", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(test_sql(&T,
        "INSERT INTO channel_skus (channel_id, sku_id, external_inventory_id) VALUES (1, 1, '11');"
        "INSERT INTO channel_locations (channel_id, location_id, external_location_id, buffer)"
        " VALUES (1, 1, '77', 1);"), 0);
}

static void adjust(int n, int delta)
{
    for (int i = 0; i < n; i++)
        CU_ASSERT_EQUAL(depot_stock_adjust(T.st, "A", "MAIN", delta, "test", "t", NULL), DEPOT_OK);
}

static int due(int64_t channel, struct depot_outbox_item *items, int max)
{
    int n = -1;
    CU_ASSERT_EQUAL(depot_outbox_due(T.st, channel, 4102444800LL, max, items, &n), DEPOT_OK);
    return n;
}

static void clear(struct depot_outbox_item *items, int n)
{
    for (int i = 0; i < n; i++)
        depot_outbox_item_clear(&items[i]);
}

static void TEST_coalesce_keeps_the_newest_level(void)
{
    setup();
    adjust(50, 1);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM outbox WHERE status = 'pending'"), 50);
    int n = 0;
    int64_t since = 0;
    CU_ASSERT_EQUAL(depot_outbox_coalesce(T.st, &since, &n), DEPOT_OK);
    CU_ASSERT_EQUAL(n, 49);
    CU_ASSERT_EQUAL(since, 50);
    CU_ASSERT_EQUAL(depot_outbox_coalesce(T.st, &since, &n), DEPOT_OK);
    CU_ASSERT_EQUAL(n, 0); /* nothing new */
    struct depot_outbox_item items[8];
    int k = due(1, items, 8);
    CU_ASSERT_EQUAL_FATAL(k, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(items[0].payload, "\"available\":49")); /* 50 - buffer */
    CU_ASSERT_EQUAL(items[0].id, q("SELECT max(id) FROM outbox"));
    clear(items, k);
    CU_ASSERT_EQUAL(due(2, items, 8), 0); /* other channels see nothing */
    test_db_close(&T);
}

static void TEST_inflight_row_holds_back_its_aggregate(void)
{
    setup();
    adjust(1, 5);
    struct depot_outbox_item items[4];
    int k = due(1, items, 4);
    CU_ASSERT_EQUAL_FATAL(k, 1);
    int64_t first = items[0].id;
    clear(items, k);
    CU_ASSERT_EQUAL(depot_outbox_claim(T.st, &first, 1), DEPOT_OK);
    adjust(3, 1);
    int n = 0;
    int64_t since = first;
    CU_ASSERT_EQUAL(depot_outbox_coalesce(T.st, &since, &n), DEPOT_OK);
    CU_ASSERT_EQUAL(n, 2); /* the inflight row is never superseded */
    CU_ASSERT_EQUAL(due(1, items, 4), 0); /* waits for the inflight one */
    struct depot_outbox_outcome o = {.id = first, .result = DEPOT_OUTBOX_DONE,
                                     .has_level = 1, .level = 4};
    CU_ASSERT_EQUAL(depot_outbox_finish(T.st, &o, 1, "test"), DEPOT_OK);
    int64_t level = -1;
    CU_ASSERT_EQUAL(depot_outbox_pushed_level(T.st, 1, "inventory:1:1", &level), DEPOT_OK);
    CU_ASSERT_EQUAL(level, 4);
    k = due(1, items, 4);
    CU_ASSERT_EQUAL(k, 1);
    clear(items, k);
    test_db_close(&T);
}

static void TEST_retry_dead_and_recover(void)
{
    setup();
    adjust(1, 2);
    struct depot_outbox_item items[2];
    int k = due(1, items, 2);
    CU_ASSERT_EQUAL_FATAL(k, 1);
    int64_t id = items[0].id;
    char key[DEPOT_OUTBOX_KEY_MAX + 1];
    snprintf(key, sizeof key, "%s", items[0].key);
    clear(items, k);
    CU_ASSERT_EQUAL(depot_outbox_claim(T.st, &id, 1), DEPOT_OK);
    struct depot_outbox_outcome o = {.id = id, .result = DEPOT_OUTBOX_RETRY,
                                     .next_attempt_at = 4102444801LL};
    snprintf(o.error, sizeof o.error, "HTTP 500");
    CU_ASSERT_EQUAL(depot_outbox_finish(T.st, &o, 1, "test"), DEPOT_OK);
    CU_ASSERT_EQUAL(q("SELECT attempts FROM outbox"), 1);
    CU_ASSERT_EQUAL(due(1, items, 2), 0); /* not due yet */
    CU_ASSERT_EQUAL(test_sql(&T, "UPDATE outbox SET next_attempt_at = 0"), 0);
    CU_ASSERT_EQUAL(due(1, items, 2), 1);
    clear(items, 1);
    CU_ASSERT_EQUAL(depot_outbox_claim(T.st, &id, 1), DEPOT_OK);
    o.result = DEPOT_OUTBOX_DEAD;
    CU_ASSERT_EQUAL(depot_outbox_finish(T.st, &o, 1, "test"), DEPOT_OK);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM outbox WHERE status = 'dead' AND attempts = 2"), 1);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM audit WHERE action = 'outbox.dead'"), 1);
    CU_ASSERT_EQUAL(depot_outbox_retry(T.st, id, "test"), DEPOT_OK);
    k = due(1, items, 2);
    CU_ASSERT_EQUAL_FATAL(k, 1);
    CU_ASSERT_STRING_EQUAL(items[0].key, key); /* same idempotency key */
    clear(items, k);
    /* a crash while inflight: recovery makes it pending and due */
    CU_ASSERT_EQUAL(depot_outbox_claim(T.st, &id, 1), DEPOT_OK);
    int n = 0;
    CU_ASSERT_EQUAL(depot_outbox_recover(T.st, &n), DEPOT_OK);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(due(1, items, 2), 1);
    clear(items, 1);
    /* an outcome for a row that is no longer inflight changes nothing */
    o.result = DEPOT_OUTBOX_DONE;
    CU_ASSERT_EQUAL(depot_outbox_finish(T.st, &o, 1, "test"), DEPOT_OK);
    CU_ASSERT_EQUAL(q("SELECT status = 'pending' FROM outbox"), 1);
    CU_ASSERT_TRUE(test_verify_ok(&T));
    test_db_close(&T);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"coalesce keeps the newest level", TEST_coalesce_keeps_the_newest_level},
        {"an inflight row holds back its aggregate",
         TEST_inflight_row_holds_back_its_aggregate},
        {"retry, dead letter, retry keeps the key, recover",
         TEST_retry_dead_and_recover},
        {NULL, NULL},
    };
    return test_run("outbox_claim", cases);
}
