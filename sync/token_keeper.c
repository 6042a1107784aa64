/* The token keeper thread (see token_keeper.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "token_keeper.h"
#include "token_service.h"

#define IDLE_S 5           /* look again at least this often (new owners appear) */
#define FAILURE_BACKOFF_S 60
#define MARGIN_MAX_S 300   /* as token_service.c: refresh at most five minutes ahead */

struct depot_token_keeper {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    depot_store *st;
    uint8_t key[DEPOT_MASTER_KEY_LEN];
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
    struct token_service_ctx cx = {.st = k->st, .key = k->key, .actor = "system:tokens"};
    int64_t now = (int64_t)time(NULL), next = now + IDLE_S;
    cJSON *doc = NULL, *item;
    if (depot_token_expiring_json(k->st, &doc) != DEPOT_OK) {
        depot_log(DEPOT_LOG_WARN, "tokens", "cannot read the token cache: %s",
                  depot_store_errmsg(k->st));
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
            explicit_bzero(token, strlen(token));
            free(token);
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
    pthread_mutex_lock(&k->lock);
    while (!k->stop) {
        pthread_mutex_unlock(&k->lock);
        int64_t next = pass(k);
        pthread_mutex_lock(&k->lock);
        struct timespec until = {(time_t)next, 0};
        while (!k->stop && time(NULL) < next)
            if (pthread_cond_timedwait(&k->wake, &k->lock, &until) != 0)
                break;
    }
    pthread_mutex_unlock(&k->lock);
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
    memcpy(k->key, key, sizeof k->key);
    pthread_mutex_init(&k->lock, NULL);
    pthread_cond_init(&k->wake, NULL);
    char why[256];
    if (depot_store_open(db_path, NULL, &k->st, why, sizeof why) != DEPOT_OK) {
        snprintf(err, errlen, "token keeper: %s", why);
        goto fail;
    }
    if (pthread_create(&k->thread, NULL, run, k) != 0) {
        snprintf(err, errlen, "token keeper: cannot start its thread");
        goto fail;
    }
    return k;
fail:
    depot_store_close(k->st);
    pthread_cond_destroy(&k->wake);
    pthread_mutex_destroy(&k->lock);
    explicit_bzero(k, sizeof *k);
    free(k);
    return NULL;
}

void depot_token_keeper_stop(struct depot_token_keeper *k)
{
    if (!k)
        return;
    pthread_mutex_lock(&k->lock);
    k->stop = 1;
    pthread_cond_signal(&k->wake);
    pthread_mutex_unlock(&k->lock);
    pthread_join(k->thread, NULL);
    depot_store_close(k->st);
    pthread_cond_destroy(&k->wake);
    pthread_mutex_destroy(&k->lock);
    explicit_bzero(k, sizeof *k);
    free(k);
}
