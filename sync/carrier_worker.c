/* The carrier worker thread (see carrier_worker.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "carrier.h"
#include "carrier_worker.h"
#include "log.h"
#include "shipments.h"
#include "store_thread.h"
#include "sync_int.h"

#define MAX_CARRIERS 64
#define LABEL_LEASE_S 120
#define UNAVAILABLE "Service temporarily unavailable"

struct carrier_state {
    int64_t id;
    struct sync_breaker breaker;
    uint64_t labels;
};

/* The breakers, shared with depot_carrier_status_json (the web thread). */
static pthread_mutex_t board_lock = PTHREAD_MUTEX_INITIALIZER;
static struct carrier_state board[MAX_CARRIERS];
static int board_n;
static int board_running;

struct depot_carrier_worker {
    struct depot_carrier_worker_config cfg;
    struct store_thread t;
};

/* The carrier's board entry (created on first use); call with board_lock held. */
static struct carrier_state *state_of(int64_t id)
{
    for (int i = 0; i < board_n; i++)
        if (board[i].id == id)
            return &board[i];
    if (board_n == MAX_CARRIERS)
        return &board[MAX_CARRIERS - 1]; /* shares the last breaker; never more carriers */
    struct carrier_state *c = &board[board_n++];
    memset(c, 0, sizeof *c);
    c->id = id;
    c->breaker.channel_id = id;
    snprintf(c->breaker.endpoint, sizeof c->breaker.endpoint, "carrier");
    return c;
}

static int allow(struct depot_carrier_worker *w, int64_t id)
{
    pthread_mutex_lock(&board_lock);
    int ok = sync_breaker_allow(&state_of(id)->breaker, sync_now(),
                                w->cfg.breaker_cooldown_ms / 1000.0);
    pthread_mutex_unlock(&board_lock);
    return ok;
}

/* Records a call's outcome: upstream faults count against the carrier. */
static void outcome(struct depot_carrier_worker *w, int64_t id, int upstream_fault, int label)
{
    pthread_mutex_lock(&board_lock);
    struct carrier_state *c = state_of(id);
    int changed = upstream_fault
                      ? sync_breaker_failure(&c->breaker, sync_now(), w->cfg.breaker_threshold)
                      : sync_breaker_success(&c->breaker);
    c->labels += (uint64_t)label;
    enum sync_breaker_state state = c->breaker.state;
    pthread_mutex_unlock(&board_lock);
    if (changed)
        depot_log(state == SYNC_BREAKER_OPEN ? DEPOT_LOG_WARN : DEPOT_LOG_INFO, "carriers",
                  "carrier %lld is %s", (long long)id,
                  state == SYNC_BREAKER_OPEN ? "down: " UNAVAILABLE : "available again");
}

static void publish(struct depot_carrier_worker *w, int64_t shipment_id, const char *what,
                    const char *value)
{
    if (!w->cfg.publish)
        return;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "shipment_id", (double)shipment_id);
    cJSON_AddStringToObject(d, what, value);
    w->cfg.publish(w->cfg.publish_user, "shipment", d);
}

/* A claimed request for a carrier whose breaker is open waits out the cooldown (the
 * job is freed); 1 if so. */
static int deferred(struct depot_carrier_worker *w, struct depot_label_job *job)
{
    if (allow(w, job->carrier_id))
        return 0;
    depot_label_defer(w->t.st, job, (int64_t)time(NULL) + w->cfg.breaker_cooldown_ms / 1000 + 1);
    depot_label_job_free(job);
    return 1;
}

/* Works every due label request; 1 if one was worked. */
static int label_pass(struct depot_carrier_worker *w)
{
    struct depot_label_job job;
    char tracking[CARRIER_TRACKING_MAX + 1], err[512];
    int64_t print_job = 0;
    if (depot_label_claim(w->t.st, 0, LABEL_LEASE_S, &job) != DEPOT_OK)
        return 0;
    if (deferred(w, &job))
        return 1;
    depot_err e = carrier_label_process(w->t.st, w->t.key, &job, "system:carriers", tracking,
                                        &print_job, err, sizeof err);
    outcome(w, job.carrier_id, e == DEPOT_E_IO, e == DEPOT_OK);
    if (e == DEPOT_OK) {
        depot_log(DEPOT_LOG_INFO, "carriers", "shipment %lld labelled: %s",
                  (long long)job.shipment_id, tracking);
        publish(w, job.shipment_id, "tracking_number", tracking);
    } else {
        depot_log(DEPOT_LOG_WARN, "carriers", "shipment %lld label failed: %s",
                  (long long)job.shipment_id, err);
    }
    depot_label_job_free(&job);
    return 1;
}

/* Works one due void request; 1 if one was worked. */
static int void_pass(struct depot_carrier_worker *w)
{
    struct depot_label_job job;
    struct depot_void_result vr;
    char err[512];
    if (depot_void_claim(w->t.st, 0, LABEL_LEASE_S, &job) != DEPOT_OK)
        return 0;
    if (deferred(w, &job))
        return 1;
    depot_err e = carrier_void_process(w->t.st, w->t.key, &job, "system:carriers", &vr, err,
                                       sizeof err);
    outcome(w, job.carrier_id, e == DEPOT_E_IO, 0);
    if (e == DEPOT_OK) {
        depot_log(DEPOT_LOG_INFO, "carriers", "shipment %lld voided; order %lld is %s",
                  (long long)job.shipment_id, (long long)vr.order_id, vr.order_status);
        if (w->cfg.publish) {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddNumberToObject(d, "shipment_id", (double)job.shipment_id);
            cJSON_AddStringToObject(d, "status", "voided");
            cJSON_AddNumberToObject(d, "order_id", (double)vr.order_id);
            cJSON_AddStringToObject(d, "order_status", vr.order_status);
            cJSON_AddBoolToObject(d, "channel_told", vr.channel_told);
            w->cfg.publish(w->cfg.publish_user, "shipment", d);
        }
    } else {
        depot_log(DEPOT_LOG_WARN, "carriers", "shipment %lld void failed: %s",
                  (long long)job.shipment_id, err);
    }
    depot_label_job_free(&job);
    return 1;
}

