/* Packing store tests: which order a scanned code names (and in what order the readings
 * are tried), the packing view of an order (with its open alerts), and the check of
 * scanned counts. */
#include "pack.h"
#include "testutil.h"

static struct test_db T;

static void stock(const char *sku, const char *gtin, const char *loc, int64_t qty)
{
    CU_ASSERT_EQUAL_FATAL(depot_sku_upsert(T.st, sku, "Blue mug", gtin, "test", NULL),
                          DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_location_ensure(T.st, loc, "test", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_stock_adjust(T.st, sku, loc, qty, "initial", "test", NULL),
                          DEPOT_OK);
}

static int64_t order(const char *ext, const char *number, const char *sku1, int64_t q1,
                     const char *sku2, int64_t q2)
{
    struct depot_order_line_in lines[2] = {{.sku = sku1, .quantity = q1},
                                           {.sku = sku2, .quantity = q2}};
    struct depot_order_in in = {.external_id = ext, .number = number, .lines = lines,
                                .n_lines = sku2 ? 2 : 1};
    int64_t id = 0;
    int created;
    CU_ASSERT_EQUAL_FATAL(depot_order_create(T.st, &in, "test", &id, &created), DEPOT_OK);
    return id;
}

static int64_t find(const char *code)
{
    int64_t id = 0;
    depot_err e = depot_pack_order_find(T.st, code, &id);
    return e == DEPOT_OK ? id : -(int64_t)e;
}

static void TEST_scanned_codes_find_the_right_order(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    stock("MUG", NULL, "MAIN", 10);
    int64_t a = order("ext-a", "#2", "MUG", 1, NULL, 0); /* id 1, numbered like id 2 */
    int64_t b = order("ext-b", "#1001", "MUG", 1, NULL, 0);
    CU_ASSERT_EQUAL(find("ORDER-2"), b);   /* our label always means the id */
    CU_ASSERT_EQUAL(find("2"), a);         /* a bare number is the channel's number first */
    CU_ASSERT_EQUAL(find("#2"), a);
    CU_ASSERT_EQUAL(find("1001"), b);
    CU_ASSERT_EQUAL(find(" #1001\r\n"), b); /* a wedge's CR/LF */
    CU_ASSERT_EQUAL(find("ext-a"), a);
    CU_ASSERT_EQUAL(find("#1"), a);        /* no number "#1": the id */
    CU_ASSERT_EQUAL(find("ORDER-99"), -DEPOT_E_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(T.st), "ORDER-99"));
    CU_ASSERT_EQUAL(find("nothing"), -DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(find(""), -DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(find("A\x01" "B"), -DEPOT_E_INVALID);
    char big[200];
    memset(big, '7', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CU_ASSERT_EQUAL(find(big), -DEPOT_E_INVALID);
    test_db_close(&T);
}

static void TEST_a_reused_number_prefers_the_order_still_to_pack(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    stock("MUG", NULL, "MAIN", 10);
    int64_t live = order("ext-1", "#7", "MUG", 1, NULL, 0);
    int64_t done = order("ext-2", "#7", "MUG", 1, NULL, 0);
    CU_ASSERT_EQUAL(find("#7"), done); /* both live: the newest */
    CU_ASSERT_EQUAL(depot_order_cancel(T.st, done, "test"), DEPOT_OK);
    CU_ASSERT_EQUAL(find("#7"), live);
    test_db_close(&T);
}

static void TEST_packing_view_has_names_gtins_bins_shipments_and_alerts(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    stock("MUG", "4006381333931", "MAIN", 10);
    CU_ASSERT_EQUAL(test_sql(&T, "INSERT INTO bins (location_id, code) VALUES (1, 'A-01');"
                                 "UPDATE stock SET bin_id = 1;"), SQLITE_OK);
    int64_t id = order("ext-v", "#5", "MUG", 2, NULL, 0);
    CU_ASSERT_EQUAL(depot_order_reserve(T.st, id, 0, "test"), DEPOT_OK);
    cJSON *o = NULL;
    CU_ASSERT_EQUAL_FATAL(depot_pack_order_json(T.st, id, &o), DEPOT_OK);
    const cJSON *line = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "lines"), 0);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(line, "name")->valuestring, "Blue mug");
    CU_ASSERT_STRING_EQUAL(cJSON_GetArrayItem(cJSON_GetObjectItem(line, "gtins"), 0)->valuestring,
                           "4006381333931");
    CU_ASSERT_STRING_EQUAL(cJSON_GetArrayItem(cJSON_GetObjectItem(line, "bins"), 0)->valuestring,
                           "A-01");
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(o, "shipments")), 0);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(o, "alerts")), 0);
    cJSON_Delete(o);
    CU_ASSERT_EQUAL(test_sql(&T, "INSERT INTO order_alerts (order_id, kind, message, created_at)"
                                 " VALUES (1, 'backorder', 'MUG short by 1', 0),"
                                 " (1, 'old', 'resolved', 0);"
                                 "UPDATE order_alerts SET resolved_at = 1 WHERE kind = 'old';"),
                    SQLITE_OK);
    CU_ASSERT_EQUAL_FATAL(depot_pack_order_json(T.st, id, &o), DEPOT_OK);
    const cJSON *alerts = cJSON_GetObjectItem(o, "alerts");
    CU_ASSERT_EQUAL(cJSON_GetArraySize(alerts), 1);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(cJSON_GetArrayItem(alerts, 0), "message")->valuestring,
                           "MUG short by 1");
    cJSON_Delete(o);
    const struct depot_shipment_in ship = {.carrier = "manual"};
    int64_t sid = 0;
    CU_ASSERT_EQUAL(depot_order_ship(T.st, id, &ship, "test", &sid), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_pack_order_json(T.st, id, &o), DEPOT_OK);
    const cJSON *sh = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "shipments"), 0);
    CU_ASSERT_EQUAL((int64_t)cJSON_GetObjectItem(sh, "id")->valuedouble, sid);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(sh, "carrier")->valuestring, "manual");
    cJSON_Delete(o);
    int64_t order_of = 0;
    char status[16];
    CU_ASSERT_EQUAL(depot_pack_shipment_get(T.st, sid, &order_of, status), DEPOT_OK);
    CU_ASSERT_EQUAL(order_of, id);
    CU_ASSERT_STRING_EQUAL(status, "shipped");
    CU_ASSERT_EQUAL(depot_pack_shipment_get(T.st, sid + 1, &order_of, status),
                    DEPOT_E_NOT_FOUND);
    test_db_close(&T);
}

