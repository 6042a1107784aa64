/* The daemon's serial barcode scanners: each configured, enabled scanner is opened
 * through libserialport, watched on the event loop, framed, parsed (AIM identifier, GS1),
 * resolved to what it means and published as a "scan" WebSocket event for its station.
 * A scanner that vanishes is shown as unplugged and reopened with backoff; state changes
 * are "device" events. Everything runs on the loop thread and never blocks it. */
#ifndef DEPOT_SCANNERS_H
#define DEPOT_SCANNERS_H

#include "store.h"
#include "web.h"

struct depot_scanners;

/* Loads the enabled scanners from st and starts opening them; st is the loop thread's
 * store connection and must outlive the manager. Registers the "scanners" section of
 * GET /api/v1/devices. Returns NULL (after logging why) if the store cannot be read. */
struct depot_scanners *depot_scanners_start(struct depot_web *web, depot_store *st);

/* SIGHUP: reads the configuration again; scanners that were removed, disabled or
 * changed are closed, new and changed ones opened, the others keep running. Returns 0,
 * or -1 (logged; the running set is kept) if the store cannot be read. */
int depot_scanners_reload(struct depot_scanners *m);

/* Closes every port and frees the manager; call before depot_web_stop. NULL is fine. */
void depot_scanners_stop(struct depot_scanners *m);

#endif
