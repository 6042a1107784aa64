/* Store tests: migrations, schema invariants, the ledger, outbox rows written with stock
 * changes, the audit hash chain and `verify`. */
#include "testutil.h"

static struct test_db T;

static void setup_sku(const char *sku, const char *loc, int64_t qty)
{
    CU_ASSERT_EQUAL_FATAL(depot_sku_upsert(T.st, sku, "Widget", NULL, "test", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_location_ensure(T.st, loc, "test", NULL), DEPOT_OK);
    if (qty)
        CU_ASSERT_EQUAL_FATAL(depot_stock_adjust(T.st, sku, loc, qty, "initial", "test", NULL),
                              DEPOT_OK);
}

/* The problems verify reports, joined, for substring checks. */
static void verify_text(char *buf, size_t n)
{
    cJSON *problems = NULL;
    depot_store_verify(T.st, &problems);
    char *s = cJSON_PrintUnformatted(problems);
    snprintf(buf, n, "%s", s ? s : "");
    free(s);
    cJSON_Delete(problems);
}

static void TEST_fresh_database_is_at_latest_schema(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL(depot_store_schema_version(T.st), depot_store_schema_latest());
    CU_ASSERT_TRUE(depot_store_schema_latest() >= 1);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM sqlite_master WHERE name IN "
        "('skus','stock','ledger','orders','order_lines','reservations','outbox','inbox',"
        "'users','api_tokens','secrets','audit','print_jobs','shipments','returns')"), 15);
    CU_ASSERT_TRUE(test_verify_ok(&T));
    test_db_close(&T);
}

static void TEST_reopen_does_not_reapply_migrations(void)
{
    char err[256];
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    setup_sku("A", "MAIN", 3);
    depot_store_close(T.st);
    CU_ASSERT_EQUAL_FATAL(depot_store_open(T.path, NULL, &T.st, err, sizeof err), DEPOT_OK);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT on_hand FROM stock"), 3);
    test_db_close(&T);
}

static void TEST_newer_database_is_refused(void)
{
    char err[256] = "", sql[64];
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    depot_store_close(T.st);
    T.st = NULL;
    snprintf(sql, sizeof sql, "PRAGMA user_version=%d", depot_store_schema_latest() + 1);
    CU_ASSERT_EQUAL(test_sql(&T, sql), SQLITE_OK);
    CU_ASSERT_EQUAL(depot_store_open(T.path, NULL, &T.st, err, sizeof err), DEPOT_E_SCHEMA);
    CU_ASSERT_PTR_NULL(T.st);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "newer"));
    /* and nothing was changed by the refusal */
    CU_ASSERT_EQUAL(test_sql_int(&T, "PRAGMA user_version"), depot_store_schema_latest() + 1);
    test_db_close(&T);
}

static void TEST_database_uses_wal(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    sqlite3 *db;
    sqlite3_stmt *s;
    sqlite3_open(T.path, &db);
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL);
    CU_ASSERT_EQUAL(sqlite3_step(s), SQLITE_ROW);
    CU_ASSERT_STRING_EQUAL(sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    sqlite3_close(db);
    test_db_close(&T);
}

static void TEST_check_constraints_refuse_bad_stock(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    setup_sku("A", "MAIN", 0);
    CU_ASSERT_EQUAL(test_sql(&T, "INSERT INTO stock (sku_id, location_id, on_hand, updated_at)"
                                 " VALUES (1, 1, -1, 0)") & 0xff, SQLITE_CONSTRAINT);
    CU_ASSERT_EQUAL(test_sql(&T, "INSERT INTO stock (sku_id, location_id, on_hand, reserved,"
                                 " updated_at) VALUES (1, 1, 2, 3, 0)") & 0xff,
                    SQLITE_CONSTRAINT);
    CU_ASSERT_EQUAL(test_sql(&T, "INSERT INTO stock (sku_id, location_id, on_hand, reserved,"
                                 " updated_at) VALUES (1, 1, 2, -1, 0)") & 0xff,
                    SQLITE_CONSTRAINT);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM stock"), 0);
    test_db_close(&T);
}