static depot_err verify(int64_t id, const char *s1, int64_t q1, const char *s2, int64_t q2)
{
    struct depot_pack_count c[2] = {{s1, q1}, {s2, q2}};
    return depot_pack_verify(T.st, id, c, s2 ? 2 : (s1 ? 1 : 0));
}

static void TEST_scanned_counts_must_equal_the_order(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    stock("MUG", NULL, "MAIN", 10);
    stock("PEN", NULL, "MAIN", 10);
    stock("CAP", NULL, "MAIN", 10);
    int64_t id = order("ext-c", "#9", "MUG", 2, "PEN", 1);
    CU_ASSERT_EQUAL(verify(id, "MUG", 2, "PEN", 1), DEPOT_OK);
    CU_ASSERT_EQUAL(verify(id, "PEN", 1, "MUG", 2), DEPOT_OK);
    CU_ASSERT_EQUAL(verify(id, "MUG", 1, "PEN", 1), DEPOT_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(T.st), "MUG: 1 scanned, the order has 2"));
    CU_ASSERT_EQUAL(verify(id, "MUG", 2, "PEN", 2), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(verify(id, "MUG", 2, NULL, 0), DEPOT_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(T.st), "PEN: 0 scanned"));
    struct depot_pack_count extra[3] = {{"MUG", 2}, {"PEN", 1}, {"CAP", 1}};
    CU_ASSERT_EQUAL(depot_pack_verify(T.st, id, extra, 3), DEPOT_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(T.st), "CAP is not on order"));
    extra[2].quantity = 0; /* a SKU listed with no units is no extra */
    CU_ASSERT_EQUAL(depot_pack_verify(T.st, id, extra, 3), DEPOT_OK);
    CU_ASSERT_EQUAL(verify(id, "MUG", -1, "PEN", 1), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(verify(id + 1, "MUG", 2, "PEN", 1), DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(depot_order_cancel(T.st, id, "test"), DEPOT_OK);
    CU_ASSERT_EQUAL(verify(id, "MUG", 2, "PEN", 1), DEPOT_E_STATE);
    /* An unresolved line can never be packed. */
    struct depot_order_line_in lines[1] = {{.sku = NULL, .title = "Mystery", .quantity = 1}};
    struct depot_order_in in = {.external_id = "ext-u", .lines = lines, .n_lines = 1};
    int64_t u = 0;
    int created;
    CU_ASSERT_EQUAL(depot_order_create(T.st, &in, "test", &u, &created), DEPOT_OK);
    CU_ASSERT_EQUAL(verify(u, NULL, 0, NULL, 0), DEPOT_E_STATE);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM shipments"), 0);
    test_db_close(&T);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"scanned codes find the right order", TEST_scanned_codes_find_the_right_order},
        {"a reused number prefers the order still to pack",
         TEST_a_reused_number_prefers_the_order_still_to_pack},
        {"packing view has names, GTINs, bins, shipments and alerts",
         TEST_packing_view_has_names_gtins_bins_shipments_and_alerts},
        {"scanned counts must equal the order", TEST_scanned_counts_must_equal_the_order},
        {NULL, NULL},
    };
    return test_run("pack", cases);
}
