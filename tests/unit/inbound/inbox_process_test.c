/* Inbox processing (sync/inbox_process.c) on a real database: a transient store failure
 * is retried with a doubling backoff and dead-lettered after max_attempts; a malformed
 * payload is dead at once; a replayed dead letter is processed once, and replaying a
 * delivery that was already applied changes nothing; a backstop pull goes the same way;
 * store connections commit with synchronous=FULL. Failures are injected with a
 * trigger calling an SQL function that answers SQLITE_BUSY while failures_left > 0. */
#include <string.h>
#include "inbound.h"
#include "inbox_worker.h"
#include "testutil.h"

static struct test_db t;
static int failures_left;
static sqlite3 *last_opened; /* the connection most recently opened by this process */

static void inject_busy(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    if (failures_left > 0) {
        failures_left--;
        sqlite3_result_error(ctx, "injected: database busy", -1);
        sqlite3_result_error_code(ctx, SQLITE_BUSY);
        return;
    }
    sqlite3_result_null(ctx);
}

/* Registered on every connection this process opens, the store's included. */
static int register_inject(sqlite3 *db, char **err, const struct sqlite3_api_routines *api)
{
    (void)err;
    (void)api;
    last_opened = db;
    return sqlite3_create_function(db, "inject_busy", 0, SQLITE_UTF8, NULL, inject_busy,
                                   NULL, NULL);
}

static const char order_json[] =
    "{\"id\":77,\"updated_at\":\"2030-01-01T00:00:00Z\",\"financial_status\":\"paid\","
    "\"line_items\":[{\"id\":1,\"sku\":\"A\",\"quantity\":1}]}";

static int64_t setup(void)
{
    uint8_t key[DEPOT_MASTER_KEY_LEN] = {1};
    struct depot_channel_credentials cred = {.token = "t", .webhook_secret = "s"};
    int64_t ch = 0;
    CU_ASSERT_EQUAL_FATAL(test_db_open(&t), 0);
    CU_ASSERT_EQUAL(depot_channel_add(t.st, key, "shopify", "unit.myshopify.com", NULL, NULL,
                                      &cred, "test", &ch), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_location_ensure(t.st, "MAIN", "test", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_sku_upsert(t.st, "A", "Item A", NULL, "test", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_stock_adjust(t.st, "A", "MAIN", 5, "count", "test", NULL), DEPOT_OK);
    return ch;
}

static void put(int64_t ch, const char *delivery_id, const char *body)
{
    struct depot_inbox_delivery d = {.source = "shopify:1", .delivery_id = delivery_id,
                                     .channel_id = ch, .topic = "orders/create",
                                     .body = body, .body_len = strlen(body)};
    CU_ASSERT_EQUAL(depot_inbox_put(t.st, &d, NULL), DEPOT_OK);
}

static struct depot_inbox_config config(void)
{
    struct depot_inbox_config cfg;
    depot_inbox_config_defaults(&cfg);
    cfg.max_attempts = 3;
    cfg.retry_base_ms = 4000;
    return cfg;
}

/* Processes every due delivery (a batch stops after DEPOT_INBOX_BATCH_MS of work, which
 * a slow run such as valgrind's reaches early); returns how many were processed. */
static int process_all(const struct depot_inbox_config *cfg)
{
    int total = 0, n;
    while ((n = depot_inbox_process_batch(t.st, cfg, 64, 0)) > 0)
        total += n;
    return n < 0 ? -1 : total;
}

/* Seconds from the failed attempt to the next one (base 4 s, +1 s rounding, +-1 s tick). */
static long long retry_delay(void)
{
    return test_sql_int(&t, "SELECT next_attempt_at - processed_at FROM inbox");
}

static void TEST_transient_failure_backs_off_then_dead_letters(void)
{
    int64_t ch = setup();
    struct depot_inbox_config cfg = config();
    put(ch, "w1", order_json);
    CU_ASSERT_EQUAL(test_sql(&t, "CREATE TRIGGER inject BEFORE INSERT ON orders"
                                 " BEGIN SELECT inject_busy(); END"), SQLITE_OK);
    failures_left = 100;
    CU_ASSERT_EQUAL(depot_inbox_process_batch(t.st, &cfg, 64, 0), 1);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM inbox WHERE status = 'failed'"
                                     " AND attempts = 1"), 1);
    long long first = retry_delay();
    CU_ASSERT(first >= 4 && first <= 6);
    /* Not due yet: nothing is processed. */
    CU_ASSERT_EQUAL(depot_inbox_process_batch(t.st, &cfg, 64, 0), 0);
    /* Time passes (the retry is due): the second failure waits twice as long. */
    CU_ASSERT_EQUAL(test_sql(&t, "UPDATE inbox SET next_attempt_at = 0"), SQLITE_OK);
    CU_ASSERT_EQUAL(depot_inbox_process_batch(t.st, &cfg, 64, 0), 1);
    long long second = retry_delay();
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT attempts FROM inbox"), 2);
    CU_ASSERT(second >= 8 && second <= 10);
    /* The third failure reaches max_attempts: a dead letter with its error. */
    CU_ASSERT_EQUAL(test_sql(&t, "UPDATE inbox SET next_attempt_at = 0"), SQLITE_OK);
    CU_ASSERT_EQUAL(depot_inbox_process_batch(t.st, &cfg, 64, 0), 1);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM inbox WHERE status = 'dead'"
                                     " AND attempts = 3 AND last_error LIKE '%busy%'"), 1);
    CU_ASSERT_EQUAL(depot_inbox_process_batch(t.st, &cfg, 64, 0), 0);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM orders"), 0);
    /* The store recovers; the dead letter is replayed and applied once. */
    failures_left = 0;
    int64_t id = test_sql_int(&t, "SELECT id FROM inbox");
    CU_ASSERT_EQUAL(depot_inbox_replay(t.st, id, "test"), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_inbox_process_batch(t.st, &cfg, 64, 0), 1);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT status = 'done' FROM inbox"), 1);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM orders WHERE status = "
                                     "'reserved'"), 1);
    CU_ASSERT_EQUAL(depot_inbox_replay(t.st, id, "test"), DEPOT_E_STATE);
    CU_ASSERT_TRUE(test_verify_ok(&t));
    test_db_close(&t);
}

