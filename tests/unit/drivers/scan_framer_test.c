/* Unit tests of scan framing: every suffix mode, reads split anywhere and merged, CRLF
 * split across reads, over-long frames, prefixes, and NUL/control/non-ASCII noise. */
#include "testutil.h"
#include "scan_framer.h"

#define MAX_FRAMES 16

struct collected {
    int n;
    char frames[MAX_FRAMES][DEPOT_SCAN_FRAME_MAX + 1];
};

static void collect(void *user, const char *frame, size_t len)
{
    struct collected *c = user;
    CU_ASSERT_EQUAL(strlen(frame), len);
    if (c->n < MAX_FRAMES)
        memcpy(c->frames[c->n++], frame, len + 1);
}

static void framer(struct depot_scan_framer *f, const char *suffix, const char *prefix,
                   size_t max_len)
{
    struct depot_scan_framer_config c;
    depot_scan_framer_config_default(&c);
    CU_ASSERT_EQUAL_FATAL(depot_scan_suffix_parse(suffix, &c), 0);
    snprintf(c.prefix, sizeof c.prefix, "%s", prefix);
    if (max_len)
        c.max_len = max_len;
    CU_ASSERT_EQUAL_FATAL(depot_scan_framer_config_valid(&c), 0);
    depot_scan_framer_init(f, &c);
}

static void feed(struct depot_scan_framer *f, struct collected *c, const char *bytes,
                 size_t n)
{
    depot_scan_framer_feed(f, bytes, n, collect, c);
}

#define FEED(f, c, lit) feed(f, c, lit, sizeof(lit) - 1)

/* The same stream split at every possible point, and byte by byte, gives the same
 * frames as one read. */
static void check_every_split(const char *suffix, const char *stream, size_t n,
                              int want_n, const char *const *want)
{
    for (size_t cut = 0; cut <= n; cut++) {
        struct depot_scan_framer f;
        struct collected c = {0};
        framer(&f, suffix, "", 0);
        feed(&f, &c, stream, cut);
        feed(&f, &c, stream + cut, n - cut);
        CU_ASSERT_EQUAL(c.n, want_n);
        for (int i = 0; i < want_n && i < c.n; i++)
            CU_ASSERT_STRING_EQUAL(c.frames[i], want[i]);
    }
    struct depot_scan_framer f;
    struct collected c = {0};
    framer(&f, suffix, "", 0);
    for (size_t i = 0; i < n; i++)
        feed(&f, &c, stream + i, 1);
    CU_ASSERT_EQUAL(c.n, want_n);
    CU_ASSERT_EQUAL(f.stats.frames, (uint64_t)want_n);
}

static void TEST_cr_split_and_merged(void)
{
    static const char stream[] = "]C1\x1d" "0100012345678905\r4006381333931\rABC-1\r";
    const char *want[] = {"]C1\x1d" "0100012345678905", "4006381333931", "ABC-1"};
    check_every_split("cr", stream, sizeof stream - 1, 3, want);
}

static void TEST_lf_split_and_merged(void)
{
    static const char stream[] = "ORDER-42\nBIN-A1\n";
    const char *want[] = {"ORDER-42", "BIN-A1"};
    check_every_split("lf", stream, sizeof stream - 1, 2, want);
}

static void TEST_crlf_split_across_reads(void)
{
    static const char stream[] = "CMD-PACK\r\nSKU-9\r\n";
    const char *want[] = {"CMD-PACK", "SKU-9"};
    check_every_split("crlf", stream, sizeof stream - 1, 2, want);

    /* The frame is not delivered on the CR alone: only when its LF arrives. */
    struct depot_scan_framer f;
    struct collected c = {0};
    framer(&f, "crlf", "", 0);
    FEED(&f, &c, "ABC\r");
    CU_ASSERT_EQUAL(c.n, 0);
    CU_ASSERT_TRUE(depot_scan_framer_pending(&f));
    FEED(&f, &c, "\n");
    CU_ASSERT_EQUAL(c.n, 1);
    CU_ASSERT_STRING_EQUAL(c.frames[0], "ABC");
}

static void TEST_crlf_lone_cr_or_lf_is_garbage(void)
{
    struct depot_scan_framer f;
    struct collected c = {0};
    framer(&f, "crlf", "", 0);
    FEED(&f, &c, "AB\rCD\r\nEF\nGH\r\nOK\r\n");
    CU_ASSERT_EQUAL(c.n, 1);
    CU_ASSERT_STRING_EQUAL(c.frames[0], "OK");
    CU_ASSERT_EQUAL(f.stats.dropped_garbage, 2);
}

