/* Reservation tests: all-or-nothing reservation, splitting across locations, release,
 * cancel, expiry, shipping, idempotent order creation, and unresolved lines. */
#include "testutil.h"

static struct test_db T;

static void stock(const char *sku, const char *loc, int64_t qty)
{
    CU_ASSERT_EQUAL_FATAL(depot_sku_upsert(T.st, sku, "Item", NULL, "test", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_location_ensure(T.st, loc, "test", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_stock_adjust(T.st, sku, loc, qty, "initial", "test", NULL),
                          DEPOT_OK);
}

static int64_t order2(const char *ext, const char *sku1, int64_t q1, const char *sku2,
                      int64_t q2, int64_t channel)
{
    struct depot_order_line_in lines[2] = {{.sku = sku1, .quantity = q1},
                                           {.sku = sku2, .quantity = q2}};
    struct depot_order_in in = {.channel_id = channel, .external_id = ext, .lines = lines,
                                .n_lines = sku2 ? 2 : 1};
    int64_t id = 0;
    int created = -1;
    CU_ASSERT_EQUAL(depot_order_create(T.st, &in, "test", &id, &created), DEPOT_OK);
    CU_ASSERT_EQUAL(created, 1);
    return id;
}

static long long q(const char *sql)
{
    return test_sql_int(&T, sql);
}

static void TEST_reserve_is_all_or_nothing(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    stock("A", "MAIN", 5);
    stock("B", "MAIN", 1);
    int64_t id = order2("1001", "A", 2, "B", 2, 0);
    CU_ASSERT_EQUAL(depot_order_reserve(T.st, id, 0, "test"), DEPOT_E_INSUFFICIENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(T.st), "not enough B"));
    CU_ASSERT_EQUAL(q("SELECT sum(reserved) FROM stock"), 0);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM reservations"), 0);
    CU_ASSERT_EQUAL(q("SELECT status = 'open' FROM orders"), 1);
    CU_ASSERT_TRUE(test_verify_ok(&T));
    test_db_close(&T);
}

static void TEST_reserve_takes_exactly_what_exists(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    stock("A", "MAIN", 3);
    int64_t o1 = order2("1", "A", 2, NULL, 0, 0);
    int64_t o2 = order2("2", "A", 2, NULL, 0, 0);
    int64_t o3 = order2("3", "A", 1, NULL, 0, 0);
    CU_ASSERT_EQUAL(depot_order_reserve(T.st, o1, 0, "t"), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_order_reserve(T.st, o2, 0, "t"), DEPOT_E_INSUFFICIENT);
    CU_ASSERT_EQUAL(depot_order_reserve(T.st, o3, 0, "t"), DEPOT_OK);
    CU_ASSERT_EQUAL(q("SELECT reserved FROM stock"), 3);
    /* reserving twice is idempotent */
    CU_ASSERT_EQUAL(depot_order_reserve(T.st, o1, 0, "t"), DEPOT_OK);
    CU_ASSERT_EQUAL(q("SELECT reserved FROM stock"), 3);
    /* stock cannot be adjusted away from under a reservation */
    CU_ASSERT_EQUAL(depot_stock_adjust(T.st, "A", "MAIN", -1, "lost", "t", NULL),
                    DEPOT_E_INSUFFICIENT);
    CU_ASSERT_TRUE(test_verify_ok(&T));
    test_db_close(&T);
}

static void TEST_reserve_splits_across_locations(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    stock("A", "FRONT", 2);
    stock("A", "BACK", 3);
    int64_t id = order2("1", "A", 4, NULL, 0, 0);
    CU_ASSERT_EQUAL(depot_order_reserve(T.st, id, 0, "t"), DEPOT_OK);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM reservations WHERE status = 'active'"), 2);
    CU_ASSERT_EQUAL(q("SELECT sum(reserved) FROM stock"), 4);
    CU_ASSERT_EQUAL(q("SELECT reserved FROM stock JOIN locations l ON l.id = location_id"
                      " WHERE l.code = 'BACK'"), 3);
    CU_ASSERT_TRUE(test_verify_ok(&T));
    test_db_close(&T);
}

static void TEST_release_and_cancel_give_stock_back(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    stock("A", "MAIN", 5);
    int64_t o1 = order2("1", "A", 2, NULL, 0, 0);
    int64_t o2 = order2("2", "A", 3, NULL, 0, 0);
    CU_ASSERT_EQUAL(depot_order_reserve(T.st, o1, 0, "t"), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_order_reserve(T.st, o2, 0, "t"), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_order_release(T.st, o1, "t"), DEPOT_OK);
    CU_ASSERT_EQUAL(q("SELECT reserved FROM stock"), 3);
    CU_ASSERT_EQUAL(q("SELECT status = 'open' FROM orders WHERE id = 1"), 1);
    CU_ASSERT_EQUAL(depot_order_cancel(T.st, o2, "t"), DEPOT_OK);
    CU_ASSERT_EQUAL(q("SELECT reserved FROM stock"), 0);
    CU_ASSERT_EQUAL(q("SELECT status = 'cancelled' FROM orders WHERE id = 2"), 1);
    CU_ASSERT_EQUAL(depot_order_reserve(T.st, o2, 0, "t"), DEPOT_E_STATE);
    CU_ASSERT_EQUAL(depot_order_cancel(T.st, o2, "t"), DEPOT_E_STATE);
    CU_ASSERT_EQUAL(depot_order_release(T.st, 999, "t"), DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(q("SELECT on_hand FROM stock"), 5);
    CU_ASSERT_TRUE(test_verify_ok(&T));
    test_db_close(&T);
}

static void TEST_stale_reservations_expire(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    stock("A", "MAIN", 5);
    int64_t o1 = order2("1", "A", 2, NULL, 0, 0);
    int64_t o2 = order2("2", "A", 1, NULL, 0, 0);
    CU_ASSERT_EQUAL(depot_order_reserve(T.st, o1, 60, "t"), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_order_reserve(T.st, o2, 0, "t"), DEPOT_OK); /* never expires */
    int n = -1;
    CU_ASSERT_EQUAL(depot_reservations_expire(T.st, time(NULL), "t", &n), DEPOT_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(depot_reservations_expire(T.st, time(NULL) + 61, "t", &n), DEPOT_OK);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(q("SELECT reserved FROM stock"), 1);
    CU_ASSERT_EQUAL(q("SELECT status = 'open' FROM orders WHERE id = 1"), 1);
    CU_ASSERT_EQUAL(q("SELECT status = 'reserved' FROM orders WHERE id = 2"), 1);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM reservations WHERE status = 'expired'"), 1);
    CU_ASSERT_TRUE(test_verify_ok(&T));
    test_db_close(&T);
}

static void TEST_shipping_moves_reserved_and_on_hand_together(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    stock("A", "MAIN", 5);
    stock("B", "MAIN", 4);
    CU_ASSERT_EQUAL(test_sql(&T, "INSERT INTO channels (id, kind, name, created_at)"
                                 " VALUES (7, 'shopify', 'shop', 0)"), SQLITE_OK);
    int64_t id = order2("5001", "A", 2, "B", 1, 7);
    struct depot_shipment_in ship = {.carrier = "manual", .tracking_number = "1Z999"};
    int64_t sid = 0;
    CU_ASSERT_EQUAL(depot_order_ship(T.st, id, &ship, "t", &sid), DEPOT_E_STATE);
    CU_ASSERT_EQUAL(depot_order_reserve(T.st, id, 0, "t"), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_order_ship(T.st, id, &ship, "t", &sid), DEPOT_OK);
    CU_ASSERT_TRUE(sid > 0);
    CU_ASSERT_EQUAL(q("SELECT on_hand FROM stock WHERE sku_id = 1"), 3);
    CU_ASSERT_EQUAL(q("SELECT on_hand FROM stock WHERE sku_id = 2"), 3);
    CU_ASSERT_EQUAL(q("SELECT sum(reserved) FROM stock"), 0);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM ledger WHERE kind = 'ship'"), 2);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM reservations WHERE status = 'committed'"), 2);
    CU_ASSERT_EQUAL(q("SELECT status = 'shipped' FROM orders"), 1);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM outbox WHERE topic = 'fulfillment.create'"
                      " AND target_id = 7 AND aggregate = 'order:1'"
                      " AND payload ->> '$.tracking_number' = '1Z999'"
                      " AND json_array_length(payload, '$.lines') = 2"), 1);
    CU_ASSERT_EQUAL(depot_order_ship(T.st, id, &ship, "t", &sid), DEPOT_E_STATE);
    CU_ASSERT_EQUAL(depot_order_cancel(T.st, id, "t"), DEPOT_E_STATE);
    CU_ASSERT_TRUE(test_verify_ok(&T));
    test_db_close(&T);
}

