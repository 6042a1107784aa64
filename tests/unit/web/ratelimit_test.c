/* Rate limiter tests: burst then refusal with the right Retry-After, refill over time,
 * independent keys, and a bounded table that forgets the least recently seen key. */
#include <stdio.h>
#include "testutil.h"
#include "web_int.h"

static int take(struct web_ratelimit *rl, const char *key, double now, int *retry)
{
    return web_ratelimit_take(rl, key, now, retry);
}

static void TEST_bad_parameters_are_refused(void)
{
    CU_ASSERT_PTR_NULL(web_ratelimit_new(0, 5, 10));
    CU_ASSERT_PTR_NULL(web_ratelimit_new(-1, 5, 10));
    CU_ASSERT_PTR_NULL(web_ratelimit_new(1, 0.5, 10));
    CU_ASSERT_PTR_NULL(web_ratelimit_new(1, 5, 0));
    web_ratelimit_free(NULL);
}

/* A full bucket of 3 at 1 token/s: three requests pass at once, the fourth is told to
 * come back in 1 s. */
static void TEST_burst_then_refusal_with_retry_after(void)
{
    struct web_ratelimit *rl = web_ratelimit_new(1, 3, 16);
    int retry = -1;
    CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(take(rl, "10.0.0.1", 100.0, &retry), 0);
        CU_ASSERT_EQUAL(retry, 0);
    }
    CU_ASSERT_EQUAL(take(rl, "10.0.0.1", 100.0, &retry), -1);
    CU_ASSERT_EQUAL(retry, 1);
    web_ratelimit_free(rl);
}

