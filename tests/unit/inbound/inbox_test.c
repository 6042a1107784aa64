/* The store's inbox and ingestion on a real database: a batch is committed once with
 * duplicates recognised by delivery id and by event id + topic, deliveries it cannot keep
 * recognised before; failures are retried then dead-lettered, replay re-queues; an order
 * delivered twice is ingested once, an older update is ignored, a paid order short of
 * stock is backordered; an inventory report of our own push is an echo, a genuine one a
 * "channel" ledger adjustment; migration 0007 keeps a version-6 inbox; pruning removes
 * only old processed deliveries. */
#include <string.h>
#include "inbound.h"
#include "testutil.h"

static struct test_db t;

static int64_t channel(void)
{
    uint8_t key[DEPOT_MASTER_KEY_LEN] = {1};
    struct depot_channel_credentials cred = {.token = "t", .webhook_secret = "s"};
    int64_t id = 0;
    CU_ASSERT_EQUAL(depot_channel_add(t.st, key, "shopify", "unit.myshopify.com", NULL, NULL,
                                      &cred, "test", &id), DEPOT_OK);
    return id;
}

static struct depot_inbox_delivery delivery(int64_t ch, const char *id, const char *event,
                                            const char *body)
{
    return (struct depot_inbox_delivery){.source = "shopify:1", .delivery_id = id,
                                         .channel_id = ch, .topic = "orders/create",
                                         .event_id = event, .body = body,
                                         .body_len = strlen(body)};
}

static void TEST_batch_commit_and_duplicates(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&t), 0);
    int64_t ch = channel();
    struct depot_inbox_delivery d[4] = {
        delivery(ch, "w1", "e1", "{}"), delivery(ch, "w2", "e2", "{}"),
        delivery(ch, "w1", "e9", "{}"), /* same delivery id */
        delivery(ch, "w3", "e2", "{}"), /* same event id + topic */
    };
    int dup[4] = {0};
    CU_ASSERT_EQUAL(depot_inbox_put_batch(t.st, d, 4, dup), DEPOT_OK);
    CU_ASSERT_EQUAL(dup[0], 0);
    CU_ASSERT_EQUAL(dup[1], 0);
    CU_ASSERT_EQUAL(dup[2], 1);
    CU_ASSERT_EQUAL(dup[3], 1);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM inbox"), 2);
    CU_ASSERT_TRUE(depot_inbox_receiving(60000)); /* a put was just committed */
    struct depot_inbox_delivery bad = delivery(ch, "", NULL, "{}");
    const char *why = NULL;
    CU_ASSERT_FALSE(depot_inbox_delivery_valid(&bad, &why));
    CU_ASSERT_PTR_NOT_NULL(why);
    CU_ASSERT_EQUAL(depot_inbox_put(t.st, &bad, NULL), DEPOT_E_INVALID);
    bad = delivery(ch, "w9", "e,9", "{}"); /* ids the inbox cannot keep */
    CU_ASSERT_FALSE(depot_inbox_delivery_valid(&bad, &why));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "event id"));
    bad = delivery(ch, "w9", NULL, "{}");
    bad.body_sha256 = "not-a-hash";
    CU_ASSERT_FALSE(depot_inbox_delivery_valid(&bad, NULL));
    /* A hash the caller computed is kept as given; without one, none is kept. */
    static const char hex[] = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
    struct depot_inbox_delivery good = delivery(ch, "w9", NULL, "{}");
    good.body_sha256 = hex;
    CU_ASSERT_TRUE(depot_inbox_delivery_valid(&good, NULL));
    CU_ASSERT_EQUAL(depot_inbox_put(t.st, &good, NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM inbox WHERE delivery_id = 'w9'"
                                     " AND body_sha256 = '44136fa355b3678a1146ad16f7e8649e"
                                     "94fb4fc21fe77e8310c060f61caaff8a'"), 1);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM inbox WHERE delivery_id = 'w1'"
                                     " AND body_sha256 IS NULL"), 1);
    test_db_close(&t);
}

