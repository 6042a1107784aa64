/* Unit tests of scan resolution on a real store: every kind (command, badge, SKU by GTIN
 * in each stored form and by code, bin, order by label/id/number/external id), the order
 * of precedence, hostile input, and that a badge is never echoed. */
#include "testutil.h"
#include "scan_resolve.h"

static struct test_db db;
static int64_t order_id;
static char badge[DEPOT_BADGE_LEN + 1];

static int setup(void)
{
    if (test_db_open(&db) != 0)
        return -1;
    /* GTINs stored as GTIN-13, GTIN-12 (UPC-A) and GTIN-8. */
    if (test_sql(&db,
            "INSERT INTO locations (code, created_at) VALUES ('MAIN', 0), ('BACK', 0);"
            "INSERT INTO bins (location_id, code) VALUES (1, 'A-01-02'), (2, 'A-01-02'),"
            " (1, 'SHARED');"
            "INSERT INTO skus (code, name, created_at, updated_at) VALUES"
            " ('MUG-1', 'Mug', 0, 0), ('UPC-1', 'Upc thing', 0, 0), ('EAN8-1', 'Small', 0, 0),"
            " ('SHARED', 'A SKU named like a bin', 0, 0), ('12345', 'Digits', 0, 0);"
            "INSERT INTO sku_gtins (gtin, sku_id) VALUES ('4006381333931', 1),"
            " ('036000291452', 2), ('96385074', 3);") != SQLITE_OK)
        return -1;
    struct depot_order_line_in line = {.sku = "MUG-1", .quantity = 1};
    struct depot_order_in in = {.external_id = "EXT-77", .number = "#1001", .lines = &line,
                                .n_lines = 1};
    int created;
    if (depot_order_create(db.st, &in, "test", &order_id, &created) != DEPOT_OK ||
        depot_user_add(db.st, "pia", "packer", NULL, "test", NULL) != DEPOT_OK ||
        depot_user_badge_issue(db.st, "pia", "test", badge) != DEPOT_OK)
        return -1;
    return 0;
}

/* Resolves and returns the result (freed by the caller), failing the test on error. */
static cJSON *resolve(const char *text, const char *gtin)
{
    cJSON *out = NULL;
    CU_ASSERT_EQUAL(depot_scan_resolve(db.st, text, gtin, &out), DEPOT_OK);
    CU_ASSERT_PTR_NOT_NULL(out);
    return out;
}

static const char *str(const cJSON *o, const char *name)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));
    return v ? v : "(null)";
}

static void expect(const char *text, const char *gtin, const char *kind, const char *field,
                   const char *value)
{
    cJSON *r = resolve(text, gtin);
    if (!r)
        return;
    CU_ASSERT_STRING_EQUAL(str(r, "kind"), kind);
    if (field)
        CU_ASSERT_STRING_EQUAL(str(r, field), value);
    if (strcmp(str(r, "kind"), kind) != 0)
        fprintf(stderr, "\n  %s -> %s\n", text, cJSON_PrintUnformatted(r));
    cJSON_Delete(r);
}

static void TEST_commands(void)
{
    expect("CMD-PACK", NULL, "command", "command", "PACK");
    expect("cmd-reprint\r\n", NULL, "command", "command", "REPRINT");
    expect("CMD-CANCEL", NULL, "command", "command", "CANCEL");
    expect("CMD-LOGOUT", NULL, "command", "command", "LOGOUT");
    expect("CMD-SELFDESTRUCT", NULL, "unknown", "reason", "unknown_command");
}

static void TEST_sku_by_gtin_in_every_stored_form(void)
{
    expect("4006381333931", NULL, "sku", "sku", "MUG-1");            /* as stored */
    expect("04006381333931", NULL, "sku", "sku", "MUG-1");           /* GTIN-14 */
    expect("ignored", "04006381333931", "sku", "gtin", "4006381333931");
    expect("036000291452", NULL, "sku", "sku", "UPC-1");             /* UPC-A */
    expect("0036000291452", NULL, "sku", "sku", "UPC-1");            /* as EAN-13 */
    expect("x", "00036000291452", "sku", "sku", "UPC-1");
    expect("x", "00000096385074", "sku", "sku", "EAN8-1");           /* GTIN-8 */
    /* A wrong check digit is no GTIN, so it falls through to the other lookups. */
    expect("4006381333932", NULL, "unknown", "reason", "no_match");
    cJSON *r = resolve("4006381333931", NULL);
    CU_ASSERT_STRING_EQUAL(str(r, "matched"), "gtin");
    CU_ASSERT_STRING_EQUAL(str(r, "name"), "Mug");
    cJSON_Delete(r);
}

static void TEST_sku_code_beats_bin_and_order(void)
{
    expect("MUG-1", NULL, "sku", "matched", "sku_code");
    expect("  MUG-1\t", NULL, "sku", "sku", "MUG-1");
    expect("SHARED", NULL, "sku", "sku", "SHARED");
    expect("12345", NULL, "sku", "sku", "12345");
}

