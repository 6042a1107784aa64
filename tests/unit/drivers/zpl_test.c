/* Unit tests of the ZPL II label builders: escaping, sizes per stock and dpi, value
 * checks (SSCC and GTIN check digits, lengths, encodable characters). */
#include "testutil.h"
#include "zpl.h"

static const struct depot_zpl_media M4X6 = {DEPOT_ZPL_STOCK_4X6, 203};
static const struct depot_zpl_media M2X1 = {DEPOT_ZPL_STOCK_2X1, 203};

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void TEST_name_cannot_inject_commands(void)
{
    struct depot_zpl_buf b = {0};
    char err[128];
    CU_ASSERT_EQUAL_FATAL(depot_zpl_sku_label(&b, &M4X6, "SKU_1", "Bad ^XZ~JR_ name\n^XA",
                                              NULL, err, sizeof err), 0);
    CU_ASSERT_EQUAL(count(b.data, "^XA"), 1);
    CU_ASSERT_EQUAL(count(b.data, "^XZ"), 1);
    CU_ASSERT_EQUAL(count(b.data, "~"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "^FDBad _5EXZ_7EJR_5F name_0A_5EXA^FS"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "^FDSKU_5F1^FS"));
    CU_ASSERT_EQUAL(strncmp(b.data, "^XA\n^CI28\n", 10), 0);
    CU_ASSERT_EQUAL(b.len, strlen(b.data));
    depot_zpl_buf_free(&b);
}

