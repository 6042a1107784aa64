/* Unit tests of carrier shipments in the store (sqlite/shipments.c, shipment_flow.c) on
 * a real database: shipping with a label request is one transaction, the channel's
 * fulfillment waits for the label and leaves with the tracking number, a void withdraws
 * a fulfillment the channel has not heard of and releases or restocks the goods as
 * chosen, and tracking polls are bounded in number and rate and stop at delivery. */
#include "carriers.h"
#include "shipments.h"
#include "testutil.h"

static const uint8_t KEY[DEPOT_MASTER_KEY_LEN] = {9};
static struct test_db T;

/* A Shopify channel, MUG stock (10 at MAIN), a FedEx account, and one reserved order of
 * the channel with 3 MUGs and a ship-to address. Returns the order id. */
static int64_t setup(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL_FATAL(depot_sku_upsert(T.st, "MUG", "Blue mug", NULL, "t", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_location_ensure(T.st, "MAIN", "t", NULL), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_stock_adjust(T.st, "MUG", "MAIN", 10, "initial", "t", NULL),
                          DEPOT_OK);
    struct depot_channel_credentials cred = {.token = "shpat_x", .webhook_secret = "whsec"};
    int64_t channel = 0, carrier = 0, id = 0;
    CU_ASSERT_EQUAL_FATAL(depot_channel_add(T.st, KEY, "shopify", "s.myshopify.com", NULL,
                                            NULL, &cred, "t", &channel), DEPOT_OK);
    struct depot_carrier_in ci = {.kind = "fedex", .client_id = "id", .client_secret = "sec",
                                  .account = "1"};
    CU_ASSERT_EQUAL_FATAL(depot_carrier_add(T.st, KEY, &ci, "t", &carrier), DEPOT_OK);
    struct depot_order_line_in line = {.sku = "MUG", .quantity = 3, .external_line_id = "L1"};
    struct depot_order_in in = {.channel_id = channel, .external_id = "9001", .lines = &line,
                                .n_lines = 1,
                                .ship_to_json = "{\"name\":\"Ada\",\"address1\":\"Hauptstr. 5\","
                                                "\"city\":\"Hamburg\",\"zip\":\"20095\","
                                                "\"country_code\":\"DE\"}"};
    int created;
    CU_ASSERT_EQUAL_FATAL(depot_order_create(T.st, &in, "t", &id, &created), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_order_reserve(T.st, id, 0, "t"), DEPOT_OK);
    return id;
}

static const struct depot_label_in FEDEX = {.carrier = "fedex", .weight_kg = 1.5,
                                            .format = "zpl", .printer = "station-1"};

static long long q(const char *sql)
{
    return test_sql_int(&T, sql);
}

static void TEST_fulfillment_waits_for_the_label_and_leaves_with_its_tracking(void)
{
    int64_t order = setup(), sid = 0, req = 0, job_id = 0;
    CU_ASSERT_EQUAL_FATAL(depot_order_ship_labelled(T.st, order, &FEDEX, "t", &sid, &req),
                          DEPOT_OK);
    CU_ASSERT(sid > 0 && req > 0);
    /* Held: not due before the hold runs out, marked as waiting. */
    CU_ASSERT_EQUAL(q("SELECT next_attempt_at - strftime('%s','now') > 3600 FROM outbox"
                      " WHERE topic = 'fulfillment.create'"), 1);
    CU_ASSERT_EQUAL(q("SELECT payload ->> '$.awaiting_label' FROM outbox"
                      " WHERE topic = 'fulfillment.create'"), 1);
    struct depot_label_job job;
    CU_ASSERT_EQUAL_FATAL(depot_label_claim(T.st, req, 120, &job), DEPOT_OK);
    CU_ASSERT_EQUAL(job.shipment_id, sid);
    CU_ASSERT_EQUAL(depot_label_store(T.st, &job, "794600001111", "zpl", "^XA^XZ", 6, "t",
                                      &job_id), DEPOT_OK);
    depot_label_job_free(&job);
    CU_ASSERT(job_id > 0);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM outbox WHERE topic = 'fulfillment.create'"
                      " AND status = 'pending' AND next_attempt_at <= strftime('%s','now')"
                      " AND payload ->> '$.tracking_number' = '794600001111'"
                      " AND payload ->> '$.carrier' = 'fedex'"
                      " AND payload ->> '$.awaiting_label' IS NULL"), 1);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM print_jobs WHERE printer = 'station-1'"), 1);
    CU_ASSERT(test_verify_ok(&T));
    test_db_close(&T);
}

