/* The token keeper thread (see token_keeper.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "log.h"
#include "store_thread.h"
#include "token_keeper.h"
#include "token_service.h"

#define IDLE_S 5           /* look again at least this often (new owners appear) */
#define FAILURE_BACKOFF_S 60
#define MARGIN_MAX_S 300   /* as token_service.c: refresh at most five minutes ahead */

struct depot_token_keeper {
    struct store_thread t;
};

/* When owner's token should be refreshed (unix seconds). */
static int64_t due_at(const cJSON *item)
{
    int64_t exp =
        (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(item, "expires_at"));
    int64_t ref =
        (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(item, "refreshed_at"));
    int64_t failed = (int64_t)cJSON_GetNumberValue(
                         cJSON_GetObjectItemCaseSensitive(item, "failed_at_ms")) / 1000;
    int64_t margin = (exp - ref) / 5;
    margin = margin < 1 ? 1 : margin > MARGIN_MAX_S ? MARGIN_MAX_S : margin;
    int64_t due = exp - margin;
    if (failed && due < failed + FAILURE_BACKOFF_S)
        due = failed + FAILURE_BACKOFF_S;
    return due;
}

/* One pass: refreshes what is due; returns the next time something will be. */
static int64_t pass(struct depot_token_keeper *k)
{
    struct token_service_ctx cx = {.st = k->t.st, .key = k->t.key, .actor = "system:tokens"};
    int64_t now = (int64_t)time(NULL), next = now + IDLE_S;
    cJSON *doc = NULL, *item;
    if (depot_token_expiring_json(k->t.st, &doc) != DEPOT_OK) {
        depot_log(DEPOT_LOG_WARN, "tokens", "cannot read the token cache: %s",
                  depot_store_errmsg(k->t.st));
        return now + 1;
    }
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(doc, "items")) {
        const char *owner = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "owner"));
        int64_t due = due_at(item);
        if (due > now) {
            next = due < next ? due : next;
            continue;
        }
        char err[TOKEN_ERROR_MAX + 64], *token = NULL;
        int64_t expires = 0;
        if (token_service_get(&cx, owner, &token, &expires, err, sizeof err) == DEPOT_OK) {
            depot_log(DEPOT_LOG_INFO, "tokens", "refreshed the token of %s ahead of expiry", owner);
            token_secret_free(token);
        } else {
            depot_log(DEPOT_LOG_WARN, "tokens", "token refresh for %s failed: %s", owner, err);
        }
        next = now + 1; /* re-read the cache after a refresh */
    }
    cJSON_Delete(doc);
    return next;
}

static void *run(void *arg)
{
    struct depot_token_keeper *k = arg;
    pthread_mutex_lock(&k->t.lock);
    while (!k->t.stop) {
        pthread_mutex_unlock(&k->t.lock);
        int64_t next = pass(k);
        pthread_mutex_lock(&k->t.lock);
        struct timespec until = {(time_t)next, 0};
        while (!k->t.stop && time(NULL) < next)
            if (pthread_cond_timedwait(&k->t.wake, &k->t.lock, &until) != 0)
                break;
    }
    pthread_mutex_unlock(&k->t.lock);
    return NULL;
}

struct depot_token_keeper *depot_token_keeper_start(const char *db_path,
                                                    const uint8_t key[DEPOT_MASTER_KEY_LEN],
                                                    char *err, size_t errlen)
{
    struct depot_token_keeper *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "token keeper: out of memory");
        return NULL;
    }
    if (store_thread_start(&k->t, "token keeper", db_path, key, run, k, err, errlen) != 0) {
        free(k);
        return NULL;
    }
    return k;
}

void depot_token_keeper_stop(struct depot_token_keeper *k)
{
    if (!k)
        return;
    store_thread_stop(&k->t);
    free(k);
}
