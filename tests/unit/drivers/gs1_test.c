/* Unit tests of drivers/gs1.c: AIM identifiers, GS1 element strings, EAN/UPC, errors. */
#include <string.h>
#include "gs1.h"
#include "testutil.h"

#define GS "\x1d"

static struct depot_gs1_scan scan;

static depot_gs1_err parse(const char *s)
{
    return depot_gs1_parse(s, strlen(s), &scan);
}

/* The scan parsed and field i is (ai) value. */
static void assert_field(size_t i, const char *ai, const char *value)
{
    CU_ASSERT_FATAL(i < scan.n_fields);
    CU_ASSERT_STRING_EQUAL(scan.fields[i].ai, ai);
    CU_ASSERT_STRING_EQUAL(scan.fields[i].value, value);
}

static int error_mentions(const char *text)
{
    return strstr(scan.error, text) != NULL;
}

static void TEST_aim_identifiers(void)
{
    static const struct {
        const char *scan;
        enum depot_gs1_symbology sym;
        const char *name;
    } cases[] = {
        {"]C10109506000134352", DEPOT_GS1_SYM_GS1_128, "gs1-128"},
        {"]C0ABC-123", DEPOT_GS1_SYM_CODE128, "code128"},
        {"]E04006381333931", DEPOT_GS1_SYM_EAN13, "ean-13"},
        {"]E496385074", DEPOT_GS1_SYM_EAN8, "ean-8"},
        {"]e00109506000134352", DEPOT_GS1_SYM_GS1_DATABAR, "gs1-databar"},
        {"]d20109506000134352", DEPOT_GS1_SYM_GS1_DATAMATRIX, "gs1-datamatrix"},
        {"]d1hello", DEPOT_GS1_SYM_DATAMATRIX, "datamatrix"},
        {"]Q30109506000134352", DEPOT_GS1_SYM_GS1_QR, "gs1-qr"},
        {"]Q1https://example.com", DEPOT_GS1_SYM_QR, "qr"},
        {"]A0CODE39", DEPOT_GS1_SYM_UNKNOWN, "unknown"},
        {"PLAIN-1", DEPOT_GS1_SYM_NONE, "none"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CU_ASSERT_EQUAL(parse(cases[i].scan), DEPOT_GS1_OK);
        CU_ASSERT_EQUAL(scan.symbology, cases[i].sym);
        CU_ASSERT_STRING_EQUAL(depot_gs1_symbology_name(scan.symbology), cases[i].name);
    }
    CU_ASSERT_STRING_EQUAL(scan.aim, "");
}

static void TEST_aim_unknown_is_stripped_and_plain(void)
{
    CU_ASSERT_EQUAL(parse("]A0CODE39"), DEPOT_GS1_OK);
    CU_ASSERT_STRING_EQUAL(scan.aim, "]A0");
    CU_ASSERT_EQUAL(scan.plain, 1);
    CU_ASSERT_STRING_EQUAL(scan.data, "CODE39");
    CU_ASSERT_EQUAL(scan.n_fields, 0);
}

static void TEST_aim_malformed_is_refused(void)
{
    CU_ASSERT_EQUAL(parse("]"), DEPOT_GS1_E_AIM);
    CU_ASSERT_EQUAL(parse("]C"), DEPOT_GS1_E_AIM);
    CU_ASSERT_EQUAL(parse("]1C0123"), DEPOT_GS1_E_AIM);
    CU_ASSERT_EQUAL(parse("]C-0123"), DEPOT_GS1_E_AIM);
}

static void TEST_plain_code128_keeps_data(void)
{
    CU_ASSERT_EQUAL(parse("]C0BIN-A-01-03"), DEPOT_GS1_OK);
    CU_ASSERT_EQUAL(scan.plain, 1);
    CU_ASSERT_EQUAL(scan.n_fields, 0);
    CU_ASSERT_STRING_EQUAL(scan.data, "BIN-A-01-03");
}

static void TEST_several_ais_with_fnc1(void)
{
    CU_ASSERT_EQUAL(parse("]C101095060001343521715123110ABC123" GS "21XYZ"), DEPOT_GS1_OK);
    CU_ASSERT_EQUAL(scan.plain, 0);
    CU_ASSERT_EQUAL(scan.n_fields, 4);
    assert_field(0, "01", "09506000134352");
    assert_field(1, "17", "151231");
    assert_field(2, "10", "ABC123");
    assert_field(3, "21", "XYZ");
}

static void TEST_other_order_and_fnc1_placements(void)
{
    /* variable fields first, leading FNC1, FNC1 after fixed fields, trailing FNC1 */
    CU_ASSERT_EQUAL(parse("]d2" GS "10LOT-7" GS "21S/N.1" GS "0109506000134352" GS
                          "11240229" GS),
                    DEPOT_GS1_OK);
    CU_ASSERT_EQUAL(scan.n_fields, 4);
    assert_field(0, "10", "LOT-7");
    assert_field(1, "21", "S/N.1");
    assert_field(2, "01", "09506000134352");
    assert_field(3, "11", "240229");
}

static void TEST_logistics_label(void)
{
    CU_ASSERT_EQUAL(parse("]C1001061414112345678970209506000134352" "3103001250" "37"
                          "24" GS "4109501101530003" "400PO-99" GS "4216161234"),
                    DEPOT_GS1_OK);
    CU_ASSERT_EQUAL(scan.n_fields, 7);
    assert_field(0, "00", "106141411234567897");
    assert_field(1, "02", "09506000134352");
    assert_field(2, "3103", "001250");
    assert_field(3, "37", "24");
    assert_field(4, "410", "9501101530003");
    assert_field(5, "400", "PO-99");
    assert_field(6, "421", "6161234");
}

static void TEST_no_aim_with_leading_fnc1_is_gs1(void)
{
    CU_ASSERT_EQUAL(parse(GS "0109506000134352" "3922" GS), DEPOT_GS1_E_UNKNOWN_AI);
    CU_ASSERT_EQUAL(parse(GS "010950600013435230123"), DEPOT_GS1_OK);
    CU_ASSERT_EQUAL(scan.symbology, DEPOT_GS1_SYM_NONE);
    assert_field(0, "01", "09506000134352");
    assert_field(1, "30", "123");
}

static void TEST_fixed_fields_need_no_fnc1_but_gsin_does(void)
{
    CU_ASSERT_EQUAL(parse("]C14021234567890123456010"), DEPOT_GS1_E_SYNTAX);
    CU_ASSERT_TRUE(error_mentions("(402)"));
    CU_ASSERT_EQUAL(parse("]C140212345678901234560" GS "10X"), DEPOT_GS1_OK);
    assert_field(0, "402", "12345678901234560");
}

static void TEST_ean13_and_upc_become_gtin14(void)
{
    CU_ASSERT_EQUAL(parse("]E04006381333931"), DEPOT_GS1_OK);
    CU_ASSERT_EQUAL(scan.plain, 0);
    CU_ASSERT_EQUAL(scan.n_fields, 1);
    assert_field(0, "01", "04006381333931");
    CU_ASSERT_EQUAL(parse("]E496385074"), DEPOT_GS1_OK);
    assert_field(0, "01", "00000096385074");
}

static void TEST_ean_check_digit_and_length(void)
{
    CU_ASSERT_EQUAL(parse("]E04006381333932"), DEPOT_GS1_E_CHECK_DIGIT);
    CU_ASSERT_EQUAL(parse("]E0400638133393"), DEPOT_GS1_E_LENGTH);
    CU_ASSERT_EQUAL(parse("]E49638507A"), DEPOT_GS1_E_CHARSET);
}

static void TEST_check_digit_failures(void)
{
    CU_ASSERT_EQUAL(parse("]C10109506000134353"), DEPOT_GS1_E_CHECK_DIGIT);
    CU_ASSERT_TRUE(error_mentions("(01)"));
    CU_ASSERT_TRUE(error_mentions("offset 18"));
    CU_ASSERT_EQUAL(parse("]C100106141411234567898"), DEPOT_GS1_E_CHECK_DIGIT);
    CU_ASSERT_EQUAL(parse("]C14149501101530004"), DEPOT_GS1_E_CHECK_DIGIT);
    CU_ASSERT_EQUAL(parse("]C14149501101530003"), DEPOT_GS1_OK);
    CU_ASSERT_TRUE(depot_gs1_check_digit_ok("96385074", 8));
    CU_ASSERT_TRUE(depot_gs1_check_digit_ok("036000291452", 12));
    CU_ASSERT_FALSE(depot_gs1_check_digit_ok("036000291453", 12));
    CU_ASSERT_FALSE(depot_gs1_check_digit_ok("7", 1));
}

static void TEST_gln_ais_410_to_414(void)
{
    /* Fixed-length GLNs back to back: no FNC1 between them. */
    CU_ASSERT_EQUAL(parse("]C1" "4109501101530003" "4114012345000009" "4129501101530010"
                          "4137612345678900" "4145012345000107"), DEPOT_GS1_OK);
    CU_ASSERT_EQUAL(scan.n_fields, 5);
    assert_field(0, "410", "9501101530003");
    assert_field(1, "411", "4012345000009");
    assert_field(2, "412", "9501101530010");
    assert_field(3, "413", "7612345678900");
    assert_field(4, "414", "5012345000107");
    CU_ASSERT_EQUAL(parse("]C14129501101530011"), DEPOT_GS1_E_CHECK_DIGIT);
    CU_ASSERT_TRUE(error_mentions("(412)"));
    CU_ASSERT_EQUAL(parse("]C1411401234500000"), DEPOT_GS1_E_LENGTH); /* 12 digits */
}

static void TEST_dates(void)
{
    CU_ASSERT_EQUAL(parse("]C117241231"), DEPOT_GS1_OK);
    CU_ASSERT_EQUAL(parse("]C117241331"), DEPOT_GS1_E_DATE); /* month 13 */
    CU_ASSERT_EQUAL(parse("]C117240001"), DEPOT_GS1_E_DATE); /* month 00 */
    CU_ASSERT_EQUAL(parse("]C115240431"), DEPOT_GS1_E_DATE); /* 31 April */
    CU_ASSERT_EQUAL(parse("]C115240430"), DEPOT_GS1_OK);
    CU_ASSERT_EQUAL(parse("]C111230229"), DEPOT_GS1_E_DATE); /* 2023 is no leap year */
    CU_ASSERT_EQUAL(parse("]C111240229"), DEPOT_GS1_OK);
    CU_ASSERT_EQUAL(parse("]C111000229"), DEPOT_GS1_OK);     /* 2000 was */
    CU_ASSERT_EQUAL(parse("]C113240230"), DEPOT_GS1_E_DATE);
}

static void TEST_day_zero_where_allowed(void)
{
    CU_ASSERT_EQUAL(parse("]C117241200"), DEPOT_GS1_OK);
    CU_ASSERT_EQUAL(parse("]C111241200"), DEPOT_GS1_OK);
    CU_ASSERT_EQUAL(parse("]C115241200"), DEPOT_GS1_OK);
    /* 7006 FIRST FREEZE DATE is N6,yymmdd: no day 00 */
    CU_ASSERT_EQUAL(parse("]C17006241201"), DEPOT_GS1_OK);
    CU_ASSERT_EQUAL(parse("]C17006241200"), DEPOT_GS1_E_DATE);
}

static void TEST_overlong_variable_field(void)
{
    CU_ASSERT_EQUAL(parse("]C11012345678901234567890"), DEPOT_GS1_OK); /* 20: the max */
    CU_ASSERT_EQUAL(parse("]C110123456789012345678901"), DEPOT_GS1_E_LENGTH);
    CU_ASSERT_TRUE(error_mentions("(10)"));
    CU_ASSERT_EQUAL(parse("]C1300123456789"), DEPOT_GS1_E_LENGTH); /* N..8 */
    CU_ASSERT_EQUAL(parse("]C110" GS "21X"), DEPOT_GS1_E_LENGTH); /* empty value */
}

static void TEST_wrong_charset(void)
{
    CU_ASSERT_EQUAL(parse("]C110AB~C"), DEPOT_GS1_E_CHARSET);
    CU_ASSERT_TRUE(error_mentions("0x7E"));
    CU_ASSERT_TRUE(error_mentions("offset 7"));
    CU_ASSERT_EQUAL(parse("]C121A B"), DEPOT_GS1_E_CHARSET);
    CU_ASSERT_EQUAL(parse("]C1300012A"), DEPOT_GS1_E_CHARSET);
    CU_ASSERT_EQUAL(parse("]C1010950600013435X"), DEPOT_GS1_E_CHARSET);
    CU_ASSERT_EQUAL(parse("]C1421ABC1234"), DEPOT_GS1_E_CHARSET); /* country must be N3 */
}

static void TEST_unknown_ai(void)
{
    CU_ASSERT_EQUAL(parse("]C19912345"), DEPOT_GS1_E_UNKNOWN_AI);
    CU_ASSERT_TRUE(error_mentions("9912"));
    CU_ASSERT_EQUAL(parse("]C131061234567"), DEPOT_GS1_E_UNKNOWN_AI); /* n = 6 */
    CU_ASSERT_EQUAL(parse("]C1418" "9501101530003"), DEPOT_GS1_E_UNKNOWN_AI);
}

static void TEST_truncated_fixed_field(void)
{
    CU_ASSERT_EQUAL(parse("]C1010950600013"), DEPOT_GS1_E_LENGTH);
    CU_ASSERT_TRUE(error_mentions("needs 14"));
    CU_ASSERT_EQUAL(parse("]C101095060" GS "10A"), DEPOT_GS1_E_LENGTH);
    CU_ASSERT_EQUAL(parse("]C101"), DEPOT_GS1_E_LENGTH);
}

static void TEST_trailing_garbage(void)
{
    CU_ASSERT_EQUAL(parse("]C10109506000134352xy"), DEPOT_GS1_E_SYNTAX);
    CU_ASSERT_TRUE(error_mentions("offset 19"));
    CU_ASSERT_EQUAL(parse("]C101095060001343521"), DEPOT_GS1_E_SYNTAX);
    CU_ASSERT_TRUE(error_mentions("offset 19"));
    CU_ASSERT_EQUAL(parse("]C110A" GS GS "21B"), DEPOT_GS1_E_SYNTAX); /* empty field */
    CU_ASSERT_TRUE(error_mentions("FNC1"));
}

static void TEST_empty_input(void)
{
    CU_ASSERT_EQUAL(depot_gs1_parse("", 0, &scan), DEPOT_GS1_E_EMPTY);
    CU_ASSERT_EQUAL(parse("]C1"), DEPOT_GS1_E_EMPTY);
    CU_ASSERT_EQUAL(parse("]C0"), DEPOT_GS1_E_EMPTY);
    CU_ASSERT_EQUAL(parse("]C1" GS), DEPOT_GS1_E_EMPTY);
}

static void TEST_nul_bytes(void)
{
    static const char s[] = "]C10109506000134352\0" "10A";
    CU_ASSERT_EQUAL(depot_gs1_parse(s, sizeof s - 1, &scan), DEPOT_GS1_E_NUL);
    CU_ASSERT_TRUE(error_mentions("offset 19"));
    CU_ASSERT_EQUAL(depot_gs1_parse("]C0A\0B", 6, &scan), DEPOT_GS1_E_NUL);
}

static void TEST_bounded_input(void)
{
    char buf[DEPOT_GS1_INPUT_MAX + 1];
    memset(buf, 'A', sizeof buf);
    memcpy(buf, "]C0", 3);
    CU_ASSERT_EQUAL(depot_gs1_parse(buf, DEPOT_GS1_INPUT_MAX, &scan), DEPOT_GS1_OK);
    CU_ASSERT_EQUAL(strlen(scan.data), DEPOT_GS1_INPUT_MAX - 3);
    CU_ASSERT_EQUAL(depot_gs1_parse(buf, sizeof buf, &scan), DEPOT_GS1_E_TOO_LONG);
    /* the length given is the limit: bytes after it are never read */
    CU_ASSERT_EQUAL(depot_gs1_parse("]C10109506000134352XYZ", 19, &scan), DEPOT_GS1_OK);
    CU_ASSERT_EQUAL(depot_gs1_parse("]C1010950600013435", 12, &scan), DEPOT_GS1_E_LENGTH);
}

static void TEST_too_many_fields(void)
{
    char buf[DEPOT_GS1_INPUT_MAX];
    size_t n = 0;
    memcpy(buf, "]C1", 3);
    n = 3;
    for (int i = 0; i < DEPOT_GS1_FIELDS_MAX + 1; i++) {
        memcpy(buf + n, "201" "2", 4); /* (20) is fixed length N2 */
        n += 4;
    }
    CU_ASSERT_EQUAL(depot_gs1_parse(buf, n, &scan), DEPOT_GS1_E_TOO_LONG);
    CU_ASSERT_EQUAL(depot_gs1_parse(buf, n - 4, &scan), DEPOT_GS1_OK);
    CU_ASSERT_EQUAL(scan.n_fields, DEPOT_GS1_FIELDS_MAX);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"aim_identifiers", TEST_aim_identifiers},
        {"gln_ais_410_to_414", TEST_gln_ais_410_to_414},
        {"aim_unknown_is_stripped_and_plain", TEST_aim_unknown_is_stripped_and_plain},
        {"aim_malformed_is_refused", TEST_aim_malformed_is_refused},
        {"plain_code128_keeps_data", TEST_plain_code128_keeps_data},
        {"several_ais_with_fnc1", TEST_several_ais_with_fnc1},
        {"other_order_and_fnc1_placements", TEST_other_order_and_fnc1_placements},
        {"logistics_label", TEST_logistics_label},
        {"no_aim_with_leading_fnc1_is_gs1", TEST_no_aim_with_leading_fnc1_is_gs1},
        {"fixed_fields_need_no_fnc1_but_gsin_does",
         TEST_fixed_fields_need_no_fnc1_but_gsin_does},
        {"ean13_and_upc_become_gtin14", TEST_ean13_and_upc_become_gtin14},
        {"ean_check_digit_and_length", TEST_ean_check_digit_and_length},
        {"check_digit_failures", TEST_check_digit_failures},
        {"dates", TEST_dates},
        {"day_zero_where_allowed", TEST_day_zero_where_allowed},
        {"overlong_variable_field", TEST_overlong_variable_field},
        {"wrong_charset", TEST_wrong_charset},
        {"unknown_ai", TEST_unknown_ai},
        {"truncated_fixed_field", TEST_truncated_fixed_field},
        {"trailing_garbage", TEST_trailing_garbage},
        {"empty_input", TEST_empty_input},
        {"nul_bytes", TEST_nul_bytes},
        {"bounded_input", TEST_bounded_input},
        {"too_many_fields", TEST_too_many_fields},
        {NULL, NULL},
    };
    return test_run("gs1", cases);
}