static void TEST_every_field_is_hex_escaped(void)
{
    struct depot_zpl_buf b = {0};
    char err[128];
    CU_ASSERT_EQUAL_FATAL(depot_zpl_tote_label(&b, &M4X6, "T^1", "x~y", err, sizeof err), 0);
    /* Each ^FD follows ^FH, so the printer decodes _XX in every field. */
    CU_ASSERT_EQUAL(count(b.data, "^FD"), count(b.data, "^FH^FD"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "^BQN,2,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "^FDQA,T_5E1^FS"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "x_7Ey"));
    depot_zpl_buf_free(&b);
}

static void TEST_utf8_text_passes_as_is(void)
{
    struct depot_zpl_buf b = {0};
    char err[128];
    CU_ASSERT_EQUAL_FATAL(depot_zpl_sku_label(&b, &M2X1, "A1", "Müsli – 500 g", NULL, err,
                                              sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "Müsli – 500 g"));
    depot_zpl_buf_free(&b);
    CU_ASSERT_EQUAL(depot_zpl_sku_label(&b, &M2X1, "A1", "bad \xc3\x28", NULL, err,
                                        sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "UTF-8"));
    CU_ASSERT_PTR_NULL(b.data);
}

static void TEST_sizes_per_stock_and_dpi(void)
{
    static const struct {
        enum depot_zpl_stock stock;
        int dpi;
        const char *pw, *ll;
    } cases[] = {
        {DEPOT_ZPL_STOCK_4X6, 203, "^PW812\n", "^LL1218\n"},
        {DEPOT_ZPL_STOCK_4X6, 300, "^PW1200\n", "^LL1800\n"},
        {DEPOT_ZPL_STOCK_2X1, 203, "^PW406\n", "^LL203\n"},
        {DEPOT_ZPL_STOCK_2X1, 300, "^PW600\n", "^LL300\n"},
    };
    char err[128];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct depot_zpl_media m = {cases[i].stock, cases[i].dpi};
        struct depot_zpl_buf b = {0};
        CU_ASSERT_EQUAL_FATAL(depot_zpl_bin_label(&b, &m, "A-01-02", err, sizeof err), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(b.data, cases[i].pw));
        CU_ASSERT_PTR_NOT_NULL(strstr(b.data, cases[i].ll));
        depot_zpl_buf_free(&b);
    }
    enum depot_zpl_stock s;
    CU_ASSERT_EQUAL(depot_zpl_stock_parse("2x1", &s), 0);
    CU_ASSERT_EQUAL(s, DEPOT_ZPL_STOCK_2X1);
    CU_ASSERT_EQUAL(depot_zpl_stock_parse("4x4", &s), -1);
}

static void TEST_unsupported_dpi_refused(void)
{
    struct depot_zpl_media m = {DEPOT_ZPL_STOCK_4X6, 600};
    struct depot_zpl_buf b = {0};
    char err[128];
    CU_ASSERT_EQUAL(depot_zpl_bin_label(&b, &m, "A", err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "dpi"));
    CU_ASSERT_EQUAL(b.len, 0);
}

static void TEST_sscc_label_is_gs1_128(void)
{
    struct depot_zpl_buf b = {0};
    char err[128];
    CU_ASSERT_EQUAL_FATAL(depot_zpl_sscc_label(&b, &M4X6, "106141411234567897", err,
                                               sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "^FD>;>800106141411234567897^FS"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "^FD(00) 106141411234567897^FS"));
    depot_zpl_buf_free(&b);
}

static void TEST_sscc_check_digit_refused(void)
{
    struct depot_zpl_buf b = {0};
    char err[128];
    CU_ASSERT_TRUE(depot_zpl_sscc_valid("106141411234567897"));
    CU_ASSERT_FALSE(depot_zpl_sscc_valid("106141411234567890"));
    CU_ASSERT_EQUAL(depot_zpl_sscc_label(&b, &M4X6, "106141411234567890", err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "check digit"));
    CU_ASSERT_EQUAL(depot_zpl_sscc_label(&b, &M4X6, "10614141123456789", err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "18 digits"));
    CU_ASSERT_EQUAL(depot_zpl_sscc_label(&b, &M4X6, "10614141123456789X", err, sizeof err), -1);
    CU_ASSERT_EQUAL(depot_zpl_sscc_label(&b, &M4X6, "0010614141123456789", err, sizeof err), -1);
    CU_ASSERT_PTR_NULL(b.data);
}

static void TEST_gtin_checked_and_optional(void)
{
    struct depot_zpl_buf b = {0};
    char err[128];
    CU_ASSERT_EQUAL(depot_zpl_sku_label(&b, &M2X1, "A1", "x", "4006381333932", err,
                                        sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "GTIN"));
    CU_ASSERT_EQUAL_FATAL(depot_zpl_sku_label(&b, &M2X1, "A1", "x", "4006381333931", err,
                                              sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "GTIN 4006381333931"));
    depot_zpl_buf_free(&b);
    CU_ASSERT_EQUAL_FATAL(depot_zpl_sku_label(&b, &M2X1, "A1", "x", NULL, err, sizeof err), 0);
    CU_ASSERT_PTR_NULL(strstr(b.data, "GTIN"));
    depot_zpl_buf_free(&b);
}

static void TEST_bounded_and_encodable_codes(void)
{
    struct depot_zpl_buf b = {0};
    char err[128], code[DEPOT_ZPL_CODE_MAX + 2], name[DEPOT_ZPL_TEXT_MAX + 2];
    memset(code, 'A', sizeof code - 1);
    code[sizeof code - 1] = '\0';
    CU_ASSERT_EQUAL(depot_zpl_bin_label(&b, &M4X6, code, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "1..64"));
    code[DEPOT_ZPL_CODE_MAX] = '\0'; /* 64 characters: fits 4x6, not 2x1 */
    CU_ASSERT_EQUAL(depot_zpl_bin_label(&b, &M2X1, code, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "too long"));
    CU_ASSERT_EQUAL(b.len, 0);
    CU_ASSERT_EQUAL(depot_zpl_bin_label(&b, &M4X6, code, err, sizeof err), 0);
    depot_zpl_buf_free(&b);
    CU_ASSERT_EQUAL(depot_zpl_bin_label(&b, &M4X6, "", err, sizeof err), -1);
    CU_ASSERT_EQUAL(depot_zpl_bin_label(&b, &M4X6, "A>1", err, sizeof err), -1);
    CU_ASSERT_EQUAL(depot_zpl_bin_label(&b, &M4X6, "A^1", err, sizeof err), -1);
    CU_ASSERT_EQUAL(depot_zpl_bin_label(&b, &M4X6, "Ä1", err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "Code 128"));
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    CU_ASSERT_EQUAL(depot_zpl_sku_label(&b, &M4X6, "A1", name, NULL, err, sizeof err), -1);
    CU_ASSERT_EQUAL(depot_zpl_sku_label(&b, &M4X6, "A1", "", NULL, err, sizeof err), -1);
    CU_ASSERT_PTR_NULL(b.data);
}

static void TEST_failure_leaves_buffer_unchanged(void)
{
    struct depot_zpl_buf b = {0};
    char err[128];
    CU_ASSERT_EQUAL_FATAL(depot_zpl_bin_label(&b, &M2X1, "A-1", err, sizeof err), 0);
    size_t len = b.len;
    char *copy = strdup(b.data);
    CU_ASSERT_EQUAL(depot_zpl_bin_label(&b, &M2X1, "X-123456789012345678901234567890", err,
                                        sizeof err), -1);
    CU_ASSERT_EQUAL(b.len, len);
    CU_ASSERT_STRING_EQUAL(b.data, copy);
    CU_ASSERT_EQUAL(depot_zpl_bin_label(&b, &M2X1, "A-2", err, sizeof err), 0);
    CU_ASSERT_EQUAL(count(b.data, "^XA"), 2);
    free(copy);
    depot_zpl_buf_free(&b);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"name_cannot_inject_commands", TEST_name_cannot_inject_commands},
        {"every_field_is_hex_escaped", TEST_every_field_is_hex_escaped},
        {"utf8_text_passes_as_is", TEST_utf8_text_passes_as_is},
        {"sizes_per_stock_and_dpi", TEST_sizes_per_stock_and_dpi},
        {"unsupported_dpi_refused", TEST_unsupported_dpi_refused},
        {"sscc_label_is_gs1_128", TEST_sscc_label_is_gs1_128},
        {"sscc_check_digit_refused", TEST_sscc_check_digit_refused},
        {"gtin_checked_and_optional", TEST_gtin_checked_and_optional},
        {"bounded_and_encodable_codes", TEST_bounded_and_encodable_codes},
        {"failure_leaves_buffer_unchanged", TEST_failure_leaves_buffer_unchanged},
        {0},
    };
    return test_run("zpl", cases);
}