static void TEST_crlf_from_the_scanner_in_cr_and_lf_modes(void)
{
    static const char stream[] = "ABC\r\nDEF\r\n";
    const char *want[] = {"ABC", "DEF"};
    check_every_split("cr", stream, sizeof stream - 1, 2, want);
    check_every_split("lf", stream, sizeof stream - 1, 2, want);

    struct depot_scan_framer f;
    struct collected c = {0};
    framer(&f, "cr", "", 0);
    FEED(&f, &c, "ABC\r\n\nDEF\r"); /* the second LF is a stray */
    CU_ASSERT_EQUAL(c.n, 2);
    CU_ASSERT_EQUAL(f.stats.noise_bytes, 1);
    framer(&f, "lf", "", 0);
    FEED(&f, &c, "AB\rCD\nOK\n"); /* a CR inside a frame is garbage */
    CU_ASSERT_EQUAL(c.n, 3);
    CU_ASSERT_STRING_EQUAL(c.frames[2], "OK");
    CU_ASSERT_EQUAL(f.stats.dropped_garbage, 1);
}

static void TEST_timeout_mode_frames_on_flush(void)
{
    struct depot_scan_framer f;
    struct collected c = {0};
    framer(&f, "timeout:30", "", 0);
    CU_ASSERT_EQUAL(f.cfg.timeout_ms, 30);
    FEED(&f, &c, "4006381");
    FEED(&f, &c, "333931");
    CU_ASSERT_EQUAL(c.n, 0);
    CU_ASSERT_TRUE(depot_scan_framer_pending(&f));
    depot_scan_framer_flush(&f, collect, &c);
    CU_ASSERT_EQUAL(c.n, 1);
    CU_ASSERT_STRING_EQUAL(c.frames[0], "4006381333931");
    CU_ASSERT_FALSE(depot_scan_framer_pending(&f));
    depot_scan_framer_flush(&f, collect, &c); /* nothing buffered: nothing happens */
    CU_ASSERT_EQUAL(c.n, 1);
}

static void TEST_overlong_dropped_then_next_frame_ok(void)
{
    struct depot_scan_framer f;
    struct collected c = {0};
    framer(&f, "cr", "", 8);
    FEED(&f, &c, "12345678\r");        /* exactly max_len: kept */
    FEED(&f, &c, "123456789");         /* one over */
    FEED(&f, &c, "more and more\x01"); /* still the same frame, discarded */
    FEED(&f, &c, "\rNEXT\r");
    CU_ASSERT_EQUAL(c.n, 2);
    CU_ASSERT_STRING_EQUAL(c.frames[0], "12345678");
    CU_ASSERT_STRING_EQUAL(c.frames[1], "NEXT");
    CU_ASSERT_EQUAL(f.stats.dropped_overlong, 1);
    CU_ASSERT_EQUAL(f.stats.dropped_garbage, 0);
}

static void TEST_overlong_at_the_frame_maximum(void)
{
    struct depot_scan_framer f;
    struct collected c = {0};
    static char big[3 * DEPOT_SCAN_FRAME_MAX];
    memset(big, 'A', sizeof big);
    framer(&f, "lf", "", DEPOT_SCAN_FRAME_MAX);
    feed(&f, &c, big, sizeof big);
    FEED(&f, &c, "\nok\n");
    CU_ASSERT_EQUAL(c.n, 1);
    CU_ASSERT_STRING_EQUAL(c.frames[0], "ok");
    CU_ASSERT_EQUAL(f.stats.dropped_overlong, 1);
}

static void TEST_nul_and_control_noise(void)
{
    struct depot_scan_framer f;
    struct collected c = {0};
    framer(&f, "cr", "", 0);
    /* Noise between frames is skipped byte by byte; the scans around it survive. */
    static const char noise[] = "\0\0\x07\x1b\xff\n" "ABC\r\0\x18" "DEF\r";
    feed(&f, &c, noise, sizeof noise - 1);
    CU_ASSERT_EQUAL(c.n, 2);
    CU_ASSERT_STRING_EQUAL(c.frames[0], "ABC");
    CU_ASSERT_STRING_EQUAL(c.frames[1], "DEF");
    CU_ASSERT_EQUAL(f.stats.noise_bytes, 8);
    CU_ASSERT_EQUAL(f.stats.dropped_garbage, 0);

    /* A bad byte inside a frame drops that frame only; GS (FNC1) is data. */
    static const char inside[] = "AB\0CD\rAB\x1b" "CD\rX\xc3\xa9\r01\x1d" "10\r";
    feed(&f, &c, inside, sizeof inside - 1);
    CU_ASSERT_EQUAL(c.n, 3);
    CU_ASSERT_STRING_EQUAL(c.frames[2], "01\x1d" "10");
    CU_ASSERT_EQUAL(f.stats.dropped_garbage, 3);
    CU_ASSERT_EQUAL(f.stats.frames, 3);
}