static void TEST_retry_then_dead_then_replay(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&t), 0);
    int64_t ch = channel();
    struct depot_inbox_delivery d = delivery(ch, "w1", NULL, "{}");
    struct depot_inbox_item it;
    int dead = -1;
    CU_ASSERT_EQUAL(depot_inbox_put(t.st, &d, NULL), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_inbox_next(t.st, 100, &it), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_inbox_fail(t.st, it.id, "database busy", 0, 2, 1000, &dead),
                    DEPOT_OK);
    CU_ASSERT_EQUAL(dead, 0);
    depot_inbox_item_free(&it);
    CU_ASSERT_EQUAL(depot_inbox_next(t.st, 999, &it), DEPOT_E_NOT_FOUND); /* not due yet */
    CU_ASSERT_EQUAL_FATAL(depot_inbox_next(t.st, 1000, &it), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_inbox_fail(t.st, it.id, "database busy", 0, 2, 2000, &dead),
                    DEPOT_OK);
    CU_ASSERT_EQUAL(dead, 1);
    int64_t id = it.id;
    depot_inbox_item_free(&it);
    CU_ASSERT_EQUAL(depot_inbox_next(t.st, 99999, &it), DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(depot_inbox_replay(t.st, id, "test"), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_inbox_replay(t.st, id, "test"), DEPOT_E_STATE);
    CU_ASSERT_EQUAL(depot_inbox_next(t.st, 0, &it), DEPOT_OK);
    CU_ASSERT_EQUAL(it.attempts, 0);
    depot_inbox_item_free(&it);
    test_db_close(&t);
}

/* Pruning deletes processed (done, ignored) deliveries received before the cut-off,
 * oldest first and at most max per call; never failed, dead, pending or recent ones. */
static void TEST_prune_keeps_what_still_matters(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&t), 0);
    int64_t ch = channel();
    static const char *const ids[] = {"done-1", "ignored-2", "dead-3", "failed-4",
                                      "pending-5", "done-6", "recent-7"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        struct depot_inbox_delivery d = delivery(ch, ids[i], NULL, "{}");
        CU_ASSERT_EQUAL(depot_inbox_put(t.st, &d, NULL), DEPOT_OK);
    }
    CU_ASSERT_EQUAL(test_sql(&t,
        "UPDATE inbox SET received_at = 1000,"
        " status = substr(delivery_id, 1, instr(delivery_id, '-') - 1)"
        " WHERE delivery_id <> 'recent-7';"
        "UPDATE inbox SET status = 'done' WHERE delivery_id = 'recent-7';"), SQLITE_OK);
    int deleted = -1;
    CU_ASSERT_EQUAL(depot_inbox_prune(t.st, 2000, 1, &deleted), DEPOT_OK);
    CU_ASSERT_EQUAL(deleted, 1);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM inbox WHERE delivery_id = 'done-1'"),
                    0);
    CU_ASSERT_EQUAL(depot_inbox_prune(t.st, 2000, 100, &deleted), DEPOT_OK);
    CU_ASSERT_EQUAL(deleted, 2); /* ignored-2, done-6 */
    CU_ASSERT_EQUAL(depot_inbox_prune(t.st, 2000, 100, &deleted), DEPOT_OK);
    CU_ASSERT_EQUAL(deleted, 0);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM inbox WHERE delivery_id IN"
                                     " ('dead-3', 'failed-4', 'pending-5', 'recent-7')"), 4);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM inbox"), 4);
    CU_ASSERT_TRUE(test_verify_ok(&t));
    test_db_close(&t);
}

