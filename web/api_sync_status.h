/* The sync status endpoint's route table and the /metrics hook (api_sync_status.c). */
#ifndef DEPOT_WEB_API_SYNC_STATUS_H
#define DEPOT_WEB_API_SYNC_STATUS_H

#include "web_int.h"

extern const struct web_route web_routes_sync_status[];

/* The sync worker's Prometheus series (malloc'd), or NULL when no worker runs. */
char *web_sync_metrics_text(void);

#endif
