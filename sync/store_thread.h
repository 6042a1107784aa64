/* A background thread with its own store connection and a copy of the master key, that
 * sleeps on a condition variable until woken or stopped: the lifecycle the carrier
 * worker and the token keeper share. Their loops lock `lock`, test `stop`, and wait on
 * `wake`. */
#ifndef DEPOT_SYNC_STORE_THREAD_H
#define DEPOT_SYNC_STORE_THREAD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include "store.h"

struct store_thread {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;                         /* set under lock by store_thread_stop */
    depot_store *st;                  /* the thread's own connection */
    uint8_t key[DEPOT_MASTER_KEY_LEN];
};

/* Copies key into t, opens db_path and runs run(arg) on a new thread. Returns 0, or -1
 * with "<name>: <reason>" in err and t's resources released. */
int store_thread_start(struct store_thread *t, const char *name, const char *db_path,
                       const uint8_t key[DEPOT_MASTER_KEY_LEN], void *(*run)(void *),
                       void *arg, char *err, size_t errlen);
/* Sets stop, wakes the thread and joins it, then closes the store and wipes the key. */
void store_thread_stop(struct store_thread *t);

#endif