static void TEST_adjust_below_zero_is_refused_and_leaves_nothing(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    setup_sku("A", "MAIN", 5);
    long long audits = test_sql_int(&T, "SELECT count(*) FROM audit");
    CU_ASSERT_EQUAL(depot_stock_adjust(T.st, "A", "MAIN", -6, "count", "test", NULL),
                    DEPOT_E_INSUFFICIENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(T.st), "below"));
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT on_hand FROM stock"), 5);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM ledger"), 1);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM audit"), audits);
    /* a new stock row cannot start negative either */
    CU_ASSERT_EQUAL(depot_location_ensure(T.st, "B2", "test", NULL), DEPOT_OK);
    CU_ASSERT_STRING_EQUAL(depot_store_errmsg(T.st), ""); /* no stale "unknown location" */
    CU_ASSERT_EQUAL(depot_stock_adjust(T.st, "A", "B2", -1, "count", "test", NULL),
                    DEPOT_E_INSUFFICIENT);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM ledger"), 1);
    CU_ASSERT_TRUE(test_verify_ok(&T));
    test_db_close(&T);
}

static void TEST_adjust_validates_its_arguments(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    setup_sku("A", "MAIN", 1);
    CU_ASSERT_EQUAL(depot_stock_adjust(T.st, "NOPE", "MAIN", 1, "r", "t", NULL),
                    DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(depot_stock_adjust(T.st, "A", "NOWHERE", 1, "r", "t", NULL),
                    DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(depot_stock_adjust(T.st, "A", "MAIN", 0, "r", "t", NULL), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(depot_stock_adjust(T.st, "A", "MAIN", 1, "", "t", NULL), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(depot_stock_adjust(T.st, "A", "MAIN", 1, "bad\x01", "t", NULL),
                    DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(depot_sku_upsert(T.st, "B", "Thing", "4006381333931", "t", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_sku_upsert(T.st, "C", "Thing", "4006381333932", "t", NULL),
                    DEPOT_E_INVALID); /* bad check digit */
    CU_ASSERT_EQUAL(depot_sku_upsert(T.st, "C", "Thing", "4006381333931", "t", NULL),
                    DEPOT_E_CONFLICT); /* GTIN of B */
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM skus WHERE code = 'C'"), 0);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT on_hand FROM stock"), 1);
    test_db_close(&T);
}

static void TEST_ledger_is_append_only_and_sums_to_on_hand(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    setup_sku("A", "MAIN", 10);
    CU_ASSERT_EQUAL(depot_stock_adjust(T.st, "A", "MAIN", -3, "damaged", "t", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_stock_adjust(T.st, "A", "MAIN", 7, "received", "t", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT on_hand FROM stock"), 14);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT sum(delta) FROM ledger"), 14);
    CU_ASSERT_EQUAL(test_sql(&T, "UPDATE ledger SET delta = 100 WHERE id = 1") & 0xff,
                    SQLITE_CONSTRAINT);
    CU_ASSERT_EQUAL(test_sql(&T, "DELETE FROM ledger WHERE id = 2") & 0xff, SQLITE_CONSTRAINT);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT sum(delta) FROM ledger"), 14);
    CU_ASSERT_TRUE(test_verify_ok(&T));
    test_db_close(&T);
}

static void TEST_verify_finds_stock_that_disagrees_with_ledger(void)
{
    char text[2048];
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    setup_sku("A", "MAIN", 10);
    CU_ASSERT_EQUAL(test_sql(&T, "UPDATE stock SET on_hand = 11"), SQLITE_OK);
    verify_text(text, sizeof text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "ledger sums to 10"));
    CU_ASSERT_EQUAL(test_sql(&T, "UPDATE stock SET on_hand = 10, reserved = 2"), SQLITE_OK);
    verify_text(text, sizeof text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "active reservations sum to 0"));
    test_db_close(&T);
}

static void map_channel(void)
{
    CU_ASSERT_EQUAL(test_sql(&T,
        "INSERT INTO channels (id, kind, name, created_at) VALUES (1, 'shopify', 's', 0);"
        "INSERT INTO channel_skus (channel_id, sku_id, external_inventory_id)"
        "  SELECT 1, id, 'gid://shopify/InventoryItem/' || id FROM skus WHERE code = 'A';"
        "INSERT INTO channel_locations (channel_id, location_id, external_location_id, buffer)"
        "  SELECT 1, id, 'gid://shopify/Location/9', 2 FROM locations WHERE code = 'MAIN';"),
        SQLITE_OK);
}

static void TEST_stock_change_writes_outbox_in_same_transaction(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    setup_sku("A", "MAIN", 10);
    setup_sku("B", "MAIN", 10);
    map_channel();
    CU_ASSERT_EQUAL(test_sql(&T, "UPDATE stock SET buffer = 1 WHERE sku_id = 1"), SQLITE_OK);
    CU_ASSERT_EQUAL(depot_stock_adjust(T.st, "A", "MAIN", 5, "received", "t", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_stock_adjust(T.st, "B", "MAIN", 5, "received", "t", NULL), DEPOT_OK);
    /* only A is listed on the channel; available = 15 - 0 - 1 (stock) - 2 (channel) */
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM outbox"), 1);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT payload ->> '$.available' FROM outbox"), 12);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM outbox WHERE topic = "
                                     "'inventory.set' AND status = 'pending'"), 1);
    /* a refused change writes no outbox row */
    CU_ASSERT_EQUAL(depot_stock_adjust(T.st, "A", "MAIN", -100, "x", "t", NULL),
                    DEPOT_E_INSUFFICIENT);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM outbox"), 1);
    /* never negative: a buffer larger than stock pushes 0 */
    CU_ASSERT_EQUAL(depot_stock_adjust(T.st, "A", "MAIN", -13, "x", "t", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT payload ->> '$.available' FROM outbox "
                                     "ORDER BY id DESC LIMIT 1"), 0);
    test_db_close(&T);
}