static void TEST_ship_and_label_request_are_one_transaction(void)
{
    int64_t order = setup(), sid = 0, req = 0;
    struct depot_label_in unknown = FEDEX;
    unknown.carrier = "dhl"; /* no such account */
    CU_ASSERT_EQUAL(depot_order_ship_labelled(T.st, order, &unknown, "t", &sid, &req),
                    DEPOT_E_NOT_FOUND);
    struct depot_label_in weightless = FEDEX;
    weightless.weight_kg = 0;
    CU_ASSERT_EQUAL(depot_order_ship_labelled(T.st, order, &weightless, "t", &sid, &req),
                    DEPOT_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(T.st), "weight"));
    /* Nothing shipped: no shipment, no stock taken, the order still reserved. */
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM shipments"), 0);
    CU_ASSERT_EQUAL(q("SELECT on_hand FROM stock"), 10);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM outbox WHERE topic = 'fulfillment.create'"), 0);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM orders WHERE status = 'reserved'"), 1);
    /* The store is usable afterwards (the batch was ended). */
    CU_ASSERT_EQUAL(depot_order_ship_labelled(T.st, order, &FEDEX, "t", &sid, &req), DEPOT_OK);
    CU_ASSERT_EQUAL(q("SELECT on_hand FROM stock"), 7);
    CU_ASSERT(test_verify_ok(&T));
    test_db_close(&T);
}

/* Ships with a label stored; returns the shipment id. */
static int64_t labelled(int64_t order)
{
    int64_t sid = 0, req = 0;
    CU_ASSERT_EQUAL_FATAL(depot_order_ship_labelled(T.st, order, &FEDEX, "t", &sid, &req),
                          DEPOT_OK);
    struct depot_label_job job;
    CU_ASSERT_EQUAL_FATAL(depot_label_claim(T.st, req, 120, &job), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_label_store(T.st, &job, "794600002222", "zpl", "^XA^XZ", 6, "t",
                                      NULL), DEPOT_OK);
    depot_label_job_free(&job);
    return sid;
}

static void TEST_void_release_puts_the_goods_back_reserved_for_the_order(void)
{
    int64_t order = setup(), sid = labelled(order);
    CU_ASSERT_EQUAL(q("SELECT on_hand * 100 + reserved FROM stock"), 700);
    struct depot_void_result r;
    CU_ASSERT_EQUAL(depot_shipment_void_finish(T.st, sid, DEPOT_VOID_RELEASE, "t", &r),
                    DEPOT_OK);
    CU_ASSERT_STRING_EQUAL(r.order_status, "reserved");
    CU_ASSERT_EQUAL(r.channel_told, 0);
    CU_ASSERT_EQUAL(q("SELECT on_hand * 100 + reserved FROM stock"), 1003);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM orders WHERE status = 'reserved'"), 1);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM ledger WHERE kind = 'return' AND delta = 3"), 1);
    /* The channel never hears of the voided shipment. */
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM outbox WHERE topic = 'fulfillment.create'"
                      " AND status = 'superseded'"), 1);
    CU_ASSERT_EQUAL(depot_shipment_void_finish(T.st, sid, DEPOT_VOID_RELEASE, "t", &r),
                    DEPOT_E_STATE);
    CU_ASSERT_EQUAL(q("SELECT on_hand FROM stock"), 10);
    /* Packed again: a new shipment with a new label. */
    int64_t again = labelled(order);
    CU_ASSERT(again != sid);
    CU_ASSERT_EQUAL(q("SELECT on_hand * 100 + reserved FROM stock"), 700);
    CU_ASSERT(test_verify_ok(&T));
    test_db_close(&T);
}

