/* The outbound worker's forced token refresh. When Shopify answers 401 to a channel whose
 * access token expires (it has a refresh token), the worker rejects the token in the
 * token cache and refreshes it once through the token service, then re-sends the calls
 * that saw the 401 once with the new token. A 401 for a token that cannot be refreshed,
 * or again after the refresh, is an ordinary failure of the call.
 *
 * Rationale: the refresh blocks (an HTTP call to the token endpoint, or waiting on
 * another thread's or process's refresh lease), and the worker's loop must not, so it
 * runs on a short-lived thread with its own store connection -- as the Shopify install
 * exchanges its code -- and wakes the loop when done. One refresh per channel at a time
 * (the calls that see the 401 meanwhile wait for it); the token service makes it single
 * flight across depotd's threads and depotctl processes, and audits TOKEN_REFRESHED or
 * TOKEN_FAILED. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "sync_worker_int.h"
#include "token_service.h"

/* Tokens are forced at most this often per channel: a 401 soon after a refresh will not
 * be cured by another one (the app was uninstalled, its scopes removed). */
#define FORCE_INTERVAL_S 300.0

struct sync_token_refresh {
    pthread_t thread;
    atomic_int done;
    CURLM *multi;           /* woken when done */
    const char *db_path;
    const uint8_t *key;
    int timeout_ms;
    char owner[DEPOT_TOKEN_OWNER_MAX];
    depot_err result;
    char *token;            /* the new access token on DEPOT_OK (wipe and free) */
    char err[SYNC_ERROR_MAX + 1];
};

static void owner_of(const struct sync_channel *ch, char *out, size_t cap)
{
    snprintf(out, cap, "channel:%lld", (long long)ch->row.id);
}

int sync__token_expiring(struct depot_sync *s, const struct sync_channel *ch)
{
    char owner[DEPOT_TOKEN_OWNER_MAX], *refresh = NULL;
    if (!ch->ops->retoken)
        return 0;
    owner_of(ch, owner, sizeof owner);
    int expiring = depot_token_refresh_secret(s->st, s->key, owner, &refresh) == DEPOT_OK;
    token_secret_free(refresh);
    return expiring;
}

static void *refresh_run(void *arg)
{
    struct sync_token_refresh *r = arg;
    depot_store *st = NULL;
    char serr[256];
    int64_t expires_at = 0;
    if (depot_store_open(r->db_path, NULL, &st, serr, sizeof serr) != DEPOT_OK) {
        snprintf(r->err, sizeof r->err, "cannot open the database: %.160s", serr);
        r->result = DEPOT_E_IO;
    } else {
        struct token_service_ctx cx = {.st = st, .key = r->key, .actor = "system:sync",
                                       .timeout_ms = r->timeout_ms};
        r->result = token_service_get(&cx, r->owner, &r->token, &expires_at, r->err,
                                      sizeof r->err);
    }
    depot_store_close(st);
    atomic_store(&r->done, 1);
    curl_multi_wakeup(r->multi);
    return NULL;
}

/* Rejects the token job used and starts the refresh. 0, or -1 with job->error set. */
static int refresh_start(struct depot_sync *s, struct sync_job *job)
{
    struct sync_channel *ch = job->ch;
    struct token_service_ctx cx = {.st = s->st, .key = s->key, .actor = "system:sync"};
    struct sync_token_refresh *r = calloc(1, sizeof *r);
    if (!r) {
        sync_job_error(job, "%s: HTTP 401; out of memory for the token refresh",
                       job->req.endpoint);
        return -1;
    }
    owner_of(ch, r->owner, sizeof r->owner);
    r->multi = s->multi;
    r->db_path = s->db_path;
    r->key = s->key;
    r->timeout_ms = s->cfg.http_timeout_ms;
    /* Only while it is still the cached token: parallel 401s reject it once. */
    if (token_service_reject(&cx, r->owner, ch->token) != DEPOT_OK)
        depot_log(DEPOT_LOG_WARN, "sync", "channel %lld: cannot mark its token refused: %s",
                  (long long)ch->row.id, depot_store_errmsg(s->st));
    if (pthread_create(&r->thread, NULL, refresh_run, r) != 0) {
        free(r);
        sync_job_error(job, "%s: HTTP 401; cannot start the token refresh",
                       job->req.endpoint);
        return -1;
    }
    ch->refresh = r;
    ch->token_forced_at = sync_now();
    depot_log(DEPOT_LOG_INFO, "sync", "channel %lld (%s): access token refused (HTTP 401); "
              "refreshing it", (long long)ch->row.id, ch->row.name);
    return 0;
}

