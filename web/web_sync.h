/* How the daemon hands the web server its view of the outbound sync worker, without the
 * web library knowing the worker: two callbacks the API and /metrics call. */
#ifndef DEPOT_WEB_SYNC_H
#define DEPOT_WEB_SYNC_H

#include <cjson/cJSON.h>

struct depot_web_sync_source {
    /* A JSON object describing the worker (caller frees), NULL when unavailable. */
    cJSON *(*status_json)(void *user);
    /* Prometheus text to append to /metrics, malloc'd (caller frees), or NULL. */
    char *(*metrics_text)(void *user);
    void *user;
};

/* Sets (src copied) or, with NULL, clears the source. Call while the loop is not being
 * serviced (before run, after it ends): handlers read it on the loop thread. */
void depot_web_set_sync_source(const struct depot_web_sync_source *src);

#endif