static void TEST_outbox_dead_letters_can_be_retried(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    setup_sku("A", "MAIN", 10);
    map_channel();
    CU_ASSERT_EQUAL(depot_stock_adjust(T.st, "A", "MAIN", 1, "r", "t", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_stock_adjust(T.st, "A", "MAIN", 1, "r", "t", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL(test_sql(&T, "UPDATE outbox SET status = 'dead', attempts = 8,"
                                 " last_error = 'HTTP 500'"), SQLITE_OK);
    cJSON *list = NULL;
    CU_ASSERT_EQUAL(depot_outbox_list_json(T.st, 1, 100, &list), DEPOT_OK);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(list), 2);
    cJSON_Delete(list);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT idempotency_key = 'inventory:1:1:1:1' FROM outbox"
                                     " WHERE id = 1"), 1);
    CU_ASSERT_EQUAL(depot_outbox_retry(T.st, 1, "t"), DEPOT_OK);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT attempts FROM outbox WHERE id = 1"), 0);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT status = 'pending' FROM outbox WHERE id = 1"), 1);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT idempotency_key = 'inventory:1:1:1:1' FROM outbox"
                                     " WHERE id = 1"), 1);
    CU_ASSERT_EQUAL(depot_outbox_retry(T.st, 1, "t"), DEPOT_E_STATE);
    CU_ASSERT_EQUAL(depot_outbox_retry(T.st, 99, "t"), DEPOT_E_NOT_FOUND);
    int n = -1;
    CU_ASSERT_EQUAL(depot_outbox_retry_all_dead(T.st, "t", &n), DEPOT_OK);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM outbox WHERE status = 'dead'"), 0);
    test_db_close(&T);
}

