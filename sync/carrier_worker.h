/* The carrier worker: a daemon thread with its own SQLite connection that works due
 * label requests (outbox rows with target "carrier", written by `depotctl shipment
 * label`, the packing station, or a crash left in flight) and void requests, polls
 * tracking of open shipments at a bounded
 * rate, and keeps one circuit breaker per carrier: while a carrier is down its requests
 * wait (packing goes on), the status says "Service temporarily unavailable", and the
 * queue drains when it recovers. */
#ifndef DEPOT_SYNC_CARRIER_WORKER_H
#define DEPOT_SYNC_CARRIER_WORKER_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "store.h"

struct depot_carrier_worker_config {
    int poll_ms;              /* idle wait between passes */
    int track_interval_s;     /* ask about one shipment at most this often */
    int track_batch;          /* shipments tracked per pass (1..100): the rate bound */
    int breaker_threshold;    /* consecutive upstream failures that open a carrier */
    int breaker_cooldown_ms;  /* open -> one probe */
    /* Called from the worker thread for {"type":"shipment"} events; takes ownership of
     * data. May be NULL. */
    void (*publish)(void *user, const char *type, cJSON *data);
    void *publish_user;
};

struct depot_carrier_worker;

struct depot_carrier_worker *depot_carrier_worker_start(
    const struct depot_carrier_worker_config *cfg, const char *db_path,
    const uint8_t key[DEPOT_MASTER_KEY_LEN], char *err, size_t errlen);
/* Finishes the call in hand, joins the thread, frees it. */
void depot_carrier_worker_stop(struct depot_carrier_worker *w);

/* Thread-safe: {"carriers":[{"id","state":"closed|open|half_open","available":bool,
 * "message":"Service temporarily unavailable"|null,"consecutive_failures",
 * "labels","errors"}]} for the carriers the running worker has talked to; an empty
 * list when no worker runs. Caller frees; NULL when out of memory. */
cJSON *depot_carrier_status_json(void);

#endif
