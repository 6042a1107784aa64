/* The printers as the API shows them (configuration from the store, live state from the
 * print worker), also given to GET /api/v1/devices through devices_hook.h. Implemented
 * in api_print.c; usable outside web/ (depotd registers the provider). */
#ifndef DEPOT_WEB_PRINTERS_VIEW_H
#define DEPOT_WEB_PRINTERS_VIEW_H

#include <cjson/cJSON.h>
#include "store.h"

/* Every configured printer with its live state: {"name","backend","address","serial",
 * "dpi","stock","timeout_ms","enabled","queued","state","message","since","printed",
 * "current_job"}. state is the print worker's (drivers/printer.h names), "unknown"
 * before the worker has seen the printer. NULL with the store's error in *e. */
cJSON *web_printers_view(depot_store *st, depot_err *e);

/* A depot_devices_provider (devices_hook.h) for the "printers" section; user is the
 * loop thread's store. */
cJSON *web_printers_provider(void *user);

#endif
