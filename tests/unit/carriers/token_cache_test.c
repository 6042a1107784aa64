/* Unit tests of the token cache (sqlite/token_cache.c) on a real database: sealed
 * storage, the refresh margin, the single-flight lease (one winner among threads with
 * their own connections), rejection of the current token only, and carrier credentials
 * that never leave the vault in clear. */
#include <pthread.h>
#include "carriers.h"
#include "testutil.h"

static const uint8_t KEY[DEPOT_MASTER_KEY_LEN] = {7};
static struct test_db T;

static int64_t add_fedex(void)
{
    struct depot_carrier_in in = {.kind = "fedex", .client_id = "id-1",
                                  .client_secret = "very-secret-value", .account = "1234"};
    int64_t id = 0;
    CU_ASSERT_EQUAL(depot_carrier_add(T.st, KEY, &in, "t", &id), DEPOT_OK);
    return id;
}

static int64_t now_ms(void)
{
    return (int64_t)time(NULL) * 1000;
}

static void TEST_token_is_sealed_and_read_back(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    add_fedex();
    char *tok = NULL;
    struct depot_token_state s;
    CU_ASSERT_EQUAL(depot_token_read(T.st, KEY, "carrier:1", &tok, &s), DEPOT_OK);
    CU_ASSERT_PTR_NULL(tok);
    CU_ASSERT_EQUAL(s.have, 0);
    int64_t exp = time(NULL) + 3600;
    CU_ASSERT_EQUAL(depot_token_store(T.st, KEY, "carrier:1", "tok-abc-123", exp, NULL, "t"),
                    DEPOT_OK);
    CU_ASSERT_EQUAL(depot_token_read(T.st, KEY, "carrier:1", &tok, &s), DEPOT_OK);
    CU_ASSERT_STRING_EQUAL(tok, "tok-abc-123");
    CU_ASSERT_EQUAL(s.expires_at, exp);
    free(tok);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM secrets WHERE instr(sealed, "
                                     "CAST('tok-abc-123' AS BLOB)) > 0"), 0);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM audit WHERE action = "
                                     "'TOKEN_REFRESHED' AND instr(detail, 'tok-abc') > 0"), 0);
    CU_ASSERT_EQUAL(depot_token_read(T.st, KEY, "bogus:1", &tok, &s), DEPOT_E_INVALID);
    CU_ASSERT(test_verify_ok(&T));
    test_db_close(&T);
}

static void TEST_lease_respects_a_good_token_and_a_live_lease(void)
{
    int got = -1;
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    add_fedex();
    CU_ASSERT_EQUAL(depot_token_lease(T.st, "carrier:1", now_ms(), 30000, 300, &got), DEPOT_OK);
    CU_ASSERT_EQUAL(got, 1); /* no token: refresh */
    CU_ASSERT_EQUAL(depot_token_lease(T.st, "carrier:1", now_ms(), 30000, 300, &got), DEPOT_OK);
    CU_ASSERT_EQUAL(got, 0); /* the lease is live */
    CU_ASSERT_EQUAL(depot_token_store(T.st, KEY, "carrier:1", "t1", time(NULL) + 3600, NULL,
                                      "t"), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_token_lease(T.st, "carrier:1", now_ms(), 30000, 300, &got), DEPOT_OK);
    CU_ASSERT_EQUAL(got, 0); /* good for more than the margin */
    CU_ASSERT_EQUAL(depot_token_lease(T.st, "carrier:1", now_ms(), 30000, 3700, &got), DEPOT_OK);
    CU_ASSERT_EQUAL(got, 1); /* inside the margin: refresh ahead of expiry */
    CU_ASSERT_EQUAL(depot_token_fail(T.st, "carrier:1", "HTTP 401: refused", now_ms(), "t"),
                    DEPOT_OK);
    struct depot_token_state s;
    char *tok = NULL;
    depot_token_read(T.st, KEY, "carrier:1", &tok, &s);
    CU_ASSERT_EQUAL(s.lease_until_ms, 0);
    CU_ASSERT_STRING_EQUAL(s.last_error, "HTTP 401: refused");
    free(tok);
    test_db_close(&T);
}