static void TEST_empty_frames_are_not_frames(void)
{
    struct depot_scan_framer f;
    struct collected c = {0};
    framer(&f, "lf", "", 0);
    FEED(&f, &c, "\n\n\nA\n\n");
    CU_ASSERT_EQUAL(c.n, 1);
    CU_ASSERT_EQUAL(f.stats.noise_bytes, 0);
    CU_ASSERT_EQUAL(f.stats.dropped_garbage, 0);
}

static void TEST_prefix_stripped_or_frame_dropped(void)
{
    struct depot_scan_framer f;
    struct collected c = {0};
    framer(&f, "cr", "S1:", 0);
    FEED(&f, &c, "S1:ABC\rABC\rS1\rS1:\rS1:]E04006381333931\r");
    CU_ASSERT_EQUAL(c.n, 2);
    CU_ASSERT_STRING_EQUAL(c.frames[0], "ABC");
    CU_ASSERT_STRING_EQUAL(c.frames[1], "]E04006381333931");
    CU_ASSERT_EQUAL(f.stats.dropped_prefix, 2);
}

static void TEST_partial_frame_flushed_as_garbage_in_suffix_mode(void)
{
    struct depot_scan_framer f;
    struct collected c = {0};
    framer(&f, "cr", "", 0);
    FEED(&f, &c, "HALF-A-SC");
    depot_scan_framer_flush(&f, collect, &c); /* e.g. the scanner was unplugged */
    FEED(&f, &c, "AN\r");
    CU_ASSERT_EQUAL(c.n, 1);
    CU_ASSERT_STRING_EQUAL(c.frames[0], "AN");
    CU_ASSERT_EQUAL(f.stats.dropped_garbage, 1);
}

static void TEST_suffix_text_round_trip_and_rejects(void)
{
    static const char *good[] = {"cr", "lf", "crlf", "timeout:1", "timeout:10000"};
    static const char *bad[] = {"", "CR", "cr ", "tab", "timeout:", "timeout:0",
                                "timeout:10001", "timeout:-5", "timeout:5x", "timeout:007"};
    struct depot_scan_framer_config c;
    char buf[32];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        depot_scan_framer_config_default(&c);
        CU_ASSERT_EQUAL(depot_scan_suffix_parse(good[i], &c), 0);
        CU_ASSERT_STRING_EQUAL(depot_scan_suffix_format(&c, buf, sizeof buf), good[i]);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(depot_scan_suffix_parse(bad[i], &c), -1);

    depot_scan_framer_config_default(&c);
    snprintf(c.prefix, sizeof c.prefix, "\x02");
    CU_ASSERT_EQUAL(depot_scan_framer_config_valid(&c), -1);
    depot_scan_framer_config_default(&c);
    c.max_len = DEPOT_SCAN_FRAME_MAX + 1;
    CU_ASSERT_EQUAL(depot_scan_framer_config_valid(&c), -1);
    c.max_len = 0;
    CU_ASSERT_EQUAL(depot_scan_framer_config_valid(&c), -1);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"cr_split_and_merged", TEST_cr_split_and_merged},
        {"lf_split_and_merged", TEST_lf_split_and_merged},
        {"crlf_split_across_reads", TEST_crlf_split_across_reads},
        {"crlf_lone_cr_or_lf_is_garbage", TEST_crlf_lone_cr_or_lf_is_garbage},
        {"crlf_from_the_scanner_in_cr_and_lf_modes",
         TEST_crlf_from_the_scanner_in_cr_and_lf_modes},
        {"timeout_mode_frames_on_flush", TEST_timeout_mode_frames_on_flush},
        {"overlong_dropped_then_next_frame_ok", TEST_overlong_dropped_then_next_frame_ok},
        {"overlong_at_the_frame_maximum", TEST_overlong_at_the_frame_maximum},
        {"nul_and_control_noise", TEST_nul_and_control_noise},
        {"empty_frames_are_not_frames", TEST_empty_frames_are_not_frames},
        {"prefix_stripped_or_frame_dropped", TEST_prefix_stripped_or_frame_dropped},
        {"partial_frame_flushed_as_garbage_in_suffix_mode",
         TEST_partial_frame_flushed_as_garbage_in_suffix_mode},
        {"suffix_text_round_trip_and_rejects", TEST_suffix_text_round_trip_and_rejects},
        {0},
    };
    return test_run("scan_framer", cases);
}
