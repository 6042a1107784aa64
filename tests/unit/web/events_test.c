/* Event hub tests: fan-out in order to every client, the message shape, a message for one
 * client, the bounded queue (count and bytes) replaced by one resync, events lost before
 * delivery, and publishing from several threads. Clients here have no connection. */
#include <pthread.h>
#include <stdio.h>
#include "testutil.h"
#include "web_int.h"

static struct web_server srv;

static void setup(void)
{
    memset(&srv, 0, sizeof srv);
    srv.events = web_events_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(srv.events);
}

static cJSON *num_data(int n)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "n", n);
    return d;
}

/* Pops c's next message as parsed JSON (caller frees), or NULL when the queue is empty. */
static cJSON *next_json(struct web_ws_client *c)
{
    unsigned char *msg;
    size_t len;
    if (web_events_next(c, &msg, &len) != 1)
        return NULL;
    cJSON *doc = cJSON_ParseWithLength((const char *)msg, len);
    CU_ASSERT_PTR_NOT_NULL(doc);
    web_events_pop(c);
    return doc;
}

static const char *type_of(const cJSON *doc)
{
    return cJSON_GetStringValue(cJSON_GetObjectItem(doc, "type"));
}

static int n_of(const cJSON *doc)
{
    return cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "data"), "n")->valueint;
}

static void TEST_events_reach_every_client_in_order(void)
{
    setup();
    struct web_ws_client *a = web_events_join(srv.events, NULL);
    struct web_ws_client *b = web_events_join(srv.events, NULL);
    for (int i = 0; i < 3; i++)
        web_events_publish(&srv, "stock", num_data(i));
    CU_ASSERT_PTR_NULL(next_json(a)); /* nothing until the loop delivers */
    web_events_deliver(srv.events);
    struct web_ws_client *clients[] = {a, b};
    for (int c = 0; c < 2; c++) {
        for (int i = 0; i < 3; i++) {
            cJSON *doc = next_json(clients[c]);
            CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
            CU_ASSERT_STRING_EQUAL(type_of(doc), "stock");
            CU_ASSERT_EQUAL(n_of(doc), i);
            const char *ts = cJSON_GetStringValue(cJSON_GetObjectItem(doc, "ts"));
            CU_ASSERT_TRUE(ts && strlen(ts) == 24 && ts[10] == 'T' && ts[19] == '.' &&
                           ts[23] == 'Z');
            cJSON_Delete(doc);
        }
        CU_ASSERT_PTR_NULL(next_json(clients[c]));
    }
    size_t n;
    uint64_t dropped;
    web_events_counts(srv.events, &n, &dropped);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_EQUAL(dropped, 0);
    web_events_leave(srv.events, a);
    web_events_counts(srv.events, &n, &dropped);
    CU_ASSERT_EQUAL(n, 1);
    web_events_free(srv.events); /* frees b and anything queued */
}

static void TEST_null_data_becomes_an_empty_object(void)
{
    setup();
    struct web_ws_client *a = web_events_join(srv.events, NULL);
    web_events_publish(&srv, "sync", NULL);
    web_events_deliver(srv.events);
    cJSON *doc = next_json(a);
    CU_ASSERT_TRUE(cJSON_IsObject(cJSON_GetObjectItem(doc, "data")));
    cJSON_Delete(doc);
    web_events_free(srv.events);
}

static void TEST_send_reaches_one_client(void)
{
    setup();
    struct web_ws_client *a = web_events_join(srv.events, NULL);
    struct web_ws_client *b = web_events_join(srv.events, NULL);
    CU_ASSERT_EQUAL(web_events_send(srv.events, a, "hello", num_data(1)), 0);
    cJSON *doc = next_json(a);
    CU_ASSERT_STRING_EQUAL(type_of(doc), "hello");
    cJSON_Delete(doc);
    CU_ASSERT_PTR_NULL(next_json(b));
    web_events_free(srv.events);
}

/* 300 events for a client that reads nothing: the 257th finds the queue full, so the
 * queue becomes one resync and the 43 after it follow. */
