/* The webhook endpoints' channel cache on a real store: a repeated lookup is answered
 * from memory, a channel change made by this process (new secrets) is seen at once, one
 * made behind its back (another process) within the second, and unknown names are never
 * remembered. */
#include <time.h>
#include "testutil.h"
#include "webhooks.h"

static struct test_db t;
static struct web_server srv;
static const uint8_t key[DEPOT_MASTER_KEY_LEN] = {7};

static int64_t add_shop(const char *shop, const char *secret)
{
    struct depot_channel_credentials cred = {.token = "t", .webhook_secret = secret};
    int64_t id = 0;
    CU_ASSERT_EQUAL(depot_channel_add(t.st, key, "shopify", shop, NULL, NULL, &cred, "test",
                                      &id), DEPOT_OK);
    return id;
}

static void open_server(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&t), 0);
    memset(&srv, 0, sizeof srv);
    srv.st = t.st;
    memcpy(srv.cfg.master_key, key, sizeof key);
    srv.webhook_channels = web_webhook_channels_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(srv.webhook_channels);
}

static void close_server(void)
{
    web_webhook_channels_free(srv.webhook_channels);
    test_db_close(&t);
}

/* The secret the endpoint would check a delivery of channel id against ("" if none). */
static void secret_of(int64_t id, char *out, size_t len)
{
    struct web_request req = {.srv = &srv};
    struct web_response res = {0};
    char *s = web_webhook_secret(&req, &res, id);
    snprintf(out, len, "%s", s ? s : "");
    web_webhook_secret_free(s);
    free(res.body);
}

static int enabled(const char *shop)
{
    struct depot_channel ch;
    CU_ASSERT_EQUAL_FATAL(web_webhook_channel(&srv, "shopify", shop, &ch), DEPOT_OK);
    return ch.enabled;
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void TEST_repeated_lookups_are_remembered_until_this_process_changes_a_channel(void)
{
    open_server();
    int64_t id = add_shop("cache.myshopify.com", "first-secret");
    char secret[64];
    double t0 = seconds();
    CU_ASSERT_EQUAL(enabled("cache.myshopify.com"), 1);
    secret_of(id, secret, sizeof secret);
    CU_ASSERT_STRING_EQUAL(secret, "first-secret");
    /* Behind the cache's back: still the remembered answer (unless a slow run, valgrind
     * say, let the second go by, when the fresh one is right too). */
    CU_ASSERT_EQUAL(test_sql(&t, "UPDATE channels SET enabled = 0"), SQLITE_OK);
    int remembered = enabled("cache.myshopify.com");
    if (seconds() - t0 < 0.9)
        CU_ASSERT_EQUAL(remembered, 1);
    /* Re-adding the channel in this process (new secrets) is seen at once. */
    CU_ASSERT_EQUAL(add_shop("cache.myshopify.com", "second-secret"), id);
    CU_ASSERT_EQUAL(enabled("cache.myshopify.com"), 0);
    secret_of(id, secret, sizeof secret);
    CU_ASSERT_STRING_EQUAL(secret, "second-secret");
    close_server();
}

static void TEST_a_change_from_another_process_is_seen_within_a_second(void)
{
    open_server();
    add_shop("ttl.myshopify.com", "s");
    CU_ASSERT_EQUAL(enabled("ttl.myshopify.com"), 1);
    CU_ASSERT_EQUAL(test_sql(&t, "UPDATE channels SET enabled = 0"), SQLITE_OK);
    struct timespec pause = {1, 100000000};
    nanosleep(&pause, NULL);
    CU_ASSERT_EQUAL(enabled("ttl.myshopify.com"), 0);
    close_server();
}

static void TEST_unknown_names_are_not_remembered(void)
{
    open_server();
    add_shop("known.myshopify.com", "s");
    struct depot_channel ch;
    CU_ASSERT_EQUAL(web_webhook_channel(&srv, "shopify", "late.myshopify.com", &ch),
                    DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(test_sql(&t, "INSERT INTO channels (kind, name, config, created_at)"
                                 " VALUES ('shopify', 'late.myshopify.com', '{}', 1)"),
                    SQLITE_OK);
    CU_ASSERT_EQUAL(web_webhook_channel(&srv, "shopify", "late.myshopify.com", &ch), DEPOT_OK);
    CU_ASSERT_STRING_EQUAL(ch.name, "late.myshopify.com");
    /* Its secret is missing: a 500 for the delivery, and no secret remembered. */
    char secret[64];
    secret_of(ch.id, secret, sizeof secret);
    CU_ASSERT_STRING_EQUAL(secret, "");
    close_server();
}

static void TEST_more_shops_than_entries_all_resolve(void)
{
    open_server();
    char shop[64], secret[64], want[64];
    int64_t ids[40];
    for (int i = 0; i < 40; i++) {
        snprintf(shop, sizeof shop, "shop%d.myshopify.com", i);
        snprintf(want, sizeof want, "secret-%d", i);
        ids[i] = add_shop(shop, want);
    }
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 40; i++) {
            struct depot_channel ch;
            snprintf(shop, sizeof shop, "shop%d.myshopify.com", i);
            snprintf(want, sizeof want, "secret-%d", i);
            CU_ASSERT_EQUAL(web_webhook_channel(&srv, "shopify", shop, &ch), DEPOT_OK);
            CU_ASSERT_EQUAL(ch.id, ids[i]);
            secret_of(ch.id, secret, sizeof secret);
            CU_ASSERT_STRING_EQUAL(secret, want);
        }
    close_server();
}

int main(void)
{
    static const struct test_case cases[] = {
        {"repeated lookups remembered until this process changes a channel",
         TEST_repeated_lookups_are_remembered_until_this_process_changes_a_channel},
        {"a change from another process is seen within a second",
         TEST_a_change_from_another_process_is_seen_within_a_second},
        {"unknown names are not remembered", TEST_unknown_names_are_not_remembered},
        {"more shops than entries all resolve", TEST_more_shops_than_entries_all_resolve},
        {NULL, NULL},
    };
    return test_run("webhook_channels", cases);
}