static void TEST_ingest_idempotent_ordered_backordered(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&t), 0);
    int64_t ch = channel();
    CU_ASSERT_EQUAL(depot_location_ensure(t.st, "MAIN", "test", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_sku_upsert(t.st, "A", "Item A", NULL, "test", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_stock_adjust(t.st, "A", "MAIN", 3, "count", "test", NULL), DEPOT_OK);
    struct depot_ingest_line l = {.external_line_id = "1", .sku = "A", .quantity = 2};
    struct depot_ingest_order o = {.channel_id = ch, .external_id = "42", .updated_at_ms = 2000,
                                   .state = DEPOT_INGEST_PAID, .lines = &l, .n_lines = 1};
    struct depot_ingest_result r;
    CU_ASSERT_EQUAL(depot_ingest_order(t.st, 0, &o, "test", &r), DEPOT_OK);
    CU_ASSERT_TRUE(r.created && r.reserved);
    CU_ASSERT_EQUAL(depot_ingest_order(t.st, 0, &o, "test", &r), DEPOT_OK);
    CU_ASSERT_FALSE(r.created || r.reserved || r.lines_changed);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT reserved FROM stock"), 2);
    /* Older: nothing changes. */
    l.quantity = 1;
    o.updated_at_ms = 1000;
    CU_ASSERT_EQUAL(depot_ingest_order(t.st, 0, &o, "test", &r), DEPOT_OK);
    CU_ASSERT_TRUE(r.stale);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT reserved FROM stock"), 2);
    /* Newer with more than the stock: released, backordered, alert. */
    l.quantity = 5;
    o.updated_at_ms = 3000;
    CU_ASSERT_EQUAL(depot_ingest_order(t.st, 0, &o, "test", &r), DEPOT_OK);
    CU_ASSERT_TRUE(r.backordered && r.lines_changed);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT reserved FROM stock"), 0);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT backordered FROM orders"), 1);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM order_alerts WHERE kind = "
                                     "'backordered'"), 1);
    CU_ASSERT_TRUE(test_verify_ok(&t));
    test_db_close(&t);
}

static void TEST_inventory_echo_ignored_external_change_booked(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&t), 0);
    int64_t ch = channel();
    CU_ASSERT_EQUAL(depot_location_ensure(t.st, "MAIN", "test", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_sku_upsert(t.st, "A", "Item A", NULL, "test", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_stock_adjust(t.st, "A", "MAIN", 10, "count", "test", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_channel_map_sku(t.st, ch, "A", NULL, NULL, "4711", "test"), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_channel_map_location(t.st, ch, "MAIN", "99", 0, "test"), DEPOT_OK);
    int64_t sku = test_sql_int(&t, "SELECT id FROM skus WHERE code = 'A'");
    int64_t loc = test_sql_int(&t, "SELECT id FROM locations WHERE code = 'MAIN'");
    /* What the outbound worker records after telling the channel "available 7". */
    CU_ASSERT_EQUAL(depot_inventory_push_record(t.st, ch, sku, loc, 7), DEPOT_OK);
    const char *outcome = NULL;
    CU_ASSERT_EQUAL(depot_ingest_inventory_level(t.st, 0, ch, "4711", "99", 7, 600, "test",
                                                 &outcome), DEPOT_OK);
    CU_ASSERT_STRING_EQUAL(outcome, "echo");
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT on_hand FROM stock"), 10);
    /* Outside the echo window the same number is a genuine report: 10 -> 7. */
    CU_ASSERT_EQUAL(test_sql(&t, "UPDATE inventory_pushes SET pushed_at = pushed_at - 700"),
                    SQLITE_OK);
    CU_ASSERT_EQUAL(depot_ingest_inventory_level(t.st, 0, ch, "4711", "99", 7, 600, "test",
                                                 &outcome), DEPOT_OK);
    CU_ASSERT_STRING_EQUAL(outcome, "adjusted");
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT on_hand FROM stock"), 7);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM ledger WHERE delta = -3 AND"
                                     " reason = 'channel'"), 1);
    CU_ASSERT_EQUAL(depot_ingest_inventory_level(t.st, 0, ch, "4711", "99", 7, 600, "test",
                                                 &outcome), DEPOT_OK);
    CU_ASSERT_STRING_EQUAL(outcome, "unchanged");
    CU_ASSERT_EQUAL(depot_ingest_inventory_level(t.st, 0, ch, "no-such-item", "99", 7, 600,
                                                 "test", &outcome), DEPOT_OK);
    CU_ASSERT_STRING_EQUAL(outcome, "unmapped");
    CU_ASSERT_TRUE(test_verify_ok(&t));
    test_db_close(&t);
}

/* Migration 0007 lets body_sha256 be NULL by editing the table's definition in place: a
 * version-6 database's deliveries keep their ids, fields and state, the indexes stay,
 * and the migrating connection itself stores a delivery without a hash at once. */
