/* Unit tests of the CSV stock import (sqlite/import.c) against a real database: what a
 * good file writes, re-imports, every error kind with its row and column, all-or-nothing,
 * reservations and GTIN ownership in the database, and the file size and row limits. */
#include <fcntl.h>
#include "testutil.h"

static struct test_db T;

static const char *fixture(const char *name)
{
    static char path[2][512];
    static int k;
    const char *dir = getenv("DEPOT_TEST_FILES");
    k ^= 1;
    snprintf(path[k], sizeof path[k], "%s/csv/%s", dir ? dir : "tests/files", name);
    return path[k];
}

/* Writes text to a file in the test's temp dir and returns its path. */
static const char *write_file(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", T.dir, name);
    FILE *f = fopen(path, "wb");
    CU_ASSERT_FATAL(f != NULL);
    fputs(text, f);
    fclose(f);
    return path;
}

static depot_err import(const char *path, struct depot_import_result *res)
{
    return depot_stock_import_csv(T.st, path, "tester", res);
}

/* Everything the import may touch, to prove a refused import touched nothing. */
struct snapshot {
    long long v[11];
};

static struct snapshot snap(void)
{
    static const char *const q[] = {
        "SELECT count(*) FROM skus",
        "SELECT total(length(name)) FROM skus",
        "SELECT count(*) FROM sku_gtins",
        "SELECT count(*) FROM locations",
        "SELECT count(*) FROM bins",
        "SELECT count(*) FROM stock",
        "SELECT total(on_hand * 7 + buffer * 3 + coalesce(bin_id, 0)) FROM stock",
        "SELECT count(*) FROM ledger",
        "SELECT count(*) FROM audit",
        "SELECT count(*) FROM outbox",
        "SELECT max(updated_at) FROM skus",
    };
    struct snapshot s;
    for (size_t i = 0; i < sizeof q / sizeof *q; i++)
        s.v[i] = test_sql_int(&T, q[i]);
    return s;
}

/* Rows where on_hand is not the sum of the ledger. */
static long long ledger_mismatches(void)
{
    return test_sql_int(&T, "SELECT count(*) FROM stock st WHERE on_hand <> "
        "(SELECT coalesce(sum(delta), 0) FROM ledger l"
        "  WHERE l.sku_id = st.sku_id AND l.location_id = st.location_id)");
}

static long long level(const char *sku, const char *loc, const char *col)
{
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT st.%s FROM stock st JOIN skus s ON s.id = st.sku_id"
             " JOIN locations l ON l.id = st.location_id WHERE s.code = '%s' AND l.code = '%s'",
             col, sku, loc);
    return test_sql_int(&T, sql);
}

static void TEST_import_creates_skus_gtins_bins_stock_and_ledger(void)
{
    struct depot_import_result res;
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    depot_err e = import(fixture("ok-bom-crlf-mixed-header.csv"), &res);
    CU_ASSERT_EQUAL(e, DEPOT_OK);
    if (e != DEPOT_OK)
        fprintf(stderr, "import: %s\n", depot_store_errmsg(T.st));
    CU_ASSERT_STRING_EQUAL(depot_store_errmsg(T.st), "");
    CU_ASSERT_EQUAL(res.rows, 5);
    CU_ASSERT_EQUAL(res.skus_created, 3);
    CU_ASSERT_EQUAL(res.changed, 4); /* B-2 stays at 0 with no buffer */
    CU_ASSERT_EQUAL(res.errors_total, 0);
    CU_ASSERT_PTR_NULL(res.errors);

    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM skus"), 3);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM skus WHERE code = 'C-3'"
                                     " AND name = 'Cable \"USB-C\"'"), 1);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM skus WHERE code = 'A-1'"
                                     " AND name = 'Widget, large'"), 1);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM sku_gtins g JOIN skus s"
                                     " ON s.id = g.sku_id WHERE s.code = 'C-3'"), 2);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM sku_gtins"), 3);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM locations"), 2);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM bins"), 3);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM stock"), 5);
    CU_ASSERT_EQUAL(level("A-1", "WH1", "on_hand"), 10);
    CU_ASSERT_EQUAL(level("A-1", "WH1", "buffer"), 2);
    CU_ASSERT_EQUAL(level("A-1", "WH2", "on_hand"), 5);
    CU_ASSERT_EQUAL(level("B-2", "WH1", "on_hand"), 0);
    CU_ASSERT_EQUAL(level("C-3", "WH1", "buffer"), 1);
    CU_ASSERT_EQUAL(level("C-3", "WH2", "on_hand"), 3);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM stock st JOIN bins b"
                                     " ON b.id = st.bin_id WHERE b.code = 'B-07'"), 1);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM ledger"), 4);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM ledger WHERE kind = 'import'"
                                     " AND reason = 'stock import' AND actor = 'tester'"
                                     " AND ref = 'ok-bom-crlf-mixed-header.csv'"), 4);
    CU_ASSERT_EQUAL(ledger_mismatches(), 0);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM audit WHERE action = 'stock.import'"
        " AND json_extract(detail, '$.rows') = 5 AND json_extract(detail, '$.changed') = 4"
        " AND json_extract(detail, '$.file') = 'ok-bom-crlf-mixed-header.csv'"), 1);
    CU_ASSERT_TRUE(test_verify_ok(&T));
    depot_import_result_free(&res);
    test_db_close(&T);
}

