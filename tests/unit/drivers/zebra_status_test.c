/* Unit tests of the ~HS host status parser: real-looking replies for each condition, and
 * incomplete or malformed ones. */
#include "testutil.h"
#include "zebra_status.h"

#define S1_OK "030,0,0,1218,000,0,0,0,000,0,0,0"
#define S2_OK "001,0,0,0,1,2,6,0,00000000,1,000"
#define S3_OK "1234,0"
#define HS(a, b, c) "\x02" a "\x03\r\n\x02" b "\x03\r\n\x02" c "\x03\r\n"

static int parse(const char *reply, struct depot_zebra_status *st, char *err, size_t n)
{
    return depot_zebra_status_parse(reply, strlen(reply), st, err, n);
}

static void TEST_all_ok(void)
{
    struct depot_zebra_status s;
    char err[128];
    CU_ASSERT_EQUAL_FATAL(parse(HS(S1_OK, S2_OK, S3_OK), &s, err, sizeof err), 0);
    CU_ASSERT_FALSE(s.paper_out || s.paused || s.head_open || s.ribbon_out || s.buffer_full);
    CU_ASSERT_TRUE(depot_zebra_status_ready(&s));
}

static void TEST_each_condition(void)
{
    static const struct {
        const char *reply;
        struct depot_zebra_status want;
    } cases[] = {
        {HS("030,1,0,1218,000,0,0,0,000,0,0,0", S2_OK, S3_OK), {.paper_out = 1}},
        {HS("030,0,1,1218,000,0,0,0,000,0,0,0", S2_OK, S3_OK), {.paused = 1}},
        {HS("030,0,0,1218,003,1,0,0,000,0,0,0", S2_OK, S3_OK), {.buffer_full = 1}},
        {HS(S1_OK, "001,0,1,0,1,2,6,0,00000000,1,000", S3_OK), {.head_open = 1}},
        {HS(S1_OK, "001,0,0,1,1,2,6,0,00000000,1,000", S3_OK), {.ribbon_out = 1}},
        {HS("030,1,1,1218,000,0,0,0,000,0,0,0", "001,0,1,1,1,2,6,0,00000000,1,000", S3_OK),
         {.paper_out = 1, .paused = 1, .head_open = 1, .ribbon_out = 1}},
    };
    char err[128];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct depot_zebra_status s;
        CU_ASSERT_EQUAL_FATAL(parse(cases[i].reply, &s, err, sizeof err), 0);
        CU_ASSERT_EQUAL(s.paper_out, cases[i].want.paper_out);
        CU_ASSERT_EQUAL(s.paused, cases[i].want.paused);
        CU_ASSERT_EQUAL(s.buffer_full, cases[i].want.buffer_full);
        CU_ASSERT_EQUAL(s.head_open, cases[i].want.head_open);
        CU_ASSERT_EQUAL(s.ribbon_out, cases[i].want.ribbon_out);
        CU_ASSERT_FALSE(depot_zebra_status_ready(&s));
    }
}

static void TEST_older_firmware_shorter_strings(void)
{
    struct depot_zebra_status s;
    char err[128];
    CU_ASSERT_EQUAL(parse(HS("030,1,0,1218,000,0,0,0", "001,0,0,1", "1234"), &s, err,
                          sizeof err), 0);
    CU_ASSERT_TRUE(s.paper_out && s.ribbon_out);
}

static void TEST_malformed_refused(void)
{
    static const char *const bad[] = {
        "",
        "\x02" S1_OK "\x03\r\n",                                  /* one string */
        "\x02" S1_OK "\x03\r\n\x02" S2_OK "\x03\r\n",             /* two strings */
        HS(S1_OK, S2_OK, S3_OK) "x",                              /* trailing byte */
        S1_OK "\x03\r\n\x02" S2_OK "\x03\r\n\x02" S3_OK "\x03\r\n", /* no STX */
        "\x02" S1_OK "\x03\n\x02" S2_OK "\x03\r\n\x02" S3_OK "\x03\r\n", /* no CR */
        "\x02" S1_OK "\x03\r\n\x02" S2_OK "\x03\r\n\x02" S3_OK,   /* no ETX */
        HS("030,0,0,1218,000,0,0", S2_OK, S3_OK),                 /* 7 fields */
        HS(S1_OK, "001,0,0", S3_OK),                              /* 3 fields */
        HS("030,2,0,1218,000,0,0,0,000,0,0,0", S2_OK, S3_OK),     /* flag 2 */
        HS("030,0,00,1218,000,0,0,0,000,0,0,0", S2_OK, S3_OK),    /* flag 00 */
        HS("030,0,0,12a8,000,0,0,0,000,0,0,0", S2_OK, S3_OK),     /* letter */
        HS("030,0,,1218,000,0,0,0,000,0,0,0", S2_OK, S3_OK),      /* empty field */
        HS(S1_OK ",", S2_OK, S3_OK),                              /* trailing comma */
        HS(S1_OK, S2_OK, ""),                                     /* empty string 3 */
    };
    char err[128];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct depot_zebra_status s = {.paper_out = 7};
        err[0] = '\0';
        CU_ASSERT_EQUAL(parse(bad[i], &s, err, sizeof err), -1);
        CU_ASSERT_NOT_EQUAL(err[0], '\0');
        CU_ASSERT_EQUAL(s.paper_out, 0);
    }
}

static void TEST_embedded_nul_and_length_bound(void)
{
    struct depot_zebra_status s;
    char err[128], big[DEPOT_ZEBRA_HS_MAX + 2];
    static const char nul[] = "\x02" "030,0\0,0" "\x03\r\n";
    CU_ASSERT_EQUAL(depot_zebra_status_parse(nul, sizeof nul - 1, &s, err, sizeof err), -1);
    memset(big, '0', sizeof big);
    CU_ASSERT_EQUAL(depot_zebra_status_parse(big, sizeof big, &s, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "longer"));
}

int main(void)
{
    static const struct test_case cases[] = {
        {"all_ok", TEST_all_ok},
        {"each_condition", TEST_each_condition},
        {"older_firmware_shorter_strings", TEST_older_firmware_shorter_strings},
        {"malformed_refused", TEST_malformed_refused},
        {"embedded_nul_and_length_bound", TEST_embedded_nul_and_length_bound},
        {0},
    };
    return test_run("zebra_status", cases);
}