/* Retry-After is the whole seconds until one token has been refilled, rounded up. */
static void TEST_retry_after_rounds_up_to_the_next_token(void)
{
    struct web_ratelimit *rl = web_ratelimit_new(5.0 / 60, 5, 16); /* login: 5/min */
    int retry = 0;
    CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
    for (int i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(take(rl, "alice", 0.0, &retry), 0);
    CU_ASSERT_EQUAL(take(rl, "alice", 0.0, &retry), -1);
    CU_ASSERT_EQUAL(retry, 12);
    CU_ASSERT_EQUAL(take(rl, "alice", 6.5, &retry), -1); /* half a token: 5.5 s to go */
    CU_ASSERT_EQUAL(retry, 6);
    CU_ASSERT_EQUAL(take(rl, "alice", 11.9, &retry), -1);
    CU_ASSERT_EQUAL(retry, 1); /* never 0 while refused */
    CU_ASSERT_EQUAL(take(rl, "alice", 12.0, &retry), 0);
    web_ratelimit_free(rl);
}

/* Waiting Retry-After seconds is enough; a long pause refills to the burst and no more. */
static void TEST_refill_over_time_is_capped_at_burst(void)
{
    struct web_ratelimit *rl = web_ratelimit_new(2, 4, 16);
    int retry = 0, passed = 0;
    double t = 50.0;
    CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
    while (take(rl, "k", t, &retry) == 0)
        passed++;
    CU_ASSERT_EQUAL(passed, 4);
    CU_ASSERT_EQUAL(retry, 1);
    t += retry;
    CU_ASSERT_EQUAL(take(rl, "k", t, &retry), 0); /* 2 tokens came back */
    CU_ASSERT_EQUAL(take(rl, "k", t, &retry), 0);
    CU_ASSERT_EQUAL(take(rl, "k", t, &retry), -1);
    t += 3600;
    for (passed = 0; take(rl, "k", t, &retry) == 0; passed++)
        ;
    CU_ASSERT_EQUAL(passed, 4);
    /* A clock that steps back does not mint tokens. */
    CU_ASSERT_EQUAL(take(rl, "k", t - 100, &retry), -1);
    web_ratelimit_free(rl);
}

static void TEST_keys_are_independent(void)
{
    struct web_ratelimit *rl = web_ratelimit_new(0.01, 2, 16);
    int retry = 0;
    CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
    CU_ASSERT_EQUAL(take(rl, "192.0.2.1", 0, &retry), 0);
    CU_ASSERT_EQUAL(take(rl, "192.0.2.1", 0, &retry), 0);
    CU_ASSERT_EQUAL(take(rl, "192.0.2.1", 0, &retry), -1);
    CU_ASSERT_EQUAL(retry, 100);
    CU_ASSERT_EQUAL(take(rl, "192.0.2.10", 0, &retry), 0);
    CU_ASSERT_EQUAL(take(rl, "2001:db8::1", 0, &retry), 0);
    CU_ASSERT_EQUAL(take(rl, "", 0, &retry), 0);
    CU_ASSERT_EQUAL(take(rl, "192.0.2.1", 0, &retry), -1);
    web_ratelimit_free(rl);
}

/* burst 1 and no refill to speak of: a remembered key is refused, a forgotten one is
 * new again. */
static void TEST_full_table_forgets_least_recently_seen(void)
{
    struct web_ratelimit *rl = web_ratelimit_new(1e-6, 1, 4);
    int retry = 0;
    CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
    CU_ASSERT_EQUAL(take(rl, "a", 0, &retry), 0);
    CU_ASSERT_EQUAL(take(rl, "b", 0, &retry), 0);
    CU_ASSERT_EQUAL(take(rl, "c", 0, &retry), 0);
    CU_ASSERT_EQUAL(take(rl, "d", 0, &retry), 0);
    CU_ASSERT_EQUAL(take(rl, "a", 1, &retry), -1); /* seen again: now the newest */
    CU_ASSERT_EQUAL(take(rl, "e", 1, &retry), 0);  /* evicts b, the oldest */
    CU_ASSERT_EQUAL(take(rl, "a", 1, &retry), -1);
    CU_ASSERT_EQUAL(take(rl, "c", 1, &retry), -1);
    CU_ASSERT_EQUAL(take(rl, "b", 1, &retry), 0);  /* forgotten; evicts d */
    CU_ASSERT_EQUAL(take(rl, "d", 1, &retry), 0);  /* forgotten; evicts e */
    web_ratelimit_free(rl);
}

/* Many more keys than slots: exactly the newest max_keys are remembered. */
static void TEST_table_stays_bounded(void)
{
    enum { SLOTS = 64, KEYS = 5000 };
    struct web_ratelimit *rl = web_ratelimit_new(1e-6, 1, SLOTS);
    char key[32];
    int retry = 0, refused = 0;
    CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
    for (int i = 0; i < KEYS; i++) {
        snprintf(key, sizeof key, "10.1.%d.%d", i / 256, i % 256);
        CU_ASSERT_EQUAL(take(rl, key, 0, &retry), 0);
    }
    for (int i = KEYS - 1; i >= KEYS - SLOTS; i--) {
        snprintf(key, sizeof key, "10.1.%d.%d", i / 256, i % 256);
        refused += take(rl, key, 0, &retry) != 0;
    }
    CU_ASSERT_EQUAL(refused, SLOTS);
    snprintf(key, sizeof key, "10.1.%d.%d", (KEYS - SLOTS - 1) / 256,
             (KEYS - SLOTS - 1) % 256);
    CU_ASSERT_EQUAL(take(rl, key, 0, &retry), 0);
    web_ratelimit_free(rl);
}

/* Keys longer than the stored length share a bucket by their prefix, without overflow. */
static void TEST_long_keys_are_truncated_safely(void)
{
    struct web_ratelimit *rl = web_ratelimit_new(1e-6, 1, 8);
    char a[300], b[300];
    int retry = 0;
    CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
    memset(a, 'x', sizeof a - 1);
    a[sizeof a - 1] = '\0';
    memcpy(b, a, sizeof b);
    b[200] = 'y';
    CU_ASSERT_EQUAL(take(rl, a, 0, &retry), 0);
    CU_ASSERT_EQUAL(take(rl, b, 0, &retry), -1);
    CU_ASSERT_EQUAL(take(rl, "xxxx", 0, &retry), 0);
    web_ratelimit_free(rl);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"bad parameters are refused", TEST_bad_parameters_are_refused},
        {"burst then refusal with Retry-After", TEST_burst_then_refusal_with_retry_after},
        {"Retry-After rounds up to the next token",
         TEST_retry_after_rounds_up_to_the_next_token},
        {"refill over time is capped at burst", TEST_refill_over_time_is_capped_at_burst},
        {"keys are independent", TEST_keys_are_independent},
        {"full table forgets the least recently seen",
         TEST_full_table_forgets_least_recently_seen},
        {"table stays bounded", TEST_table_stays_bounded},
        {"long keys are truncated safely", TEST_long_keys_are_truncated_safely},
        {NULL, NULL},
    };
    return test_run("ratelimit", cases);
}
