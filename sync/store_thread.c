/* Starting and stopping a background thread with its own store connection (see
 * store_thread.h). */
#include <stdio.h>
#include <string.h>
#include "store_thread.h"

static void release(struct store_thread *t)
{
    depot_store_close(t->st);
    t->st = NULL;
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    explicit_bzero(t->key, sizeof t->key);
}

int store_thread_start(struct store_thread *t, const char *name, const char *db_path,
                       const uint8_t key[DEPOT_MASTER_KEY_LEN], void *(*run)(void *),
                       void *arg, char *err, size_t errlen)
{
    char why[256];
    memcpy(t->key, key, sizeof t->key);
    t->stop = 0;
    t->st = NULL;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, NULL);
    if (depot_store_open(db_path, NULL, &t->st, why, sizeof why) != DEPOT_OK) {
        snprintf(err, errlen, "%s: %s", name, why);
        release(t);
        return -1;
    }
    if (pthread_create(&t->thread, NULL, run, arg) != 0) {
        snprintf(err, errlen, "%s: cannot start its thread", name);
        release(t);
        return -1;
    }
    return 0;
}

void store_thread_stop(struct store_thread *t)
{
    pthread_mutex_lock(&t->lock);
    t->stop = 1;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    release(t);
}
