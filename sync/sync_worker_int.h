/* The worker's state, shared by worker.c (which runs it) and status.c (which reports
 * it). Fields marked [mu] are read by other threads and change under mu; the rest
 * belong to the worker thread alone. */
#ifndef DEPOT_SYNC_WORKER_INT_H
#define DEPOT_SYNC_WORKER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include "outbox_claim.h"
#include "sync.h"
#include "sync_int.h"

#define SYNC_MAX_CHANNELS 32
#define SYNC_MAX_BREAKERS 128
#define SYNC_MAX_JOBS 512

struct depot_sync {
    struct depot_sync_config cfg;
    depot_store *st;
    uint8_t key[DEPOT_MASTER_KEY_LEN];
    pthread_t thread;
    CURLM *multi;
    atomic_int stopping;
    int abandon;           /* shutting down: no follow-up calls */
    int wake;              /* scan again at once */
    uint64_t rng;          /* xorshift state for backoff jitter */
    double channels_at;    /* last channel refresh (monotonic) */
    int64_t coalesced_upto; /* newest outbox id coalescing has looked at */

    pthread_mutex_t mu;
    int running;                                      /* [mu] */
    struct sync_channel *channels[SYNC_MAX_CHANNELS]; /* [mu] the list and counters */
    int n_channels;                                   /* [mu] */
    struct sync_breaker breakers[SYNC_MAX_BREAKERS];  /* [mu] */
    int n_breakers;                                   /* [mu] */
    uint64_t superseded;                              /* [mu] rows coalesced away */

    struct sync_job *jobs[SYNC_MAX_JOBS]; /* calls in flight */
    int n_jobs;
    struct sync_job *ready[SYNC_MAX_JOBS]; /* claimed in this pass, sent after commit */
    struct sync_breaker *ready_brk[SYNC_MAX_JOBS];
    int n_ready;
    struct depot_outbox_outcome *outcomes; /* finished, not yet recorded */
    int n_outcomes, cap_outcomes;
    struct sync_push { int64_t channel_id, sku_id, location_id, quantity; } *pushes;
    int n_pushes, cap_pushes;              /* levels delivered, for echo recognition */
};

#endif