static void TEST_void_restock_makes_the_goods_available_and_reopens_the_order(void)
{
    int64_t order = setup(), sid = labelled(order);
    /* The fulfillment already went to the channel. */
    CU_ASSERT_EQUAL(test_sql(&T, "UPDATE outbox SET status = 'done' WHERE topic ="
                                 " 'fulfillment.create'"), SQLITE_OK);
    struct depot_void_result r;
    CU_ASSERT_EQUAL(depot_shipment_void_finish(T.st, sid, DEPOT_VOID_RESTOCK, "t", &r),
                    DEPOT_OK);
    CU_ASSERT_STRING_EQUAL(r.order_status, "open");
    CU_ASSERT_EQUAL(r.channel_told, 1);
    CU_ASSERT_EQUAL(q("SELECT on_hand * 100 + reserved FROM stock"), 1000);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM orders WHERE status = 'open'"), 1);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM shipments WHERE status = 'voided'"), 1);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM audit WHERE action = 'shipment.voided'"
                      " AND detail ->> '$.then' = 'restock'"), 1);
    CU_ASSERT(test_verify_ok(&T));
    test_db_close(&T);
}

static void TEST_void_request_is_durable_and_its_latest_choice_wins(void)
{
    int64_t order = setup(), sid = 0, req = 0, again = 0;
    CU_ASSERT_EQUAL_FATAL(depot_order_ship_labelled(T.st, order, &FEDEX, "t", &sid, &req),
                          DEPOT_OK);
    /* No label yet: nothing to void at the carrier. */
    CU_ASSERT_EQUAL(depot_void_request(T.st, sid, DEPOT_VOID_NONE, "t", &req), DEPOT_E_STATE);
    CU_ASSERT_EQUAL(depot_void_request(T.st, 99, DEPOT_VOID_NONE, "t", &req),
                    DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(test_sql(&T, "UPDATE outbox SET status = 'done' WHERE topic ="
                                 " 'label.create'; UPDATE shipments SET tracking_number ="
                                 " 'T1', label = x'00', label_format = 'zpl'"), SQLITE_OK);
    CU_ASSERT_EQUAL(depot_void_request(T.st, sid, DEPOT_VOID_NONE, "t", &req), DEPOT_OK);
    CU_ASSERT_EQUAL(test_sql(&T, "UPDATE outbox SET next_attempt_at = 9e9 WHERE topic ="
                                 " 'label.void'"), SQLITE_OK);
    CU_ASSERT_EQUAL(depot_void_request(T.st, sid, DEPOT_VOID_RELEASE, "t", &again), DEPOT_OK);
    CU_ASSERT_EQUAL(again, req);
    struct depot_label_job job;
    CU_ASSERT_EQUAL_FATAL(depot_void_claim(T.st, req, 120, &job), DEPOT_OK); /* due now */
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(job.payload, "then")->valuestring, "release");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(job.payload, "tracking_number")->valuestring,
                           "T1");
    /* While claimed it is not claimed twice. */
    struct depot_label_job other;
    CU_ASSERT_EQUAL(depot_void_claim(T.st, 0, 120, &other), DEPOT_E_NOT_FOUND);
    struct depot_void_result r;
    CU_ASSERT_EQUAL(depot_void_done(T.st, &job, "t", &r), DEPOT_OK);
    depot_label_job_free(&job);
    CU_ASSERT_STRING_EQUAL(r.order_status, "reserved");
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM outbox WHERE topic = 'label.void'"
                      " AND status = 'done'"), 1);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM shipments WHERE status = 'voided'"), 1);
    CU_ASSERT_EQUAL(depot_void_request(T.st, sid, DEPOT_VOID_NONE, "t", &req), DEPOT_E_STATE);
    CU_ASSERT(test_verify_ok(&T));
    test_db_close(&T);
}