static void TEST_bins_in_every_location(void)
{
    cJSON *r = resolve("A-01-02", NULL);
    CU_ASSERT_STRING_EQUAL(str(r, "kind"), "bin");
    cJSON *locs = cJSON_GetObjectItemCaseSensitive(r, "locations");
    CU_ASSERT_EQUAL(cJSON_GetArraySize(locs), 2);
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetArrayItem(locs, 0)), "BACK");
    cJSON_Delete(r);
}

static void TEST_orders_by_label_id_number_external_id(void)
{
    char label[32], id[24];
    snprintf(label, sizeof label, "ORDER-%lld", (long long)order_id);
    snprintf(id, sizeof id, "#%lld", (long long)order_id);
    const char *codes[] = {label, id, "EXT-77", "#1001", "1001"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        cJSON *r = resolve(codes[i], NULL);
        CU_ASSERT_STRING_EQUAL(str(r, "kind"), "order");
        CU_ASSERT_EQUAL(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "order_id")),
                        (double)order_id);
        CU_ASSERT_STRING_EQUAL(str(r, "external_id"), "EXT-77");
        CU_ASSERT_STRING_EQUAL(str(r, "number"), "#1001");
        cJSON_Delete(r);
    }
    expect("ORDER-999999", NULL, "unknown", "reason", "no_match");
}

static void TEST_badges_resolve_without_echo(void)
{
    CU_ASSERT_TRUE(depot_scan_is_secret(badge));
    CU_ASSERT_TRUE(depot_scan_is_secret(" badge-whatever"));
    CU_ASSERT_FALSE(depot_scan_is_secret("MUG-1"));
    cJSON *r = resolve(badge, NULL);
    CU_ASSERT_STRING_EQUAL(str(r, "kind"), "badge");
    CU_ASSERT_STRING_EQUAL(str(r, "user"), "pia");
    CU_ASSERT_STRING_EQUAL(str(r, "role"), "packer");
    char *text = cJSON_PrintUnformatted(r);
    CU_ASSERT_PTR_NULL(strstr(text, badge));
    free(text);
    cJSON_Delete(r);
    expect("BADGE-AAAAAAAAAAAAAAAAAAAAAAAA", NULL, "badge", "reason", "unknown_badge");
    CU_ASSERT_EQUAL(test_sql(&db, "UPDATE users SET disabled = 1 WHERE name = 'pia'"),
                    SQLITE_OK);
    expect(badge, NULL, "badge", "reason", "user_disabled");
    CU_ASSERT_EQUAL(test_sql(&db, "UPDATE users SET disabled = 0 WHERE name = 'pia'"),
                    SQLITE_OK);
}

static void TEST_hostile_input(void)
{
    static char big[DEPOT_SCAN_TEXT_MAX + 2];
    cJSON *out = NULL;
    memset(big, 'A', sizeof big - 1);
    CU_ASSERT_EQUAL(depot_scan_resolve(db.st, big, NULL, &out), DEPOT_E_INVALID);
    CU_ASSERT_PTR_NULL(out);
    CU_ASSERT_EQUAL(depot_scan_resolve(db.st, NULL, NULL, &out), DEPOT_E_INVALID);
    big[DEPOT_SCAN_TEXT_MAX] = '\0'; /* exactly the maximum: accepted, matches nothing */
    expect(big, NULL, "unknown", "reason", "no_match");
    expect("MUG\x01-1", NULL, "unknown", "reason", "invalid_characters");
    expect("caf\xc3\xa9", NULL, "unknown", "reason", "invalid_characters");
    expect("", NULL, "unknown", "reason", "no_match");
    expect("' OR 1=1 --", NULL, "unknown", "reason", "no_match");
    expect("x", "not-a-gtin", "unknown", "reason", "no_match");
    expect("x", "123456789012345678901234567890", "unknown", "reason", "no_match");
    /* A GS1 element string with FNC1 inside: allowed bytes, resolved by its GTIN. */
    expect("01040063813339311\x1d" "10LOT", "04006381333931", "sku", "sku", "MUG-1");
}

int main(void)
{
    static const struct test_case cases[] = {
        {"commands", TEST_commands},
        {"sku_by_gtin_in_every_stored_form", TEST_sku_by_gtin_in_every_stored_form},
        {"sku_code_beats_bin_and_order", TEST_sku_code_beats_bin_and_order},
        {"bins_in_every_location", TEST_bins_in_every_location},
        {"orders_by_label_id_number_external_id", TEST_orders_by_label_id_number_external_id},
        {"badges_resolve_without_echo", TEST_badges_resolve_without_echo},
        {"hostile_input", TEST_hostile_input},
        {0},
    };
    if (setup() != 0) {
        fprintf(stderr, "scan_resolve: cannot set up the test store\n");
        return 1;
    }
    int rc = test_run("scan_resolve", cases);
    test_db_close(&db);
    return rc;
}