static void TEST_malformed_payload_is_dead_at_once(void)
{
    int64_t ch = setup();
    struct depot_inbox_config cfg = config();
    put(ch, "w1", "{\"id\": 1, \"line_items\": [");
    put(ch, "w2", "{\"id\": 2, \"line_items\": [{\"id\": 1, \"quantity\": \"two\"}]}");
    CU_ASSERT_EQUAL(process_all(&cfg), 2);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM inbox WHERE status = 'dead'"
                                     " AND attempts = 1"), 2);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM inbox WHERE last_error LIKE"
                                     " 'malformed JSON at byte %'"), 1);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM inbox WHERE last_error ="
                                     " 'line_items[0].quantity must be a number'"), 1);
    test_db_close(&t);
}

static void TEST_replaying_an_applied_delivery_changes_nothing(void)
{
    int64_t ch = setup();
    struct depot_inbox_config cfg = config();
    put(ch, "w1", order_json);
    CU_ASSERT_EQUAL(depot_inbox_process_batch(t.st, &cfg, 64, 0), 1);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT reserved FROM stock"), 1);
    /* As if it had been dead-lettered after its effect was applied. */
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(test_sql(&t, "UPDATE inbox SET status = 'dead'"), SQLITE_OK);
        int n = 0;
        CU_ASSERT_EQUAL(depot_inbox_replay_all_dead(t.st, "test", &n), DEPOT_OK);
        CU_ASSERT_EQUAL(n, 1);
        CU_ASSERT_EQUAL(depot_inbox_process_batch(t.st, &cfg, 64, 0), 1);
    }
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM orders"), 1);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT reserved FROM stock"), 1);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM reservations"), 1);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM audit WHERE action ="
                                     " 'order.ingest'"), 1);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM audit WHERE action ="
                                     " 'inbox.replay'"), 3);
    CU_ASSERT_TRUE(test_verify_ok(&t));
    test_db_close(&t);
}

static int pragma_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    int v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* A delivery is acknowledged when depot_inbox_put_batch returns: the store's connections
 * must fsync the WAL at every commit (synchronous=FULL), not only at checkpoints. */
static void TEST_store_connections_commit_with_synchronous_full(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&t), 0);
    sqlite3 *store_db = last_opened;
    CU_ASSERT_PTR_NOT_NULL_FATAL(store_db);
    CU_ASSERT_EQUAL(pragma_int(store_db, "PRAGMA synchronous"), 2); /* FULL */
    sqlite3_stmt *s;
    CU_ASSERT_EQUAL_FATAL(sqlite3_prepare_v2(store_db, "PRAGMA journal_mode", -1, &s, NULL),
                          SQLITE_OK);
    CU_ASSERT_EQUAL(sqlite3_step(s), SQLITE_ROW);
    CU_ASSERT_STRING_EQUAL((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    test_db_close(&t);
}

static void TEST_backstop_pull_takes_the_same_idempotent_path(void)
{
    int64_t ch = setup();
    struct depot_inbox_config cfg = config();
    put(ch, "w1", order_json);
    /* The outbound worker's periodic pull finds the same order and queues it. */
    struct depot_inbox_delivery d = {.source = "backstop:1", .delivery_id = "77@1893456000000",
                                     .channel_id = ch, .topic = "orders/updated",
                                     .body = order_json, .body_len = strlen(order_json)};
    CU_ASSERT_EQUAL(depot_inbox_put(t.st, &d, NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(process_all(&cfg), 2);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM inbox WHERE status = 'done'"), 2);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT count(*) FROM orders"), 1);
    CU_ASSERT_EQUAL(test_sql_int(&t, "SELECT reserved FROM stock"), 1);
    test_db_close(&t);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"transient failure backs off, then dead-letters",
         TEST_transient_failure_backs_off_then_dead_letters},
        {"malformed payload is dead at once", TEST_malformed_payload_is_dead_at_once},
        {"replaying an applied delivery changes nothing",
         TEST_replaying_an_applied_delivery_changes_nothing},
        {"store connections commit with synchronous=FULL",
         TEST_store_connections_commit_with_synchronous_full},
        {"backstop pull takes the same idempotent path",
         TEST_backstop_pull_takes_the_same_idempotent_path},
        {NULL, NULL},
    };
    sqlite3_auto_extension((void (*)(void))register_inject);
    return test_run("inbox_process", cases);
}
