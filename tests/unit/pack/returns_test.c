/* Returns received at the back office (sqlite/returns_receive.c): units of a shipped
 * order booked per disposition (sellable back through the ledger where they shipped
 * from, damaged to quarantine with an alert, unsellable written off), all or nothing,
 * never more than shipped, and only for shipped orders. */
#include "pack.h"
#include "returns_receive.h"
#include "testutil.h"

static struct test_db T;

static void stock(const char *sku, const char *loc, int64_t qty)
{
    CU_ASSERT_EQUAL_FATAL(depot_sku_upsert(T.st, sku, "Blue mug", NULL, "test", NULL),
                          DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_location_ensure(T.st, loc, "test", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_stock_adjust(T.st, sku, loc, qty, "initial", "test", NULL),
                          DEPOT_OK);
}

/* An order of 3 MUG and 1 CUP, shipped unless ship is 0. */
static int64_t order(int ship)
{
    struct depot_order_line_in lines[2] = {{.sku = "MUG", .quantity = 3},
                                           {.sku = "CUP", .quantity = 1}};
    struct depot_order_in in = {.external_id = ship ? "ext-s" : "ext-o", .number = "#5",
                                .lines = lines, .n_lines = 2};
    int64_t id = 0, sid = 0;
    int created;
    CU_ASSERT_EQUAL_FATAL(depot_order_create(T.st, &in, "test", &id, &created), DEPOT_OK);
    if (ship) {
        const struct depot_shipment_in s = {.carrier = "manual"};
        CU_ASSERT_EQUAL_FATAL(depot_order_reserve(T.st, id, 0, "test"), DEPOT_OK);
        CU_ASSERT_EQUAL_FATAL(depot_order_ship(T.st, id, &s, "test", &sid), DEPOT_OK);
    }
    return id;
}

static long long q(const char *sql)
{
    return test_sql_int(&T, sql);
}

#define ON_HAND(sku, loc)                                                                \
    q("SELECT coalesce(sum(on_hand), 0) FROM stock s JOIN skus k ON k.id = s.sku_id"    \
      " JOIN locations l ON l.id = s.location_id WHERE k.code = '" sku "' AND l.code = '" \
      loc "'")

static void TEST_each_disposition_is_booked_where_it_belongs(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    stock("MUG", "MAIN", 10);
    stock("CUP", "MAIN", 5);
    int64_t id = order(1);
    CU_ASSERT_EQUAL(ON_HAND("MUG", "MAIN"), 7);
    const struct depot_return_unit units[] = {
        {"MUG", DEPOT_RETURN_SELLABLE}, {"MUG", DEPOT_RETURN_DAMAGED},
        {"MUG", DEPOT_RETURN_SELLABLE}, {"CUP", DEPOT_RETURN_UNSELLABLE}};
    cJSON *out = NULL;
    CU_ASSERT_EQUAL_FATAL(depot_return_receive(T.st, id, units, 4, "user:sue", &out),
                          DEPOT_OK);
    /* Grouped per SKU and disposition, in the order first scanned. */
    cJSON *rows = cJSON_GetObjectItemCaseSensitive(out, "returns");
    CU_ASSERT_EQUAL(cJSON_GetArraySize(rows), 3);
    cJSON *first = cJSON_GetArrayItem(rows, 0);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItemCaseSensitive(first, "sku")->valuestring, "MUG");
    CU_ASSERT_EQUAL(cJSON_GetObjectItemCaseSensitive(first, "quantity")->valueint, 2);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItemCaseSensitive(first, "disposition")->valuestring,
                           "sellable");
    cJSON_Delete(out);

    CU_ASSERT_EQUAL(ON_HAND("MUG", "MAIN"), 9);   /* two sellable back on the shelf */
    CU_ASSERT_EQUAL(ON_HAND("CUP", "MAIN"), 4);   /* written off: not back */
    CU_ASSERT_EQUAL(ON_HAND("MUG", "QUARANTINE"), 0); /* damaged: not sellable stock */
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM returns r JOIN locations l ON l.id = r.location_id"
                      " WHERE r.disposition = 'damaged' AND l.code = 'QUARANTINE'"
                      " AND r.quantity = 1"), 1);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM returns WHERE disposition = 'discard'"
                      " AND actor = 'user:sue'"), 1);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM ledger WHERE kind = 'return' AND delta = 2"), 1);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM order_alerts WHERE kind = 'return_damaged'"), 1);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM audit WHERE action = 'return.create'"
                      " AND actor = 'user:sue'"), 3);

    /* The packing view counts what came back. */
    cJSON *view = NULL;
    CU_ASSERT_EQUAL_FATAL(depot_pack_order_json(T.st, id, &view), DEPOT_OK);
    cJSON *line = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(view, "lines"), 0);
    CU_ASSERT_EQUAL(cJSON_GetObjectItemCaseSensitive(line, "returned")->valueint, 3);
    cJSON_Delete(view);
    CU_ASSERT(test_verify_ok(&T));
    test_db_close(&T);
}

