/* The hook through which the daemon's device managers give GET /api/v1/devices their
 * live state (web/api_devices.c builds the answer).
 *
 * The answer is {"stations":[...], "scanners":[...], "printers":[...]}: stations and
 * scanners as configured in the store, each scanner merged with its live state; every
 * other section is whatever its provider returns. A device manager registers one
 * provider per section on the loop thread (the scanner manager: "scanners"; the printer
 * manager: "printers"); a section without a provider is []. */
#ifndef DEPOT_WEB_DEVICES_HOOK_H
#define DEPOT_WEB_DEVICES_HOOK_H

#include <cjson/cJSON.h>

/* Returns a new JSON array describing the devices of one section (the caller frees it),
 * or NULL on allocation failure. Called on the loop thread while handling a request. */
typedef cJSON *(*depot_devices_provider)(void *user);

#define DEPOT_DEVICES_SECTIONS_MAX 4

/* Registers (or, with fn NULL, removes) the provider of section ("scanners",
 * "printers"). For "scanners" each element must have "name" (matched with the store's
 * scanners) and its live fields ("state", ...). Returns 0, or -1 if the table is full.
 * Loop thread only; remove it before user goes away. */
int depot_devices_provide(const char *section, depot_devices_provider fn, void *user);

/* Registers (or, with fn NULL, removes) the one listener told when the devices'
 * configuration changed through the API (a scanner moved to another station): the
 * scanner manager reloads. Loop thread only. */
void depot_devices_watch(void (*fn)(void *user), void *user);

/* Tells the listener, if any, that the configuration in the store changed. Loop thread. */
void depot_devices_changed(void);

#endif