static void TEST_reimport_of_same_numbers_changes_nothing(void)
{
    struct depot_import_result res;
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL_FATAL(import(fixture("ok-bom-crlf-mixed-header.csv"), &res), DEPOT_OK);
    depot_import_result_free(&res);
    struct snapshot before = snap();
    CU_ASSERT_EQUAL(import(fixture("ok-bom-crlf-mixed-header.csv"), &res), DEPOT_OK);
    CU_ASSERT_EQUAL(res.rows, 5);
    CU_ASSERT_EQUAL(res.changed, 0);
    CU_ASSERT_EQUAL(res.skus_created, 0);
    struct snapshot after = snap();
    before.v[8]++; /* one audit row for the import itself */
    CU_ASSERT_EQUAL(memcmp(&before, &after, sizeof before), 0);
    depot_import_result_free(&res);
    test_db_close(&T);
}

static void TEST_reimport_writes_only_the_differences(void)
{
    struct depot_import_result res;
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL_FATAL(import(fixture("ok-bom-crlf-mixed-header.csv"), &res), DEPOT_OK);
    depot_import_result_free(&res);
    const char *p = write_file("second.csv",
        "sku,location,on_hand,name,gtin,buffer,bin\n"
        "A-1,WH1,4,Widget XL,,,\n"      /* -6, renamed, buffer and bin kept */
        "A-1,WH2,5,Widget XL,,0,A-09\n" /* same count, buffer 0 as before, new bin */
        "B-2,WH1,0,Bolt,,3,\n"          /* buffer only */
        "Z-9,WH3,0,Zero,,,\n");         /* new SKU and location, nothing on hand */
    CU_ASSERT_EQUAL(import(p, &res), DEPOT_OK);
    CU_ASSERT_EQUAL(res.rows, 4);
    CU_ASSERT_EQUAL(res.skus_created, 1);
    CU_ASSERT_EQUAL(res.changed, 2);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM ledger"), 5);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT delta FROM ledger ORDER BY id DESC LIMIT 1"), -6);
    CU_ASSERT_EQUAL(level("A-1", "WH1", "on_hand"), 4);
    CU_ASSERT_EQUAL(level("A-1", "WH1", "buffer"), 2);
    CU_ASSERT_EQUAL(level("B-2", "WH1", "buffer"), 3);
    CU_ASSERT_EQUAL(level("Z-9", "WH3", "on_hand"), 0);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM stock st JOIN bins b"
        " ON b.id = st.bin_id JOIN skus s ON s.id = st.sku_id WHERE s.code = 'A-1'"
        " AND b.code IN ('A-01', 'A-09')"), 2);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM skus WHERE name = 'Widget XL'"), 1);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM sku_gtins"), 3); /* kept */
    CU_ASSERT_EQUAL(ledger_mismatches(), 0);
    CU_ASSERT_TRUE(test_verify_ok(&T));
    depot_import_result_free(&res);
    test_db_close(&T);
}

struct want {
    size_t row;
    const char *column;
    const char *text; /* substring of the message */
};

static void expect_errors(const struct depot_import_result *res, const struct want *w,
                          size_t n)
{
    CU_ASSERT_EQUAL(res->errors_total, n);
    CU_ASSERT_EQUAL(res->errors_n, n);
    for (size_t i = 0; i < n && i < res->errors_n; i++) {
        const struct depot_import_error *e = &res->errors[i];
        int ok = e->row == w[i].row && !strcmp(e->column, w[i].column) &&
                 strstr(e->message, w[i].text);
        if (!ok)
            fprintf(stderr, "error %zu: got row %zu [%s] %s; want row %zu [%s] ...%s...\n", i,
                    e->row, e->column, e->message, w[i].row, w[i].column, w[i].text);
        CU_ASSERT_TRUE(ok);
    }
}