static void TEST_version_6_inbox_survives_the_in_place_edit(void)
{
    extern const char *const depot_migrations[]; /* sqlite/migrations, embedded */
    char err[256];
    struct test_db old = {0};
    snprintf(old.dir, sizeof old.dir, "/tmp/depot-test-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(old.dir));
    snprintf(old.path, sizeof old.path, "%s/depot.db", old.dir);
    CU_ASSERT_TRUE_FATAL(depot_store_schema_latest() >= 7);
    for (int v = 0; v < 6; v++)
        CU_ASSERT_EQUAL_FATAL(test_sql(&old, depot_migrations[v]), SQLITE_OK);
    CU_ASSERT_EQUAL_FATAL(test_sql(&old,
        "PRAGMA user_version=6;"
        "INSERT INTO inbox (id, source, delivery_id, topic, event_id, headers, body,"
        " body_sha256, status, attempts, last_error, received_at, next_attempt_at, stale)"
        " VALUES (42, 'shopify:1', 'w42', 'orders/paid', 'e42', '{\"a\":1}', x'7b7d',"
        " '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', 'failed', 3,"
        " 'boom', 1700000000, 1700000099, 1)"), SQLITE_OK);
    CU_ASSERT_EQUAL_FATAL(depot_store_open(old.path, NULL, &old.st, err, sizeof err),
                          DEPOT_OK);
    CU_ASSERT_EQUAL(depot_store_schema_version(old.st), depot_store_schema_latest());
    CU_ASSERT_EQUAL(test_sql_int(&old, "SELECT count(*) FROM inbox WHERE id = 42"
        " AND source = 'shopify:1' AND delivery_id = 'w42' AND topic = 'orders/paid'"
        " AND event_id = 'e42' AND headers = '{\"a\":1}' AND body = x'7b7d'"
        " AND body_sha256 = '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'"
        " AND status = 'failed' AND attempts = 3 AND last_error = 'boom'"
        " AND received_at = 1700000000 AND next_attempt_at = 1700000099 AND stale = 1"), 1);
    CU_ASSERT_EQUAL(test_sql_int(&old, "SELECT count(*) FROM sqlite_master WHERE"
        " tbl_name = 'inbox' AND type = 'index' AND name IN ('inbox_pending',"
        " 'inbox_attention', 'inbox_event', 'inbox_retry')"), 4);
    struct depot_inbox_delivery d = {.source = "shopify:1", .delivery_id = "w44",
                                     .channel_id = 1, .topic = "orders/paid", .body = "{}",
                                     .body_len = 2};
    CU_ASSERT_EQUAL(test_sql(&old, "INSERT INTO channels (id, kind, name, config, created_at)"
                                   " VALUES (1, 'shopify', 'm.myshopify.com', '{}', 1)"),
                    SQLITE_OK);
    CU_ASSERT_EQUAL(depot_inbox_put(old.st, &d, NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(test_sql_int(&old, "SELECT count(*) FROM inbox WHERE delivery_id = 'w44'"
                                       " AND body_sha256 IS NULL"), 1);
    /* The constraints hold: the same ids again are a duplicate, a short hash is refused. */
    CU_ASSERT_NOT_EQUAL(test_sql(&old, "INSERT INTO inbox (source, delivery_id, topic, body,"
        " received_at) VALUES ('shopify:1', 'w42', 'orders/paid', x'00', 1)"), SQLITE_OK);
    CU_ASSERT_NOT_EQUAL(test_sql(&old, "INSERT INTO inbox (source, delivery_id, topic, body,"
        " body_sha256, received_at) VALUES ('shopify:1', 'w43', 'orders/paid', x'00',"
        " 'abc', 1)"), SQLITE_OK);
    CU_ASSERT_TRUE(test_verify_ok(&old));
    test_db_close(&old);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"batch commit and duplicates", TEST_batch_commit_and_duplicates},
        {"retry, then dead, then replay", TEST_retry_then_dead_then_replay},
        {"ingest: idempotent, ordered, backordered",
         TEST_ingest_idempotent_ordered_backordered},
        {"inventory: echo ignored, external change booked",
         TEST_inventory_echo_ignored_external_change_booked},
        {"version 6 inbox survives the in-place edit",
         TEST_version_6_inbox_survives_the_in_place_edit},
        {"prune keeps what still matters", TEST_prune_keeps_what_still_matters},
        {NULL, NULL},
    };
    return test_run("inbox", cases);
}