/* Asks the carriers about a bounded batch of open shipments. */
static void track_pass(struct depot_carrier_worker *w)
{
    cJSON *doc = NULL, *it;
    if (depot_shipments_to_track(w->t.st, w->cfg.track_interval_s, w->cfg.track_batch, &doc) !=
        DEPOT_OK)
        return;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(doc, "items")) {
        int64_t sid = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "id"));
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "carrier"));
        const char *number =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "tracking_number"));
        struct depot_carrier row;
        struct carrier_track tr;
        struct carrier_ctx cx;
        int changed = 0;
        if (!name || !number || depot_carrier_find(w->t.st, name, &row) != DEPOT_OK ||
            !allow(w, row.id))
            continue;
        carrier_ctx_init(&cx, w->t.st, w->t.key, &row, "system:carriers");
        depot_err e = carrier_track(&cx, number, &tr);
        outcome(w, row.id, e == DEPOT_E_IO, 0);
        if (e == DEPOT_OK &&
            depot_shipment_tracked(w->t.st, sid, tr.status, "system:carriers", &changed) ==
                DEPOT_OK &&
            changed)
            publish(w, sid, "tracking_status", tr.status);
        if (e != DEPOT_OK) {
            /* Asked: not again before the interval, whatever the answer was. */
            const char *was = cJSON_GetStringValue(
                cJSON_GetObjectItemCaseSensitive(it, "tracking_status"));
            depot_shipment_tracked(w->t.st, sid, was ? was : "unknown", "system:carriers",
                                   &changed);
            depot_log(DEPOT_LOG_DEBUG, "carriers", "tracking %s failed: %s", number, cx.error);
        }
    }
    cJSON_Delete(doc);
}

static void *run(void *arg)
{
    struct depot_carrier_worker *w = arg;
    pthread_mutex_lock(&w->t.lock);
    while (!w->t.stop) {
        pthread_mutex_unlock(&w->t.lock);
        int busy = 0;
        for (int i = 0; i < 16 && label_pass(w); i++)
            busy = 1;
        for (int i = 0; i < 16 && void_pass(w); i++)
            busy = 1;
        track_pass(w);
        pthread_mutex_lock(&w->t.lock);
        if (busy || w->t.stop)
            continue;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += w->cfg.poll_ms / 1000;
        until.tv_nsec += (long)(w->cfg.poll_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&w->t.wake, &w->t.lock, &until);
    }
    pthread_mutex_unlock(&w->t.lock);
    return NULL;
}

struct depot_carrier_worker *depot_carrier_worker_start(
    const struct depot_carrier_worker_config *cfg, const char *db_path,
    const uint8_t key[DEPOT_MASTER_KEY_LEN], char *err, size_t errlen)
{
    struct depot_carrier_worker *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "carrier worker: out of memory");
        return NULL;
    }
    w->cfg = *cfg;
    if (w->cfg.poll_ms < 50)
        w->cfg.poll_ms = 1000;
    if (w->cfg.track_batch < 1 || w->cfg.track_batch > 100)
        w->cfg.track_batch = 10;
    if (w->cfg.breaker_threshold < 1)
        w->cfg.breaker_threshold = 5;
    if (store_thread_start(&w->t, "carrier worker", db_path, key, run, w, err, errlen) != 0) {
        free(w);
        return NULL;
    }
    pthread_mutex_lock(&board_lock);
    board_running = 1;
    pthread_mutex_unlock(&board_lock);
    return w;
}

void depot_carrier_worker_stop(struct depot_carrier_worker *w)
{
    if (!w)
        return;
    store_thread_stop(&w->t);
    pthread_mutex_lock(&board_lock);
    board_running = 0;
    board_n = 0;
    pthread_mutex_unlock(&board_lock);
    free(w);
}

cJSON *depot_carrier_status_json(void)
{
    cJSON *doc = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(doc, "carriers");
    if (!list) {
        cJSON_Delete(doc);
        return NULL;
    }
    pthread_mutex_lock(&board_lock);
    for (int i = 0; board_running && i < board_n; i++) {
        const struct carrier_state *c = &board[i];
        int up = c->breaker.state != SYNC_BREAKER_OPEN;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(list, o);
        cJSON_AddNumberToObject(o, "id", (double)c->id);
        cJSON_AddStringToObject(o, "state", sync_breaker_state_name(c->breaker.state));
        cJSON_AddBoolToObject(o, "available", up);
        if (up)
            cJSON_AddNullToObject(o, "message");
        else
            cJSON_AddStringToObject(o, "message", UNAVAILABLE);
        cJSON_AddNumberToObject(o, "consecutive_failures", c->breaker.failures);
        cJSON_AddNumberToObject(o, "labels", (double)c->labels);
        cJSON_AddNumberToObject(o, "errors", (double)c->breaker.errors);
    }
    pthread_mutex_unlock(&board_lock);
    return doc;
}