static void TEST_full_queue_is_replaced_by_one_resync(void)
{
    setup();
    struct web_ws_client *slow = web_events_join(srv.events, NULL);
    struct web_ws_client *fast = web_events_join(srv.events, NULL);
    for (int i = 0; i < 300; i++) {
        web_events_publish(&srv, "scan", num_data(i));
        web_events_deliver(srv.events);
        cJSON_Delete(next_json(fast));
    }
    cJSON *doc = next_json(slow);
    CU_ASSERT_STRING_EQUAL(type_of(doc), "resync");
    CU_ASSERT_STRING_EQUAL(
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "data"), "reason")),
        "slow client");
    cJSON_Delete(doc);
    int seen = 0;
    while ((doc = next_json(slow))) {
        CU_ASSERT_EQUAL(n_of(doc), 257 + seen);
        seen++;
        cJSON_Delete(doc);
    }
    CU_ASSERT_EQUAL(seen, 43);
    size_t n;
    uint64_t dropped;
    web_events_counts(srv.events, &n, &dropped);
    CU_ASSERT_EQUAL(dropped, 257);
    web_events_free(srv.events);
}

/* Big events hit the 1 MiB bound long before 256 messages. */
static void TEST_queue_is_bounded_in_bytes(void)
{
    setup();
    struct web_ws_client *slow = web_events_join(srv.events, NULL);
    static char blob[64 * 1024];
    memset(blob, 'x', sizeof blob - 1);
    for (int i = 0; i < 20; i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "blob", blob);
        web_events_publish(&srv, "order", d);
    }
    web_events_deliver(srv.events);
    cJSON *doc = next_json(slow);
    CU_ASSERT_STRING_EQUAL(type_of(doc), "resync");
    cJSON_Delete(doc);
    int left = 0;
    while ((doc = next_json(slow))) {
        left++;
        cJSON_Delete(doc);
    }
    CU_ASSERT_TRUE(left > 0 && left < 16);
    web_events_free(srv.events);
}

/* More events than the hand-over list holds while the loop is away: every client is told
 * to resync. */
static void TEST_events_lost_before_delivery_mean_resync(void)
{
    setup();
    struct web_ws_client *a = web_events_join(srv.events, NULL);
    for (int i = 0; i < 5000; i++)
        web_events_publish(&srv, "scan", num_data(i));
    web_events_deliver(srv.events);
    cJSON *doc = next_json(a);
    CU_ASSERT_STRING_EQUAL(type_of(doc), "resync");
    cJSON_Delete(doc);
    size_t n;
    uint64_t dropped;
    web_events_counts(srv.events, &n, &dropped);
    CU_ASSERT_TRUE(dropped >= 4097);
    web_events_free(srv.events);
}

#define PUBLISHERS 4
#define PER_PUBLISHER 50

static void *publisher(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_PUBLISHER; i++)
        web_events_publish(&srv, "device", num_data(i));
    return NULL;
}

static void TEST_publishing_from_threads_loses_nothing(void)
{
    setup();
    struct web_ws_client *a = web_events_join(srv.events, NULL);
    pthread_t th[PUBLISHERS];
    for (int i = 0; i < PUBLISHERS; i++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, publisher, NULL), 0);
    for (int i = 0; i < 1000; i++)
        web_events_deliver(srv.events);
    for (int i = 0; i < PUBLISHERS; i++)
        pthread_join(th[i], NULL);
    web_events_deliver(srv.events);
    int got = 0;
    cJSON *doc;
    while ((doc = next_json(a))) {
        CU_ASSERT_STRING_EQUAL(type_of(doc), "device");
        got++;
        cJSON_Delete(doc);
    }
    CU_ASSERT_EQUAL(got, PUBLISHERS * PER_PUBLISHER);
    web_events_free(srv.events);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"events_reach_every_client_in_order", TEST_events_reach_every_client_in_order},
        {"null_data_becomes_an_empty_object", TEST_null_data_becomes_an_empty_object},
        {"send_reaches_one_client", TEST_send_reaches_one_client},
        {"full_queue_is_replaced_by_one_resync", TEST_full_queue_is_replaced_by_one_resync},
        {"queue_is_bounded_in_bytes", TEST_queue_is_bounded_in_bytes},
        {"events_lost_before_delivery_mean_resync",
         TEST_events_lost_before_delivery_mean_resync},
        {"publishing_from_threads_loses_nothing", TEST_publishing_from_threads_loses_nothing},
        {NULL, NULL},
    };
    return test_run("events", cases);
}