static void TEST_order_creation_is_idempotent_per_channel(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    stock("A", "MAIN", 5);
    CU_ASSERT_EQUAL(test_sql(&T, "INSERT INTO channels (id, kind, name, created_at)"
                                 " VALUES (1, 'shopify', 's1', 0), (2, 'woocommerce', 'w', 0)"),
                    SQLITE_OK);
    struct depot_order_line_in line = {.sku = "A", .quantity = 1};
    struct depot_order_in in = {.channel_id = 1, .external_id = "X1", .lines = &line,
                                .n_lines = 1};
    int64_t a = 0, b = 0, c = 0;
    int created = -1;
    CU_ASSERT_EQUAL(depot_order_create(T.st, &in, "t", &a, &created), DEPOT_OK);
    CU_ASSERT_EQUAL(created, 1);
    CU_ASSERT_EQUAL(depot_order_create(T.st, &in, "t", &b, &created), DEPOT_OK);
    CU_ASSERT_EQUAL(created, 0);
    CU_ASSERT_EQUAL(a, b);
    in.channel_id = 2;
    CU_ASSERT_EQUAL(depot_order_create(T.st, &in, "t", &c, &created), DEPOT_OK);
    CU_ASSERT_EQUAL(created, 1);
    CU_ASSERT_NOT_EQUAL(a, c);
    in.channel_id = 99; /* foreign key: no such channel */
    CU_ASSERT_EQUAL(depot_order_create(T.st, &in, "t", &c, &created), DEPOT_E_INVALID);
    in.channel_id = 1;
    line.quantity = 0;
    in.external_id = "X2";
    CU_ASSERT_EQUAL(depot_order_create(T.st, &in, "t", &c, &created), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM orders"), 2);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM order_lines"), 2);
    test_db_close(&T);
}