static void TEST_reject_only_drops_the_current_token(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    add_fedex();
    int got = -1;
    depot_token_store(T.st, KEY, "carrier:1", "old", time(NULL) + 3600, NULL, "t");
    depot_token_store(T.st, KEY, "carrier:1", "new", time(NULL) + 3600, NULL, "t");
    CU_ASSERT_EQUAL(depot_token_reject(T.st, "carrier:1", "old"), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_token_lease(T.st, "carrier:1", now_ms(), 30000, 300, &got), DEPOT_OK);
    CU_ASSERT_EQUAL(got, 0);
    CU_ASSERT_EQUAL(depot_token_reject(T.st, "carrier:1", "new"), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_token_lease(T.st, "carrier:1", now_ms(), 30000, 300, &got), DEPOT_OK);
    CU_ASSERT_EQUAL(got, 1);
    test_db_close(&T);
}

#define RACERS 16
static int winners;
static pthread_mutex_t winners_lock = PTHREAD_MUTEX_INITIALIZER;

static void *race(void *arg)
{
    depot_store *st = NULL;
    char err[256];
    int got = 0;
    (void)arg;
    if (depot_store_open(T.path, NULL, &st, err, sizeof err) != DEPOT_OK)
        return NULL;
    if (depot_token_lease(st, "carrier:1", now_ms(), 30000, 300, &got) == DEPOT_OK && got) {
        pthread_mutex_lock(&winners_lock);
        winners++;
        pthread_mutex_unlock(&winners_lock);
    }
    depot_store_close(st);
    return NULL;
}

static void TEST_exactly_one_thread_takes_the_lease(void)
{
    pthread_t t[RACERS];
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    add_fedex();
    winners = 0;
    for (int i = 0; i < RACERS; i++)
        pthread_create(&t[i], NULL, race, NULL);
    for (int i = 0; i < RACERS; i++)
        pthread_join(t[i], NULL);
    CU_ASSERT_EQUAL(winners, 1);
    test_db_close(&T);
}

static void TEST_carrier_credentials_stay_sealed(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    int64_t id = add_fedex();
    char *v = NULL;
    CU_ASSERT_EQUAL(depot_carrier_credential(T.st, KEY, id, "client_secret", &v), DEPOT_OK);
    CU_ASSERT_STRING_EQUAL(v, "very-secret-value");
    free(v);
    CU_ASSERT_EQUAL(depot_carrier_credential(T.st, KEY, id, "token", &v), DEPOT_E_INVALID);
    cJSON *doc = NULL;
    CU_ASSERT_EQUAL(depot_carrier_list_json(T.st, &doc), DEPOT_OK);
    char *text = cJSON_PrintUnformatted(doc);
    CU_ASSERT_PTR_NULL(strstr(text, "very-secret"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"credentials\":[\"client_id\",\"client_secret\"]"));
    free(text);
    cJSON_Delete(doc);
    /* A DHL account without its portal user is refused; a bad config too. */
    struct depot_carrier_in dhl = {.kind = "dhl", .client_id = "a", .client_secret = "b"};
    CU_ASSERT_EQUAL(depot_carrier_add(T.st, KEY, &dhl, "t", NULL), DEPOT_E_INVALID);
    struct depot_carrier_in bad = {.kind = "ups", .client_id = "a", .client_secret = "b",
                                   .config_json = "{\"shipper\":3}"};
    CU_ASSERT_EQUAL(depot_carrier_add(T.st, KEY, &bad, "t", NULL), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM carriers"), 1);
    test_db_close(&T);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"token is sealed and read back", TEST_token_is_sealed_and_read_back},
        {"lease respects a good token and a live lease",
         TEST_lease_respects_a_good_token_and_a_live_lease},
        {"reject only drops the current token", TEST_reject_only_drops_the_current_token},
        {"exactly one thread takes the lease", TEST_exactly_one_thread_takes_the_lease},
        {"carrier credentials stay sealed", TEST_carrier_credentials_stay_sealed},
        {NULL, NULL},
    };
    return test_run("token_cache", cases);
}
