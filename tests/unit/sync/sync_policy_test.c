/* Unit tests of the sync worker's pure parts: OAuth 1.0a signatures against a published
 * vector, the backoff policy with Retry-After, and the circuit breaker's states. */
#include <limits.h>
#include <string.h>
#include "sync_int.h"
#include "testutil.h"

/* OAuth Core 1.0 Appendix A.5 (the RFC 5849 photos example with its token secret). */
static void TEST_oauth1_matches_the_published_vector(void)
{
    const struct sync_oauth1_param q[] = {{"file", "vacation.jpg"}, {"size", "original"}};
    char sig[64];
    char *qs = sync_oauth1_sign("GET", "http://photos.example.net/photos", q, 2,
                                "dpf43f3p2l4k3l03", "kd94hf93k423kf44", "nnch734d00sl2jdk",
                                "pfkkdhi9sl3r4s00", "kllo9940pd9333jh", 1191242096, sig);
    CU_ASSERT_PTR_NOT_NULL_FATAL(qs);
    CU_ASSERT_STRING_EQUAL(sig, "tR3+Ty81lMeYAr/Fid0kMTYa/WM=");
    CU_ASSERT_PTR_NOT_NULL(strstr(qs, "oauth_signature=tR3%2BTy81lMeYAr%2FFid0kMTYa%2FWM%3D"));
    CU_ASSERT_PTR_NOT_NULL(strstr(qs, "file=vacation.jpg"));
    free(qs);
}

/* WooCommerce's one-legged form: no token, key "consumer_secret&"; checked against the
 * same computation done by hand (Python hmac/base64) for these inputs. */
static void TEST_oauth1_one_legged_encodes_reserved_characters(void)
{
    const struct sync_oauth1_param q[] = {{"per_page", "100"}, {"search", "a b&c=d/é"}};
    char sig[64];
    char *qs = sync_oauth1_sign("GET", "http://shop.test/wp-json/wc/v3/orders/7/notes", q, 2,
                                "ck_1", "cs_2", NULL, NULL, "abc", 1700000000, sig);
    CU_ASSERT_PTR_NOT_NULL_FATAL(qs);
    CU_ASSERT_STRING_EQUAL(sig, "A610l3nFvdg0HaGF0t8skGXJfT4=");
    CU_ASSERT_PTR_NOT_NULL(strstr(qs, "search=a%20b%26c%3Dd%2F%C3%A9"));
    CU_ASSERT_PTR_NULL(strstr(qs, "oauth_token"));
    free(qs);
}

static void TEST_backoff_doubles_with_jitter_and_cap(void)
{
    /* rnd 0 gives the fixed half, rnd ~1 the whole delay */
    CU_ASSERT_EQUAL(sync_backoff_ms(1, 1000, 60000, -1, 0.0), 500);
    CU_ASSERT_EQUAL(sync_backoff_ms(1, 1000, 60000, -1, 0.999999), 999);
    CU_ASSERT_EQUAL(sync_backoff_ms(3, 1000, 60000, -1, 0.0), 2000);
    CU_ASSERT_EQUAL(sync_backoff_ms(30, 1000, 60000, -1, 0.0), 30000);
    CU_ASSERT(sync_backoff_ms(30, 1000, 60000, -1, 0.5) <= 60000);
    for (int a = 1; a < 12; a++) {
        int64_t lo = sync_backoff_ms(a, 100, 100000, -1, 0.0);
        int64_t hi = sync_backoff_ms(a, 100, 100000, -1, 0.99);
        CU_ASSERT(lo <= hi);
        CU_ASSERT(hi <= 2 * lo + 1);
    }
}

static void TEST_backoff_honours_retry_after(void)
{
    CU_ASSERT_EQUAL(sync_backoff_ms(1, 100, 60000, 7, 0.5), 7000);
    CU_ASSERT_EQUAL(sync_backoff_ms(10, 1000, 600000, 1, 0.0), 256000); /* larger wins */
    CU_ASSERT_EQUAL(sync_parse_retry_after("2", 0), 2);
    CU_ASSERT_EQUAL(sync_parse_retry_after(" 30 \r\n", 0), 30);
    CU_ASSERT_EQUAL(sync_parse_retry_after("99999999", 0), 24 * 3600);
    CU_ASSERT_EQUAL(sync_parse_retry_after("soon", 0), -1);
    CU_ASSERT_EQUAL(sync_parse_retry_after("1.5", 0), -1);
    /* HTTP date: 120 s after "now" */
    CU_ASSERT_EQUAL(sync_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412360), 120);
    CU_ASSERT_EQUAL(sync_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412600), 0);
}