static void TEST_unresolved_lines_need_attention(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    stock("A", "MAIN", 5);
    int64_t id = order2("1", "A", 1, "UNKNOWN-SKU", 1, 0);
    CU_ASSERT_STRING_EQUAL(depot_store_errmsg(T.st), ""); /* success reports no error */
    CU_ASSERT_EQUAL(q("SELECT status = 'needs_attention' FROM orders"), 1);
    CU_ASSERT_EQUAL(depot_order_reserve(T.st, id, 0, "t"), DEPOT_E_STATE);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(T.st), "unresolved"));
    CU_ASSERT_EQUAL(q("SELECT reserved FROM stock"), 0);
    cJSON *o = NULL;
    CU_ASSERT_EQUAL(depot_order_show_json(T.st, id, &o), DEPOT_OK);
    cJSON *l2 = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "lines"), 1);
    CU_ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(l2, "sku")));
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(l2, "title")->valuestring, "UNKNOWN-SKU");
    cJSON_Delete(o);
    test_db_close(&T);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"reserve is all or nothing", TEST_reserve_is_all_or_nothing},
        {"reserve takes exactly what exists", TEST_reserve_takes_exactly_what_exists},
        {"reserve splits across locations", TEST_reserve_splits_across_locations},
        {"release and cancel give stock back", TEST_release_and_cancel_give_stock_back},
        {"stale reservations expire", TEST_stale_reservations_expire},
        {"shipping moves reserved and on_hand together",
         TEST_shipping_moves_reserved_and_on_hand_together},
        {"order creation idempotent per channel",
         TEST_order_creation_is_idempotent_per_channel},
        {"unresolved lines need attention", TEST_unresolved_lines_need_attention},
        {NULL, NULL},
    };
    return test_run("reserve", cases);
}
