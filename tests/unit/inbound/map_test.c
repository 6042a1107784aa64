/* Payload mapping: the public reference payloads (tests/fixtures/) map to the expected
 * orders, refunds and levels; wrong types and malformed JSON fail with a message naming
 * the field; ISO 8601 times with zones and fractions convert exactly. */
#include <stdlib.h>
#include <string.h>
#include "inbound_map.h"
#include "testutil.h"

static char *fixture(const char *name, size_t *len)
{
    char path[512];
    const char *files = getenv("DEPOT_TEST_FILES");
    snprintf(path, sizeof path, "%s/../fixtures/%s", files ? files : "tests/files", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void TEST_shopify_reference_order(void)
{
    size_t len;
    char *body = fixture("shopify/orders_create.json", &len), err[300] = "";
    struct depot_mapped_order m;
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    CU_ASSERT_EQUAL_FATAL(depot_map_shopify_order(body, len, 3, "orders/create", &m, err,
                                                  sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(m.order.external_id, "450789469");
    CU_ASSERT_STRING_EQUAL(m.order.number, "#9999");
    CU_ASSERT_EQUAL(m.order.state, DEPOT_INGEST_PAID);
    CU_ASSERT_EQUAL(m.order.n_lines, 2);
    /* The line id is beyond 2^53: it comes exactly from admin_graphql_api_id. */
    CU_ASSERT_STRING_EQUAL(m.order.lines[0].external_line_id, "866550311766439020");
    CU_ASSERT_STRING_EQUAL(m.order.lines[0].variant_id, "808950810");
    CU_ASSERT_STRING_EQUAL(m.order.lines[0].sku, "IPOD2008BLACK");
    CU_ASSERT_EQUAL(m.order.lines[0].quantity, 1);
    /* 2021-12-31T19:00:00-05:00 */
    CU_ASSERT_EQUAL(m.order.updated_at_ms, 1640995200000LL);
    CU_ASSERT_PTR_NOT_NULL(strstr(m.order.ship_to_json, "Shippington"));
    depot_mapped_order_free(&m);
    /* orders/cancelled cancels whatever the payment state. */
    CU_ASSERT_EQUAL_FATAL(depot_map_shopify_order(body, len, 3, "orders/cancelled", &m, err,
                                                  sizeof err), 0);
    CU_ASSERT_EQUAL(m.order.state, DEPOT_INGEST_CANCELLED);
    depot_mapped_order_free(&m);
    free(body);
}

static void TEST_shopify_wrong_types_name_the_field(void)
{
    static const struct { const char *body, *why; } cases[] = {
        {"{\"id\":1,\"line_items\":[", "malformed JSON"},
        {"[1]", "must be a JSON object"},
        {"{\"line_items\":[]}", "order.id is missing"},
        {"{\"id\":true}", "order.id must be a number or a string"},
        {"{\"id\":1.5}", "order.id must be a whole number"},
        {"{\"id\":1,\"line_items\":{}}", "order.line_items must be an array"},
        {"{\"id\":1,\"line_items\":[7]}", "line_items[0] must be an object"},
        {"{\"id\":1,\"line_items\":[{\"id\":2,\"quantity\":-1}]}",
         "line_items[0].quantity must be a whole number"},
        {"{\"id\":1,\"line_items\":[{\"id\":2,\"quantity\":1,\"sku\":5}]}",
         "line_items[0].sku must be a string"},
        {"{\"id\":1,\"updated_at\":\"yesterday\"}", "updated_at is not an ISO 8601 time"},
        {"{\"id\":1,\"line_items\":[{\"id\":2,\"quantity\":1e400}]}",
         "line_items[0].quantity must be a whole number"},
        {"{\"id\":1e300}", "order.id must be a whole number below 2^53"},
        {"{\"id\":\"12345678901234567890123456789012345\"}", "order.id must be 1..31"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct depot_mapped_order m;
        char err[300] = "";
        CU_ASSERT_EQUAL(depot_map_shopify_order(cases[i].body, strlen(cases[i].body), 1,
                                                "orders/create", &m, err, sizeof err), -1);
        if (!strstr(err, cases[i].why))
            fprintf(stderr, "case %zu: got '%s', want '%s'\n", i, err, cases[i].why);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].why));
    }
    /* Nesting far deeper than cJSON's limit is refused, not a stack overflow. */
    size_t depth = 200000;
    char *deep = malloc(depth + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(deep);
    memset(deep, '[', depth);
    deep[depth] = '\0';
    struct depot_mapped_order m;
    char err[300] = "";
    CU_ASSERT_EQUAL(depot_map_shopify_order(deep, depth, 1, "orders/create", &m, err,
                                            sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "malformed JSON"));
    free(deep);
}

static void TEST_shopify_refund_restocked_lines_with_disposition(void)
{
    size_t len;
    char *body = fixture("shopify/refunds_create.json", &len), err[300] = "";
    struct depot_mapped_refund r;
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    int rc = depot_map_shopify_refund(body, len, 3, &r, err, sizeof err);
    free(body);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(r.order_id, "450789469");
    CU_ASSERT_EQUAL_FATAL(r.n, 1);
    CU_ASSERT_STRING_EQUAL(r.lines[0].external_line_id, "866550311766439020");
    CU_ASSERT_EQUAL(r.lines[0].quantity, 1);
    CU_ASSERT_EQUAL(r.lines[0].disposition, DEPOT_RETURN_DAMAGED); /* "were damaged" */
    depot_mapped_refund_free(&r);
    /* The refund note decides the disposition of its restocked units. */
    static const struct { const char *note; enum depot_return_disposition want; } notes[] = {
        {"Defective unit", DEPOT_RETURN_DAMAGED},
        {"unsellable: opened", DEPOT_RETURN_UNSELLABLE},
        {"changed their mind", DEPOT_RETURN_SELLABLE},
    };
    for (size_t i = 0; i < sizeof notes / sizeof notes[0]; i++) {
        char doc[256];
        snprintf(doc, sizeof doc, "{\"id\":5,\"order_id\":6,\"note\":\"%s\","
                 "\"refund_line_items\":[{\"line_item_id\":7,\"quantity\":2,"
                 "\"restock_type\":\"return\"},{\"line_item_id\":8,\"quantity\":1,"
                 "\"restock_type\":\"no_restock\"}]}", notes[i].note);
        CU_ASSERT_EQUAL_FATAL(depot_map_shopify_refund(doc, strlen(doc), 3, &r, err,
                                                       sizeof err), 0);
        CU_ASSERT_EQUAL(r.n, 1); /* no_restock refunds money only */
        CU_ASSERT_EQUAL(r.lines[0].disposition, notes[i].want);
        CU_ASSERT_STRING_EQUAL(r.lines[0].source_ref, "shopify:3:refund:5:7");
        depot_mapped_refund_free(&r);
    }
}

static void TEST_shopify_reference_inventory_level_and_fulfillment(void)
{
    size_t len;
    char *body = fixture("shopify/inventory_levels_update.json", &len), err[300] = "";
    struct depot_mapped_level l;
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    CU_ASSERT_EQUAL(depot_map_shopify_inventory_level(body, len, &l, err, sizeof err), 0);
    free(body);
    /* Beyond 2^53: exact from admin_graphql_api_id, not the rounded JSON number. */
    CU_ASSERT_STRING_EQUAL(l.item, "271878346596884015");
    CU_ASSERT_STRING_EQUAL(l.location, "24826418");
    CU_ASSERT_EQUAL(l.available, 6);
    const char *p = "{\"inventory_item_id\":4711,\"location_id\":9,\"available\":\"6\"}";
    CU_ASSERT_EQUAL(depot_map_shopify_inventory_level(p, strlen(p), &l, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "inventory_level.available must be a number"));
    p = "{\"location_id\":9,\"available\":6}";
    CU_ASSERT_EQUAL(depot_map_shopify_inventory_level(p, strlen(p), &l, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "inventory_level.inventory_item_id is missing"));

    body = fixture("shopify/fulfillments_create.json", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    cJSON *doc = NULL;
    char order[MAP_ID_MAX];
    const char *status = NULL;
    CU_ASSERT_EQUAL(depot_map_shopify_fulfillment(body, len, &doc, order, &status, err,
                                                  sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(order, "450789469");
    CU_ASSERT_STRING_EQUAL(status, "success");
    cJSON_Delete(doc);
    free(body);
}

static void TEST_woocommerce_reference_order_and_product(void)
{
    size_t len;
    char *body = fixture("woocommerce/order.json", &len), err[300] = "";
    struct depot_mapped_order m;
    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    CU_ASSERT_EQUAL_FATAL(depot_map_woocommerce_order(body, len, 4, &m, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(m.order.external_id, "727");
    CU_ASSERT_EQUAL(m.order.state, DEPOT_INGEST_PAID); /* processing */
    CU_ASSERT_EQUAL(m.order.n_lines, 2);
    CU_ASSERT_PTR_NULL(m.order.lines[0].variant_id); /* variation_id 0 */
    CU_ASSERT_STRING_EQUAL(m.order.lines[0].product_id, "93");
    CU_ASSERT_STRING_EQUAL(m.order.lines[1].variant_id, "23");
    CU_ASSERT_STRING_EQUAL(m.order.lines[1].sku, "Bar3");
    CU_ASSERT_EQUAL(m.order.updated_at_ms, 1490210888000LL); /* 2017-03-22T19:28:08 UTC */
    CU_ASSERT_PTR_NOT_NULL(strstr(m.order.ship_to_json, "\"name\":\"John Doe\""));
    depot_mapped_order_free(&m);
    free(body);

    struct depot_mapped_level l;
    const char *p = "{\"id\":93,\"manage_stock\":true,\"stock_quantity\":12}";
    CU_ASSERT_EQUAL(depot_map_woocommerce_product(p, strlen(p), &l, err, sizeof err), 0);
    CU_ASSERT_TRUE(l.present);
    CU_ASSERT_EQUAL(l.available, 12);
    p = "{\"id\":93,\"manage_stock\":false,\"stock_quantity\":null}";
    CU_ASSERT_EQUAL(depot_map_woocommerce_product(p, strlen(p), &l, err, sizeof err), 0);
    CU_ASSERT_FALSE(l.present);
    p = "{\"id\":93,\"manage_stock\":true,\"stock_quantity\":\"12\"}";
    CU_ASSERT_EQUAL(depot_map_woocommerce_product(p, strlen(p), &l, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "product.stock_quantity must be a number"));
}

static void TEST_iso8601(void)
{
    int64_t ms;
    CU_ASSERT_EQUAL(depot_time_parse_iso8601("1970-01-01T00:00:00Z", &ms), 0);
    CU_ASSERT_EQUAL(ms, 0);
    CU_ASSERT_EQUAL(depot_time_parse_iso8601("2023-03-29T18:00:27.877041743Z", &ms), 0);
    CU_ASSERT_EQUAL(ms, 1680112827877LL);
    CU_ASSERT_EQUAL(depot_time_parse_iso8601("2024-01-10T11:00:00+01:30", &ms), 0);
    CU_ASSERT_EQUAL(ms, 1704879000000LL);
    CU_ASSERT_EQUAL(depot_time_parse_iso8601("2024-13-10T11:00:00Z", &ms), -1);
    CU_ASSERT_EQUAL(depot_time_parse_iso8601("2024-01-10T11:00:00Zjunk", &ms), -1);
    CU_ASSERT_EQUAL(depot_time_parse_iso8601("yesterday", &ms), -1);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"Shopify reference order", TEST_shopify_reference_order},
        {"Shopify wrong types name the field", TEST_shopify_wrong_types_name_the_field},
        {"Shopify refund: restocked lines with disposition",
         TEST_shopify_refund_restocked_lines_with_disposition},
        {"Shopify reference inventory level and fulfillment",
         TEST_shopify_reference_inventory_level_and_fulfillment},
        {"WooCommerce reference order and product",
         TEST_woocommerce_reference_order_and_product},
        {"ISO 8601 times", TEST_iso8601},
        {NULL, NULL},
    };
    return test_run("inbound_map", cases);
}