static void TEST_every_error_kind_reported_with_row_and_column(void)
{
    static const struct want w[] = {
        { 3, "sku", "a value is required" },
        { 4, "name", "a value is required" },
        { 5, "location", "a value is required" },
        { 6, "on_hand", "a value is required" },
        { 7, "sku", "SKU code must be" },
        { 8, "gtin", "valid check digit" },
        { 9, "on_hand", "must not be negative" },
        { 10, "on_hand", "'1.5' is not a whole number" },
        { 11, "on_hand", "'1000000001' is not a whole number" },
        { 12, "buffer", "'+2' is not a whole number" },
        { 13, "", "SKU 'A-1' at location 'WH1' is already given on row 2" },
        { 14, "gtin", "GTIN 4006381333931 is also given to SKU 'A-1' on row 2" },
        { 15, "", "expected 7 fields like the header, found 4" },
        { 16, "name", "text after closing quote" },
        { 17, "bin", "bin code must be" },
        { 18, "name", "name differs from the one on row 2" },
        { 19, "name", "1..200 bytes" },
        { 20, "location", "location code must be" },
        { 20, "on_hand", "' 5' is not a whole number" },
        { 21, "name", "invalid UTF-8" },
        { 22, "name", "NUL byte" },
        { 23, "name", "field longer than 1024 bytes" },
        { 24, "name", "control characters" },
        { 25, "name", "control characters" },
        { 28, "name", "quote inside unquoted field" },
        { 29, "name", "unterminated quoted field" },
    };
    struct depot_import_result res;
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    struct snapshot before = snap();
    CU_ASSERT_EQUAL(import(fixture("errors-every-kind.csv"), &res), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(res.rows, 27);
    CU_ASSERT_EQUAL(res.changed, 0);
    CU_ASSERT_EQUAL(res.skus_created, 0);
    expect_errors(&res, w, sizeof w / sizeof *w);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(T.st), "26 errors in errors-every-kind"));
    struct snapshot after = snap();
    CU_ASSERT_EQUAL(memcmp(&before, &after, sizeof before), 0);
    depot_import_result_free(&res);
    CU_ASSERT_PTR_NULL(res.errors);
    CU_ASSERT_EQUAL(res.errors_n, 0);
    test_db_close(&T);
}