enum sync_token_verdict sync__token_on_401(struct depot_sync *s, struct sync_job *job)
{
    struct sync_channel *ch = job->ch;
    const char *ep = job->req.endpoint;
    if (!ch->ops->retoken || !ch->expiring) {
        sync_job_error(job, "%s: HTTP 401: access token refused; it does not expire and "
                       "cannot be refreshed (reinstall the app or store a new token)", ep);
        return SYNC_TOKEN_FAIL;
    }
    if (job->token_retried) {
        sync_job_error(job, "%s: HTTP 401: access token refused again after a refresh", ep);
        return SYNC_TOKEN_FAIL;
    }
    if (job->token_gen != ch->token_gen) {
        /* The token was refreshed while this call was out: re-send with the new one. */
        job->token_retried = 1;
        if (ch->ops->retoken(job) != 0) {
            sync_job_error(job, "%s: HTTP 401; out of memory", ep);
            return SYNC_TOKEN_FAIL;
        }
        job->token_gen = ch->token_gen;
        return SYNC_TOKEN_RESEND;
    }
    if (!ch->refresh) {
        double since = sync_now() - ch->token_forced_at;
        if (ch->token_forced_at > 0 && since < FORCE_INTERVAL_S) {
            sync_job_error(job, "%s: HTTP 401: access token refused %.0f s after a forced "
                           "refresh", ep, since);
            return SYNC_TOKEN_FAIL;
        }
        if (refresh_start(s, job) != 0)
            return SYNC_TOKEN_FAIL;
    }
    job->awaiting_token = 1;
    return SYNC_TOKEN_WAIT;
}

/* Joins a finished (or finishing) refresh and frees it; returns its result. */
static depot_err refresh_end(struct sync_channel *ch, char **token, char *err, size_t errlen)
{
    struct sync_token_refresh *r = ch->refresh;
    pthread_join(r->thread, NULL);
    depot_err e = r->result;
    snprintf(err, errlen, "%s", r->err);
    *token = r->token;
    explicit_bzero(r->err, sizeof r->err);
    free(r);
    ch->refresh = NULL;
    return e;
}

int sync__token_refresh_done(struct sync_channel *ch, char *err, size_t errlen)
{
    char *token = NULL;
    if (!ch->refresh || !atomic_load(&ch->refresh->done))
        return 0;
    if (refresh_end(ch, &token, err, errlen) != DEPOT_OK) {
        depot_log(DEPOT_LOG_WARN, "sync", "channel %lld (%s): token refresh failed: %s",
                  (long long)ch->row.id, ch->row.name, err);
        token_secret_free(token);
        return -1;
    }
    token_secret_free(ch->token);
    ch->token = token;
    ch->token_gen++;
    depot_log(DEPOT_LOG_INFO, "sync", "channel %lld (%s): access token refreshed; re-sending "
              "the refused calls", (long long)ch->row.id, ch->row.name);
    return 1;
}

void sync__token_refresh_join(struct sync_channel *ch)
{
    char *token = NULL, err[SYNC_ERROR_MAX + 1];
    if (ch->refresh)
        refresh_end(ch, &token, err, sizeof err);
    token_secret_free(token);
}
