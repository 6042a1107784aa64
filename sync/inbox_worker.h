/* The inbox worker for the daemon: a thread with its own SQLite connection that turns
 * pending webhook deliveries into orders, returns and stock changes (inbox_process.c),
 * retrying failures with backoff and dead-lettering them after max_attempts. */
#ifndef DEPOT_INBOX_WORKER_H
#define DEPOT_INBOX_WORKER_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "store.h"

struct depot_inbox_config {
    int max_attempts;     /* failed attempts before a delivery is dead-lettered */
    int retry_base_ms;    /* first backoff; doubles per attempt */
    int retry_max_ms;     /* backoff cap */
    int poll_ms;          /* how often an idle worker looks for new deliveries */
    int64_t echo_window;  /* seconds our own inventory pushes are recognised */
    int retention_days;   /* processed deliveries older than this are pruned; 0 = kept */
    /* Called from the worker thread with {"type":"order"|"sync"} events; takes
     * ownership of data. May be NULL. */
    void (*publish)(void *user, const char *type, cJSON *data);
    void *publish_user;
};

/* Defaults: 8 attempts, 1 s doubling to 5 min, 100 ms poll, echo window 600 s,
 * retention 30 days. */
void depot_inbox_config_defaults(struct depot_inbox_config *cfg);

#define DEPOT_INBOX_BATCH_MAX 64 /* deliveries per transaction */
#define DEPOT_INBOX_BATCH_MIN 8  /* processed before a waiting writer ends the batch */
#define DEPOT_INBOX_BATCH_MS 10  /* longest a batch holds the write lock for new work */

/* Processes due deliveries on st in one transaction (depot_store_batch_begin), each
 * delivery a savepoint of its own: up to max of them, DEPOT_INBOX_BATCH_MS of work, or,
 * once yield_after are done (0: never), until another connection waits for the write
 * lock (depot_store_lock_contended): one commit (fsync) serves several deliveries.
 * Returns how many were processed (or rescheduled or dead-lettered), 0 if none was due,
 * -1 if the store failed (the batch is rolled back and stays pending). Events are
 * published after the commit. */
int depot_inbox_process_batch(depot_store *st, const struct depot_inbox_config *cfg,
                              int max, int yield_after);

struct depot_inbox_worker;

/* Opens its own connection to db_path and starts the thread. NULL with a reason in err. */
struct depot_inbox_worker *depot_inbox_worker_start(const struct depot_inbox_config *cfg,
                                                    const char *db_path, char *err,
                                                    size_t errlen);
/* Finishes the delivery in hand, joins the thread, closes its connection. */
void depot_inbox_worker_stop(struct depot_inbox_worker *w);

#endif