static void TEST_header_problems_are_named(void)
{
    static const struct want w[] = {
        { 1, "colour", "unknown column 'colour'" },
        { 1, "sku", "column 'sku' is given twice" },
        { 1, "", "unknown column ''" },
        { 1, "gtin", "required column 'gtin' is missing" },
        { 1, "on_hand", "required column 'on_hand' is missing" },
    };
    struct depot_import_result res;
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL(import(fixture("header-unknown-duplicate-missing.csv"), &res),
                    DEPOT_E_INVALID);
    expect_errors(&res, w, sizeof w / sizeof *w);
    depot_import_result_free(&res);

    CU_ASSERT_EQUAL(import(write_file("empty.csv", "\n\n"), &res), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(res.errors_n, 1);
    CU_ASSERT_PTR_NOT_NULL(res.errors && strstr(res.errors[0].message, "empty"));
    depot_import_result_free(&res);

    CU_ASSERT_EQUAL(import(write_file("bad-header.csv", "sku,\"name\n"), &res),
                    DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(res.errors_n, 1);
    CU_ASSERT_PTR_NOT_NULL(res.errors && strstr(res.errors[0].message, "unterminated"));
    depot_import_result_free(&res);

    /* A header alone is a valid, empty import. */
    CU_ASSERT_EQUAL(import(write_file("header-only.csv", "sku,name,gtin,location,on_hand"),
                           &res), DEPOT_OK);
    CU_ASSERT_EQUAL(res.rows, 0);
    depot_import_result_free(&res);
    test_db_close(&T);
}

static void TEST_one_bad_row_leaves_database_exactly_unchanged(void)
{
    struct depot_import_result res;
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL_FATAL(import(fixture("ok-bom-crlf-mixed-header.csv"), &res), DEPOT_OK);
    depot_import_result_free(&res);
    struct snapshot before = snap();
    CU_ASSERT_EQUAL(import(fixture("one-bad-row-among-good.csv"), &res), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(res.rows, 5);
    CU_ASSERT_EQUAL(res.errors_total, 1);
    CU_ASSERT_EQUAL(res.errors_n, 1);
    if (res.errors_n) {
        CU_ASSERT_EQUAL(res.errors[0].row, 5);
        CU_ASSERT_STRING_EQUAL(res.errors[0].column, "on_hand");
    }
    struct snapshot after = snap();
    CU_ASSERT_EQUAL(memcmp(&before, &after, sizeof before), 0);
    CU_ASSERT_EQUAL(level("A-1", "WH1", "on_hand"), 10);
    CU_ASSERT_TRUE(test_verify_ok(&T));
    depot_import_result_free(&res);
    test_db_close(&T);
}

static void TEST_gtin_of_another_sku_in_database_rejected(void)
{
    struct depot_import_result res;
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL_FATAL(depot_sku_upsert(T.st, "Z-1", "Zed", "95012346", "t", NULL),
                          DEPOT_OK);
    const char *p = write_file("steal.csv", "sku,name,gtin,location,on_hand\n"
                                            "Y-1,Why,95012346,WH1,1\n"
                                            "Y-1,Why,95012346,WH2,1\n"
                                            "Z-1,Zed,95012346,WH1,1\n");
    CU_ASSERT_EQUAL(import(p, &res), DEPOT_E_INVALID);
    static const struct want w[] = {
        { 2, "gtin", "GTIN 95012346 already belongs to SKU 'Z-1'" },
        { 3, "gtin", "GTIN 95012346 already belongs to another SKU" },
        { 4, "gtin", "GTIN 95012346 is also given to SKU 'Y-1' on row 2" },
    };
    expect_errors(&res, w, sizeof w / sizeof *w);
    depot_import_result_free(&res);
    /* Its own SKU may list it again. */
    CU_ASSERT_EQUAL(import(write_file("own.csv", "sku,name,gtin,location,on_hand\n"
                                                 "Z-1,Zed,95012346,WH1,1\n"), &res), DEPOT_OK);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM sku_gtins"), 1);
    depot_import_result_free(&res);
    test_db_close(&T);
}

static void TEST_on_hand_below_reserved_rejected(void)
{
    struct depot_import_result res;
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL_FATAL(import(write_file("a.csv", "sku,name,gtin,location,on_hand\n"
                                                     "A-1,Widget,,WH1,10\n"), &res), DEPOT_OK);
    depot_import_result_free(&res);
    struct depot_order_line_in line = { .sku = "A-1", .quantity = 4 };
    struct depot_order_in order = { .external_id = "T-1", .lines = &line, .n_lines = 1 };
    int64_t order_id;
    int created;
    CU_ASSERT_EQUAL_FATAL(depot_order_create(T.st, &order, "t", &order_id, &created), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_order_reserve(T.st, order_id, 0, "t"), DEPOT_OK);
    struct snapshot before = snap();
    CU_ASSERT_EQUAL(import(write_file("b.csv", "sku,name,gtin,location,on_hand\n"
                                               "A-1,Widget,,WH1,3\n"), &res), DEPOT_E_INVALID);
    static const struct want w[] = {
        { 2, "on_hand", "on_hand 3 is below the 4 already reserved" },
    };
    expect_errors(&res, w, 1);
    depot_import_result_free(&res);
    struct snapshot after = snap();
    CU_ASSERT_EQUAL(memcmp(&before, &after, sizeof before), 0);
    CU_ASSERT_EQUAL(import(write_file("c.csv", "sku,name,gtin,location,on_hand\n"
                                               "A-1,Widget,,WH1,4\n"), &res), DEPOT_OK);
    CU_ASSERT_EQUAL(level("A-1", "WH1", "on_hand"), 4);
    CU_ASSERT_EQUAL(level("A-1", "WH1", "reserved"), 4);
    CU_ASSERT_TRUE(test_verify_ok(&T));
    depot_import_result_free(&res);
    test_db_close(&T);
}

static void TEST_changed_levels_reach_channel_outbox(void)
{
    struct depot_import_result res;
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    const char *hdr = "sku,name,gtin,location,on_hand,buffer\n";
    char text[256];
    snprintf(text, sizeof text, "%sA-1,Widget,,WH1,10,\nB-2,Bolt,,WH1,1,\n", hdr);
    CU_ASSERT_EQUAL_FATAL(import(write_file("a.csv", text), &res), DEPOT_OK);
    depot_import_result_free(&res);
    CU_ASSERT_EQUAL(test_sql(&T,
        "INSERT INTO channels (id, kind, name, created_at) VALUES (1, 'shopify', 's', 0);"
        "INSERT INTO channel_skus (channel_id, sku_id, external_inventory_id)"
        "  SELECT 1, id, 'inv-' || code FROM skus;"
        "INSERT INTO channel_locations (channel_id, location_id, external_location_id)"
        "  SELECT 1, id, 'loc' FROM locations;"), SQLITE_OK);
    /* A-1 moves on_hand, B-2 only its buffer: both change what the channel may sell. */
    snprintf(text, sizeof text, "%sA-1,Widget,,WH1,12,\nB-2,Bolt,,WH1,1,1\n", hdr);
    CU_ASSERT_EQUAL(import(write_file("b.csv", text), &res), DEPOT_OK);
    CU_ASSERT_EQUAL(res.changed, 2);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM outbox WHERE topic = 'inventory.set'"),
                    2);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT json_extract(payload, '$.available') FROM outbox"
                                     " WHERE payload LIKE '%inv-A-1%'"), 12);
    depot_import_result_free(&res);
    /* Same numbers again: nothing more for the channel. */
    CU_ASSERT_EQUAL(import(write_file("b.csv", text), &res), DEPOT_OK);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM outbox"), 2);
    depot_import_result_free(&res);
    test_db_close(&T);
}

