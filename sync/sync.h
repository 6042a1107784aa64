/* Public interface of the outbound sync worker for the daemon: a thread with its own
 * SQLite connection and a libcurl multi handle that delivers due outbox rows to the
 * sales channels, and the state it exposes to the API, /metrics and WebSocket clients. */
#ifndef DEPOT_SYNC_H
#define DEPOT_SYNC_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "store.h"

struct depot_sync_config {
    int max_attempts;          /* failed attempts before a row is dead-lettered */
    int concurrency;           /* calls in flight per channel */
    int retry_base_ms;         /* first backoff; doubles per attempt */
    int retry_max_ms;          /* backoff cap */
    int http_timeout_ms;       /* one HTTP call, connect to last byte */
    int breaker_threshold;     /* consecutive failures that open an endpoint's breaker */
    int breaker_cooldown_ms;   /* open -> half-open */
    int shutdown_grace_ms;     /* SIGTERM: how long in-flight calls may finish */
    int poll_ms;               /* idle poll of the outbox (other processes write it) */
    int backstop_interval_s;   /* seconds between pulls of recent orders; 0 = never */
    /* Called from the worker thread for each {"type":"sync"} event; takes ownership of
     * data. May be NULL. */
    void (*publish)(void *user, const char *type, cJSON *data);
    void *publish_user;
};

struct depot_sync;

/* Outbound HTTPS trusts the PEM bundle at path instead of the system's store ("" or NULL:
 * the system's). Call once at start-up, before any thread makes a call. 0, or -1 with a
 * reason in err when the file cannot be read. */
int depot_http_trust_file(const char *path, char *err, size_t errlen);

/* Opens the worker's own connection to db_path, puts rows a crash left in flight back
 * to pending, and starts the thread. key decrypts channel credentials (copied). Returns
 * NULL with a one-line reason in err. */
struct depot_sync *depot_sync_start(const struct depot_sync_config *cfg, const char *db_path,
                                    const uint8_t key[DEPOT_MASTER_KEY_LEN], char *err,
                                    size_t errlen);

/* Stops taking new rows, lets in-flight calls finish for up to shutdown_grace_ms, leaves
 * the rest pending (due at once on the next start), joins the thread and frees it. */
void depot_sync_stop(struct depot_sync *s);

/* Thread-safe snapshot for GET /api/v1/sync/status: {"running":bool, "delivered":n,
 * "retried":n, "dead":n, "superseded":n, "throttled":n, "channels":[{"id","kind",
 * "name","inflight","paused_for_ms","bucket":{...}|null,"backstop":{"pulls","errors",
 * "orders"}}], "breakers":[{"channel_id",
 * "endpoint","state","consecutive_failures","opens","successes","errors"}]}. Caller
 * frees. NULL when out of memory. */
cJSON *depot_sync_status_json(struct depot_sync *s);

/* The same state in Prometheus text format (families depot_sync_*), malloc'd and
 * NUL-terminated; NULL when out of memory. */
char *depot_sync_metrics_text(struct depot_sync *s);

#endif