static void TEST_refusals_change_nothing(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    stock("MUG", "MAIN", 10);
    stock("CUP", "MAIN", 5);
    stock("PLATE", "MAIN", 5);
    int64_t open = order(0), shipped = order(1);
    cJSON *out = NULL;
    const struct depot_return_unit mug = {"MUG", DEPOT_RETURN_SELLABLE};
    CU_ASSERT_EQUAL(depot_return_receive(T.st, open, &mug, 1, "test", &out), DEPOT_E_STATE);
    CU_ASSERT_EQUAL(depot_return_receive(T.st, 999, &mug, 1, "test", &out),
                    DEPOT_E_NOT_FOUND);
    /* A SKU not on the order, even next to good units: nothing at all is booked. */
    const struct depot_return_unit mixed[] = {{"MUG", DEPOT_RETURN_SELLABLE},
                                              {"PLATE", DEPOT_RETURN_SELLABLE}};
    CU_ASSERT_EQUAL(depot_return_receive(T.st, shipped, mixed, 2, "test", &out),
                    DEPOT_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(T.st), "PLATE"));
    CU_ASSERT_EQUAL(depot_return_receive(T.st, shipped, (const struct depot_return_unit[]){
                        {"NOPE", DEPOT_RETURN_SELLABLE}}, 1, "test", &out), DEPOT_E_INVALID);
    /* More than shipped, across two receipts: 2 now, then 2 more of 3 refused. */
    const struct depot_return_unit two[] = {{"MUG", DEPOT_RETURN_SELLABLE},
                                            {"MUG", DEPOT_RETURN_DAMAGED}};
    CU_ASSERT_EQUAL_FATAL(depot_return_receive(T.st, shipped, two, 2, "test", &out), DEPOT_OK);
    cJSON_Delete(out);
    out = NULL;
    CU_ASSERT_EQUAL(depot_return_receive(T.st, shipped, two, 2, "test", &out),
                    DEPOT_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(T.st), "shipped 3"));
    CU_ASSERT_PTR_NULL(out);
    /* Bad input. */
    CU_ASSERT_EQUAL(depot_return_receive(T.st, shipped, two, 0, "test", &out), DEPOT_E_INVALID);
    const struct depot_return_unit bad[] = {{NULL, DEPOT_RETURN_SELLABLE},
                                            {"MUG", (enum depot_return_disposition)7}};
    CU_ASSERT_EQUAL(depot_return_receive(T.st, shipped, bad, 1, "test", &out), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(depot_return_receive(T.st, shipped, bad + 1, 1, "test", &out),
                    DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM returns"), 2);
    CU_ASSERT_EQUAL(ON_HAND("MUG", "MAIN"), 8);
    CU_ASSERT(test_verify_ok(&T));
    test_db_close(&T);
}

static void TEST_disposition_words(void)
{
    enum depot_return_disposition d;
    CU_ASSERT_EQUAL(depot_return_disposition_parse("sellable", &d), 0);
    CU_ASSERT_EQUAL(d, DEPOT_RETURN_SELLABLE);
    CU_ASSERT_EQUAL(depot_return_disposition_parse("damaged", &d), 0);
    CU_ASSERT_EQUAL(d, DEPOT_RETURN_DAMAGED);
    CU_ASSERT_EQUAL(depot_return_disposition_parse("unsellable", &d), 0);
    CU_ASSERT_EQUAL(d, DEPOT_RETURN_UNSELLABLE);
    CU_ASSERT_EQUAL(depot_return_disposition_parse("restock", &d), -1);
    CU_ASSERT_EQUAL(depot_return_disposition_parse(NULL, &d), -1);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"each disposition is booked where it belongs",
         TEST_each_disposition_is_booked_where_it_belongs},
        {"refusals change nothing", TEST_refusals_change_nothing},
        {"disposition words", TEST_disposition_words},
        {NULL, NULL},
    };
    return test_run("returns", cases);
}