static void TEST_void_none_leaves_the_goods(void)
{
    int64_t order = setup(), sid = labelled(order);
    CU_ASSERT_EQUAL(depot_shipment_mark_voided(T.st, sid, "t"), DEPOT_OK);
    CU_ASSERT_EQUAL(q("SELECT on_hand * 100 + reserved FROM stock"), 700);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM orders WHERE status = 'shipped'"), 1);
    enum depot_void_then t;
    CU_ASSERT_EQUAL(depot_void_then_parse("restock", &t), 0);
    CU_ASSERT_EQUAL(t, DEPOT_VOID_RESTOCK);
    CU_ASSERT_EQUAL(depot_void_then_parse("burn", &t), -1);
    CU_ASSERT_EQUAL(depot_shipment_void_finish(T.st, sid, (enum depot_void_then)7, "t", NULL),
                    DEPOT_E_INVALID);
    test_db_close(&T);
}

static void TEST_tracking_polls_are_bounded_and_stop_at_delivery(void)
{
    setup();
    /* Five labelled shipments of local orders (no channel). */
    CU_ASSERT_EQUAL(test_sql(&T,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5)"
        " INSERT INTO shipments (order_id, carrier, tracking_number, status, label_format,"
        " label, created_at, updated_at) SELECT 1, 'fedex', 'T' || i, 'shipped', 'zpl',"
        " x'00', 0, 0 FROM n"), SQLITE_OK);
    cJSON *doc = NULL;
    CU_ASSERT_EQUAL(depot_shipments_to_track(T.st, 1800, 3, &doc), DEPOT_OK);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "items")), 3); /* batch bound */
    cJSON *it;
    int changed = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(doc, "items")) {
        int64_t id = (int64_t)cJSON_GetObjectItem(it, "id")->valuedouble;
        CU_ASSERT_EQUAL(depot_shipment_tracked(T.st, id, id == 1 ? "delivered" : "in_transit",
                                               "t", &changed), DEPOT_OK);
        CU_ASSERT_EQUAL(changed, 1);
    }
    cJSON_Delete(doc);
    /* The two never asked come next; the three just asked wait their interval. */
    CU_ASSERT_EQUAL(depot_shipments_to_track(T.st, 1800, 100, &doc), DEPOT_OK);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "items")), 2);
    cJSON_Delete(doc);
    /* Once the interval passed, all but the delivered one are due again. */
    CU_ASSERT_EQUAL(test_sql(&T, "UPDATE shipments SET tracked_at = 1"), SQLITE_OK);
    CU_ASSERT_EQUAL(depot_shipments_to_track(T.st, 1800, 100, &doc), DEPOT_OK);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "items")), 4);
    cJSON_Delete(doc);
    /* Same status again: stored, not a change. */
    CU_ASSERT_EQUAL(depot_shipment_tracked(T.st, 2, "in_transit", "t", &changed), DEPOT_OK);
    CU_ASSERT_EQUAL(changed, 0);
    CU_ASSERT_EQUAL(q("SELECT count(*) FROM audit WHERE action = 'shipment.tracking'"), 3);
    CU_ASSERT_EQUAL(depot_shipments_to_track(T.st, 1800, 101, &doc), DEPOT_E_INVALID);
    test_db_close(&T);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"fulfillment waits for the label and leaves with its tracking",
         TEST_fulfillment_waits_for_the_label_and_leaves_with_its_tracking},
        {"ship and label request are one transaction",
         TEST_ship_and_label_request_are_one_transaction},
        {"void release puts the goods back reserved for the order",
         TEST_void_release_puts_the_goods_back_reserved_for_the_order},
        {"void restock makes the goods available and reopens the order",
         TEST_void_restock_makes_the_goods_available_and_reopens_the_order},
        {"void request is durable and its latest choice wins",
         TEST_void_request_is_durable_and_its_latest_choice_wins},
        {"void none leaves the goods", TEST_void_none_leaves_the_goods},
        {"tracking polls are bounded and stop at delivery",
         TEST_tracking_polls_are_bounded_and_stop_at_delivery},
        {NULL, NULL},
    };
    return test_run("shipments", cases);
}
