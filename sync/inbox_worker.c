/* The inbox worker thread: its own store connection, a loop that processes due
 * deliveries in short batch transactions, retries backordered orders and prunes old
 * processed deliveries when idle, and a condition variable to stop it. Idle, it polls
 * every poll_ms (other processes may write the inbox). While webhooks are arriving it
 * runs one batch per BURST_GAP_MS, so that the committer acknowledging them rarely waits
 * for the lock. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "inbound.h"
#include "inbox_worker.h"
#include "log.h"
#include "monotonic.h"

#define BACKORDER_RETRY_MS 5000
/* Rationale: every batch of the worker is a commit (one fsync) during which the webhook
 * committer cannot commit, while webhook senders wait on that commit for their 200.
 * Under a burst the worker takes the lock once per BURST_GAP_MS for a full batch (up to
 * DEPOT_INBOX_BATCH_MAX deliveries or DEPOT_INBOX_BATCH_MS of work, whoever waits:
 * hundreds of deliveries a second, far above what shops send, so orders are still
 * reserved within a fraction of a second) instead of between every two acknowledgement
 * rounds, and catches up at full speed after it. Deliveries are durable in the inbox
 * meanwhile, so only their processing waits (docs/PERFORMANCE.md, Webhooks). */
#define BURST_QUIET_MS 20 /* no delivery committed for this long: the burst is over */
#define BURST_GAP_MS 100  /* during a burst, one batch per this long */
#define PRUNE_EVERY_MS 60000 /* idle: how often old processed deliveries are pruned */
#define PRUNE_BATCH 500      /* deliveries deleted per transaction */

struct depot_inbox_worker {
    struct depot_inbox_config cfg;
    depot_store *st;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stop;
};

static void wait_for(struct depot_inbox_worker *w, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->lock);
    while (!w->stop && pthread_cond_timedwait(&w->cond, &w->lock, &until) == 0)
        ;
    pthread_mutex_unlock(&w->lock);
}

static int stopping(struct depot_inbox_worker *w)
{
    pthread_mutex_lock(&w->lock);
    int s = w->stop;
    pthread_mutex_unlock(&w->lock);
    return s;
}

/* When idle, now and then: processed deliveries past the retention period are deleted
 * (the inbox would otherwise keep every body ever received), PRUNE_BATCH per short
 * transaction, stopping as soon as deliveries arrive. */
static void prune(struct depot_inbox_worker *w, int64_t *last)
{
    int deleted = PRUNE_BATCH, total = 0;
    if (w->cfg.retention_days <= 0 || (*last && depot_monotonic_ms() - *last < PRUNE_EVERY_MS))
        return; /* the first idle moment after start prunes at once */
    *last = depot_monotonic_ms();
    int64_t before = (int64_t)time(NULL) - (int64_t)w->cfg.retention_days * 86400;
    while (deleted == PRUNE_BATCH && !stopping(w) && !depot_inbox_receiving(BURST_QUIET_MS)) {
        if (depot_inbox_prune(w->st, before, PRUNE_BATCH, &deleted) != DEPOT_OK) {
            depot_log(DEPOT_LOG_WARN, "inbox", "pruning old deliveries failed, will retry: %s",
                      depot_store_errmsg(w->st));
            return;
        }
        total += deleted;
    }
    if (total > 0)
        depot_log(DEPOT_LOG_INFO, "inbox", "pruned %d processed deliveries older than %d days",
                  total, w->cfg.retention_days);
}

/* When idle, now and then: backordered orders whose stock has arrived get reserved. */
static void retry_backorders(struct depot_inbox_worker *w, int64_t *last)
{
    int n = 0;
    if (depot_monotonic_ms() - *last < BACKORDER_RETRY_MS)
        return;
    *last = depot_monotonic_ms();
    if (depot_backorders_retry(w->st, 256, "system:backorders", &n) != DEPOT_OK)
        depot_log(DEPOT_LOG_WARN, "inbox", "backorder pass failed, will retry: %s",
                  depot_store_errmsg(w->st));
    else if (n > 0)
        depot_log(DEPOT_LOG_INFO, "inbox", "reserved %d backordered order(s)", n);
}

static void *run(void *arg)
{
    struct depot_inbox_worker *w = arg;
    int64_t last_backorders = 0, last_batch = 0, last_prune = 0;
    pthread_setname_np(pthread_self(), "inbox-worker");
    while (!stopping(w)) {
        int64_t since = depot_monotonic_ms() - last_batch;
        int burst = depot_inbox_receiving(BURST_QUIET_MS);
        if (burst && since < BURST_GAP_MS) {
            wait_for(w, (int)(BURST_GAP_MS - since));
            continue;
        }
        last_batch = depot_monotonic_ms();
        int rc = depot_inbox_process_batch(w->st, &w->cfg, DEPOT_INBOX_BATCH_MAX,
                                           burst ? 0 : DEPOT_INBOX_BATCH_MIN);
        if (rc <= 0) { /* nothing due, or the store failed: wait before looking again */
            retry_backorders(w, &last_backorders);
            prune(w, &last_prune);
            wait_for(w, rc < 0 ? 1000 : w->cfg.poll_ms);
        } else {
            /* Leave a gap between batches for the webhook commits waiting on the lock. */
            struct timespec gap = {0, 500000};
            nanosleep(&gap, NULL);
        }
    }
    return NULL;
}

struct depot_inbox_worker *depot_inbox_worker_start(const struct depot_inbox_config *cfg,
                                                    const char *db_path, char *err,
                                                    size_t errlen)
{
    struct depot_inbox_worker *w = calloc(1, sizeof *w);
    char e[512];
    if (!w) {
        snprintf(err, errlen, "inbox: out of memory");
        return NULL;
    }
    w->cfg = *cfg;
    struct depot_store_options opt = {.busy_timeout_ms = 5000};
    if (depot_store_open(db_path, &opt, &w->st, e, sizeof e) != DEPOT_OK) {
        snprintf(err, errlen, "inbox: cannot open database %s: %s", db_path, e);
        free(w);
        return NULL;
    }
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&w->lock, NULL);
    if (pthread_create(&w->thread, NULL, run, w) != 0) {
        snprintf(err, errlen, "inbox: cannot start the worker thread");
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        depot_store_close(w->st);
        free(w);
        return NULL;
    }
    return w;
}

void depot_inbox_worker_stop(struct depot_inbox_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    depot_store_close(w->st);
    free(w);
}