static void TEST_audit_chain_detects_tampering(void)
{
    char text[2048];
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    setup_sku("A", "MAIN", 10);
    CU_ASSERT_EQUAL(depot_audit_append(T.st, "alice", "login", "user:alice", NULL), DEPOT_OK);
    CU_ASSERT_TRUE(test_sql_int(&T, "SELECT count(*) FROM audit") >= 4);
    CU_ASSERT_TRUE(test_verify_ok(&T));
    /* the table refuses edits outright */
    CU_ASSERT_EQUAL(test_sql(&T, "UPDATE audit SET actor = 'mallory' WHERE id = 2") & 0xff,
                    SQLITE_CONSTRAINT);
    /* someone with raw access drops the guard and edits a row */
    CU_ASSERT_EQUAL(test_sql(&T, "DROP TRIGGER audit_no_update;"
                                 "UPDATE audit SET actor = 'mallory' WHERE id = 2"), SQLITE_OK);
    verify_text(text, sizeof text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "row 2 was altered"));
    test_db_close(&T);

    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    setup_sku("A", "MAIN", 10);
    CU_ASSERT_EQUAL(test_sql(&T, "DROP TRIGGER audit_no_delete;"
                                 "DELETE FROM audit WHERE id = 2"), SQLITE_OK);
    verify_text(text, sizeof text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "row 2 missing"));
    test_db_close(&T);

    /* rewriting a row and recomputing only its own hash still breaks the next link */
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    setup_sku("A", "MAIN", 10);
    CU_ASSERT_EQUAL(test_sql(&T, "DROP TRIGGER audit_no_update;"
                                 "UPDATE audit SET hash = substr('f' || hash, 1, 64)"
                                 " WHERE id = 1"), SQLITE_OK);
    verify_text(text, sizeof text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "row 1 was altered"));
    test_db_close(&T);
}

static void TEST_backup_is_a_consistent_standalone_copy(void)
{
    char err[256], path[160];
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    setup_sku("A", "MAIN", 42);
    snprintf(path, sizeof path, "%s/backup.db", T.dir);
    CU_ASSERT_EQUAL(depot_store_backup(T.st, path), DEPOT_OK);
    depot_store *b = NULL;
    CU_ASSERT_EQUAL_FATAL(depot_store_open(path, NULL, &b, err, sizeof err), DEPOT_OK);
    cJSON *show = NULL;
    CU_ASSERT_EQUAL(depot_stock_show_json(b, "A", &show), DEPOT_OK);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(show, "on_hand")->valueint, 42);
    cJSON_Delete(show);
    cJSON *problems = NULL;
    CU_ASSERT_EQUAL(depot_store_verify(b, &problems), DEPOT_OK);
    cJSON_Delete(problems);
    depot_store_close(b);
    CU_ASSERT_EQUAL(depot_store_backup(T.st, "/nonexistent/dir/x.db"), DEPOT_E_IO);
    test_db_close(&T);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"fresh database is at latest schema", TEST_fresh_database_is_at_latest_schema},
        {"reopen does not reapply migrations", TEST_reopen_does_not_reapply_migrations},
        {"newer database is refused", TEST_newer_database_is_refused},
        {"database uses WAL", TEST_database_uses_wal},
        {"CHECK constraints refuse bad stock", TEST_check_constraints_refuse_bad_stock},
        {"adjust below zero refused, nothing partial",
         TEST_adjust_below_zero_is_refused_and_leaves_nothing},
        {"adjust validates arguments", TEST_adjust_validates_its_arguments},
        {"ledger append-only, sums to on_hand",
         TEST_ledger_is_append_only_and_sums_to_on_hand},
        {"verify finds stock/ledger mismatch",
         TEST_verify_finds_stock_that_disagrees_with_ledger},
        {"stock change writes outbox in same tx",
         TEST_stock_change_writes_outbox_in_same_transaction},
        {"outbox dead letters retried", TEST_outbox_dead_letters_can_be_retried},
        {"audit chain detects tampering", TEST_audit_chain_detects_tampering},
        {"backup is consistent standalone copy", TEST_backup_is_a_consistent_standalone_copy},
        {NULL, NULL},
    };
    return test_run("store", cases);
}
