/* Unit tests of the single-use OAuth nonces and app credentials (sqlite/oauth_states.c):
 * a nonce is accepted once, for its purpose only, until it expires; only its hash is
 * stored. */
#include "carriers.h"
#include "testutil.h"

static const uint8_t KEY[DEPOT_MASTER_KEY_LEN] = {9};
static struct test_db T;

static void TEST_nonce_is_single_use(void)
{
    char nonce[DEPOT_OAUTH_NONCE_LEN + 1], subject[513], hash[65], sql[160];
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL(depot_oauth_nonce_create(T.st, "shopify_install", "{\"shop\":\"a\"}", 600,
                                             "t", nonce), DEPOT_OK);
    CU_ASSERT_EQUAL(strlen(nonce), 64);
    test_sha256_hex(nonce, hash);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM oauth_states WHERE nonce_hash = '%s'", hash);
    CU_ASSERT_EQUAL(test_sql_int(&T, sql), 1);
    CU_ASSERT_EQUAL(depot_oauth_nonce_consume(T.st, "woocommerce_keys", nonce, subject),
                    DEPOT_E_NOT_FOUND); /* another purpose */
    CU_ASSERT_EQUAL(depot_oauth_nonce_consume(T.st, "shopify_install", nonce, subject), DEPOT_OK);
    CU_ASSERT_STRING_EQUAL(subject, "{\"shop\":\"a\"}");
    CU_ASSERT_EQUAL(depot_oauth_nonce_consume(T.st, "shopify_install", nonce, subject),
                    DEPOT_E_STATE); /* replay */
    CU_ASSERT_STRING_EQUAL(subject, "");
    CU_ASSERT_EQUAL(depot_oauth_nonce_consume(T.st, "shopify_install", "zz", subject),
                    DEPOT_E_NOT_FOUND);
    test_db_close(&T);
}

static void TEST_expired_nonce_is_refused(void)
{
    char nonce[DEPOT_OAUTH_NONCE_LEN + 1], subject[513];
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL(depot_oauth_nonce_create(T.st, "woocommerce_keys", "https://s", 1, "t",
                                             nonce), DEPOT_OK);
    CU_ASSERT_EQUAL(test_sql(&T, "UPDATE oauth_states SET expires_at = expires_at - 10"),
                    SQLITE_OK);
    CU_ASSERT_EQUAL(depot_oauth_nonce_consume(T.st, "woocommerce_keys", nonce, subject),
                    DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(depot_oauth_nonce_create(T.st, "woocommerce_keys", "https://s", 0, "t",
                                             nonce), DEPOT_E_INVALID);
    test_db_close(&T);
}

static void TEST_app_credentials_round_trip(void)
{
    char *id = NULL, *secret = NULL, scopes[256];
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL(depot_oauth_app_get(T.st, KEY, "shopify", &id, &secret, scopes),
                    DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(depot_oauth_app_set(T.st, KEY, "shopify", "cid", "csecret",
                                        "read_orders,write_inventory", "t"), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_oauth_app_set(T.st, KEY, "shopify", "cid", "csecret", "bad scope!",
                                        "t"), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(depot_oauth_app_get(T.st, KEY, "shopify", &id, &secret, scopes), DEPOT_OK);
    CU_ASSERT_STRING_EQUAL(id, "cid");
    CU_ASSERT_STRING_EQUAL(secret, "csecret");
    CU_ASSERT_STRING_EQUAL(scopes, "read_orders,write_inventory");
    free(id);
    free(secret);
    test_db_close(&T);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"nonce is single use", TEST_nonce_is_single_use},
        {"expired nonce is refused", TEST_expired_nonce_is_refused},
        {"app credentials round trip", TEST_app_credentials_round_trip},
        {NULL, NULL},
    };
    return test_run("oauth_states", cases);
}
