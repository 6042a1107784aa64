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
    char *db_path;         /* for the connections of token refresh threads */
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
    cJSON *pulled; /* backstop: [{channel_id, kind, orders}] pulled, not yet recorded */
};

/* ---- Shared by worker.c and backstop.c -------------------------------------------- */

/* An empty job for ch with room for cap rows; NULL when out of memory. */
struct sync_job *sync__job_new(struct sync_channel *ch, int cap);
/* Frees a job (NULL ignored); a pull job's channel may pull again. */
void sync__job_free(struct sync_job *job);
/* The breaker of (channel, endpoint), created closed; NULL when the table is full. */
struct sync_breaker *sync__breaker_for(struct depot_sync *s, int64_t channel_id,
                                       const char *endpoint);
/* Logs a breaker's new state and publishes it as a "sync" event. */
void sync__breaker_event(struct depot_sync *s, const struct sync_breaker *b);
/* Publishes a "sync" event (takes data). */
void sync__publish(struct depot_sync *s, cJSON *data);
struct sync_channel *sync__channel_by_id(struct depot_sync *s, int64_t id);

/* Backstop (backstop.c). scan: inside a pass, readies ch's pull when it is due and its
 * breaker, rate limit and call slots allow. finish: a pull job ended with step; keeps
 * the orders it read for the next pass (the caller frees the job). record: inside a
 * pass, puts the kept orders into the inbox and advances the cursors. */
void sync_backstop_scan(struct depot_sync *s, struct sync_channel *ch, double now);
void sync_backstop_finish(struct depot_sync *s, struct sync_job *job, enum sync_step step);
void sync_backstop_record(struct depot_sync *s);

/* ---- Forced token refresh after a 401 (worker_token.c) ----------------------------- */

enum sync_token_verdict {
    SYNC_TOKEN_FAIL,   /* an ordinary failure of the call; job->error says why */
    SYNC_TOKEN_RESEND, /* job->req holds the channel's newer token: send it again now */
    SYNC_TOKEN_WAIT,   /* a refresh runs; the job waits for it (awaiting_token) */
};

/* 1 when ch's access token expires (has a refresh token) and the platform can re-send
 * a call with a new one. */
int sync__token_expiring(struct depot_sync *s, const struct sync_channel *ch);
/* The upstream answered job's call 401: refresh once (single flight), re-send, or fail. */
enum sync_token_verdict sync__token_on_401(struct depot_sync *s, struct sync_job *job);
/* ch's refresh has ended: 1 with the new token in ch->token (token_gen moves on), -1 with
 * the reason in err; 0 while it runs or when there is none. */
int sync__token_refresh_done(struct sync_channel *ch, char *err, size_t errlen);
/* Waits for ch's refresh, if any, and drops its result (shutdown). */
void sync__token_refresh_join(struct sync_channel *ch);

#endif