static void TEST_breaker_opens_probes_and_closes(void)
{
    struct sync_breaker b = {0};
    double t = 100;
    CU_ASSERT_TRUE(sync_breaker_allow(&b, t, 5));
    CU_ASSERT_EQUAL(sync_breaker_failure(&b, t, 3), 0);
    CU_ASSERT_EQUAL(sync_breaker_failure(&b, t, 3), 0);
    CU_ASSERT_EQUAL(sync_breaker_success(&b), 0); /* a success resets the count */
    CU_ASSERT_EQUAL(b.failures, 0);
    sync_breaker_failure(&b, t, 3);
    sync_breaker_failure(&b, t, 3);
    CU_ASSERT_EQUAL(sync_breaker_failure(&b, t, 3), 1);
    CU_ASSERT_EQUAL(b.state, SYNC_BREAKER_OPEN);
    CU_ASSERT_EQUAL(b.opens, 1);
    CU_ASSERT_FALSE(sync_breaker_allow(&b, t + 4.9, 5));
    /* cooldown over: exactly one probe */
    CU_ASSERT_TRUE(sync_breaker_allow(&b, t + 5, 5));
    CU_ASSERT_EQUAL(b.state, SYNC_BREAKER_HALF_OPEN);
    CU_ASSERT_FALSE(sync_breaker_allow(&b, t + 5, 5));
    /* the probe fails: open again, a new cooldown */
    CU_ASSERT_EQUAL(sync_breaker_failure(&b, t + 6, 3), 1);
    CU_ASSERT_EQUAL(b.state, SYNC_BREAKER_OPEN);
    CU_ASSERT_EQUAL(b.opens, 2);
    CU_ASSERT_FALSE(sync_breaker_allow(&b, t + 10, 5));
    CU_ASSERT_TRUE(sync_breaker_allow(&b, t + 11, 5));
    /* a released probe (shutdown, throttled) may be taken again */
    sync_breaker_release(&b);
    CU_ASSERT_TRUE(sync_breaker_allow(&b, t + 11, 5));
    CU_ASSERT_EQUAL(sync_breaker_success(&b), 1);
    CU_ASSERT_EQUAL(b.state, SYNC_BREAKER_CLOSED);
    CU_ASSERT_STRING_EQUAL(sync_breaker_state_name(b.state), "closed");
}

static void TEST_rate_limit_follows_shopify_bucket(void)
{
    struct sync_channel ch = {0};
    CU_ASSERT_TRUE(sync_rate_allow(&ch, 10, 0)); /* nothing known yet */
    cJSON *ext = cJSON_Parse("{\"cost\":{\"requestedQueryCost\":10,\"throttleStatus\":"
                             "{\"maximumAvailable\":100,\"currentlyAvailable\":15,"
                             "\"restoreRate\":10}}}");
    sync_rate_observe_shopify(&ch, ext, 49, 50);
    cJSON_Delete(ext);
    CU_ASSERT_TRUE(sync_rate_allow(&ch, 10, 50));
    sync_rate_spend(&ch, 10, 50);
    CU_ASSERT_FALSE(sync_rate_allow(&ch, 10, 50));  /* 5 left */
    CU_ASSERT_TRUE(sync_rate_allow(&ch, 10, 50.5)); /* restored 5 more */
    sync_rate_pause(&ch, 2, 60);
    CU_ASSERT_FALSE(sync_rate_allow(&ch, 1, 61.9));
    CU_ASSERT_TRUE(sync_rate_allow(&ch, 1, 62));
    CU_ASSERT_EQUAL(ch.throttled, 1);
}

static void TEST_rate_counts_calls_in_flight_and_the_bucket(void)
{
    struct sync_channel ch = {0};
    CU_ASSERT_EQUAL(sync_rate_calls(&ch, 10, 0), INT_MAX); /* nothing known: unmetered */
    ch.wire_cost = 20;                                    /* two calls on the wire */
    cJSON *ext = cJSON_Parse("{\"cost\":{\"throttleStatus\":{\"maximumAvailable\":40,"
                             "\"currentlyAvailable\":30,\"restoreRate\":100}}}");
    sync_rate_observe_shopify(&ch, ext, 9, 10);
    cJSON_Delete(ext);
    /* 30 reported, 20 of it still to be taken by the calls in flight */
    CU_ASSERT_EQUAL(sync_rate_calls(&ch, 10, 10), 1);
    CU_ASSERT_EQUAL(sync_rate_calls(&ch, 10, 10.25), 3); /* +25 restored */
    CU_ASSERT_EQUAL(sync_rate_calls(&ch, 10, 20), 4);    /* capped at 40 */
    CU_ASSERT_EQUAL(sync_rate_calls(&ch, 100, 10), 0);  /* bigger than the bucket: */
    CU_ASSERT_EQUAL(sync_rate_calls(&ch, 100, 11), 1);  /* one, once it is full */
    /* the answer to a call that ran alongside, read late, may carry an older figure:
     * it can only lower the estimate */
    ext = cJSON_Parse("{\"cost\":{\"throttleStatus\":{\"maximumAvailable\":40,"
                      "\"currentlyAvailable\":40,\"restoreRate\":100}}}");
    ch.wire_cost = 0;
    sync_rate_observe_shopify(&ch, ext, 8, 10);
    CU_ASSERT_EQUAL(sync_rate_calls(&ch, 10, 10), 1);
    sync_rate_observe_shopify(&ch, ext, 10.5, 11); /* a call sent after: taken as is */
    cJSON_Delete(ext);
    CU_ASSERT_EQUAL(sync_rate_calls(&ch, 10, 11), 4);
    sync_rate_pause(&ch, 1, 11);
    CU_ASSERT_EQUAL(sync_rate_calls(&ch, 10, 11.5), 0);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"oauth1 matches the published vector", TEST_oauth1_matches_the_published_vector},
        {"oauth1 one-legged encodes reserved characters",
         TEST_oauth1_one_legged_encodes_reserved_characters},
        {"backoff doubles with jitter and cap", TEST_backoff_doubles_with_jitter_and_cap},
        {"backoff honours Retry-After", TEST_backoff_honours_retry_after},
        {"breaker opens, probes and closes", TEST_breaker_opens_probes_and_closes},
        {"rate limit follows Shopify's bucket", TEST_rate_limit_follows_shopify_bucket},
        {"rate counts calls in flight and the bucket",
         TEST_rate_counts_calls_in_flight_and_the_bucket},
        {NULL, NULL},
    };
    return test_run("sync_policy", cases);
}