static void TEST_error_list_capped_but_all_counted(void)
{
    struct depot_import_result res;
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/many.csv", T.dir);
    FILE *f = fopen(path, "wb");
    CU_ASSERT_FATAL(f != NULL);
    fputs("sku,name,gtin,location,on_hand\n", f);
    for (int i = 0; i < 1500; i++)
        fprintf(f, "S-%d,Name,,WH1,-1\n", i);
    fclose(f);
    CU_ASSERT_EQUAL(import(path, &res), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(res.rows, 1500);
    CU_ASSERT_EQUAL(res.errors_total, 1500);
    CU_ASSERT_EQUAL(res.errors_n, 1000);
    CU_ASSERT_EQUAL(res.errors[999].row, 1001);
    depot_import_result_free(&res);
    test_db_close(&T);
}

static void TEST_file_limits_and_unreadable_files(void)
{
    struct depot_import_result res;
    char path[256];
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    struct snapshot before = snap();

    snprintf(path, sizeof path, "%s/missing.csv", T.dir);
    CU_ASSERT_EQUAL(import(path, &res), DEPOT_E_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(T.st), "cannot open"));
    depot_import_result_free(&res);

    CU_ASSERT_EQUAL(import(T.dir, &res), DEPOT_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(T.st), "not a regular file"));
    depot_import_result_free(&res);

    snprintf(path, sizeof path, "%s/huge.csv", T.dir);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(ftruncate(fd, 64L * 1024 * 1024 + 1), 0); /* sparse */
    close(fd);
    CU_ASSERT_EQUAL(import(path, &res), DEPOT_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(T.st), "larger than 64 MiB"));
    depot_import_result_free(&res);

    snprintf(path, sizeof path, "%s/long.csv", T.dir);
    FILE *f = fopen(path, "wb");
    CU_ASSERT_FATAL(f != NULL);
    fputs("sku,name,gtin,location,on_hand\n", f);
    for (int i = 0; i <= 1000000; i++)
        fputs("x\n", f);
    fclose(f);
    CU_ASSERT_EQUAL(import(path, &res), DEPOT_E_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(T.st), "more than 1000000 rows"));
    CU_ASSERT_EQUAL(res.errors_total, 0); /* the one reason is the row limit */
    CU_ASSERT_PTR_NULL(res.errors);
    depot_import_result_free(&res);

    struct snapshot after = snap();
    CU_ASSERT_EQUAL(memcmp(&before, &after, sizeof before), 0);
    test_db_close(&T);
}

int main(void)
{
    static const struct test_case cases[] = {
        { "import_creates_skus_gtins_bins_stock_and_ledger",
          TEST_import_creates_skus_gtins_bins_stock_and_ledger },
        { "reimport_of_same_numbers_changes_nothing",
          TEST_reimport_of_same_numbers_changes_nothing },
        { "reimport_writes_only_the_differences", TEST_reimport_writes_only_the_differences },
        { "every_error_kind_reported_with_row_and_column",
          TEST_every_error_kind_reported_with_row_and_column },
        { "header_problems_are_named", TEST_header_problems_are_named },
        { "one_bad_row_leaves_database_exactly_unchanged",
          TEST_one_bad_row_leaves_database_exactly_unchanged },
        { "gtin_of_another_sku_in_database_rejected",
          TEST_gtin_of_another_sku_in_database_rejected },
        { "on_hand_below_reserved_rejected", TEST_on_hand_below_reserved_rejected },
        { "changed_levels_reach_channel_outbox", TEST_changed_levels_reach_channel_outbox },
        { "error_list_capped_but_all_counted", TEST_error_list_capped_but_all_counted },
        { "file_limits_and_unreadable_files", TEST_file_limits_and_unreadable_files },
        { NULL, NULL },
    };
    return test_run("import", cases);
}
