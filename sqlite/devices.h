/* Stations and their serial barcode scanners in the store: adding and listing them, for
 * depotctl, the daemon's scanner manager (which loads them at start and on SIGHUP) and
 * GET /api/v1/devices. Every add is one audited transaction. */
#ifndef DEPOT_DEVICES_H
#define DEPOT_DEVICES_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "store.h"

#define DEPOT_DEVICE_NAME_MAX 64  /* station, scanner and printer names */
#define DEPOT_DEVICE_PORT_MAX 255 /* port path */

/* One scanner as configured. Line settings are stored as fields; drivers/serial_port.h
 * and drivers/scan_framer.h turn them into a port and a framer. */
struct depot_scanner_conf {
    int64_t id;                           /* set by the store */
    char name[DEPOT_DEVICE_NAME_MAX + 1];
    char station[DEPOT_DEVICE_NAME_MAX + 1];
    char port[DEPOT_DEVICE_PORT_MAX + 1]; /* e.g. /dev/serial/by-id/usb-... */
    int baud;                             /* 50..4000000 */
    int data_bits;                        /* 5..8 */
    char parity;                          /* 'N', 'O' or 'E' */
    int stop_bits;                        /* 1 or 2 */
    char flow[8];                         /* "none", "xonxoff", "rtscts" */
    char suffix[16];                      /* "cr", "lf", "crlf", "timeout:MS" */
    char prefix[17];                      /* printable ASCII, "" for none */
    int enabled;
};

/* Fills c with the defaults: 9600,8,N,1,none, suffix "cr", no prefix, enabled. */
void depot_scanner_conf_default(struct depot_scanner_conf *c);

/* Adds a station (name 1..64 printable characters; printer NULL or a printer name).
 * DEPOT_E_CONFLICT if the name is taken. */
depot_err depot_station_add(depot_store *st, const char *name, const char *printer,
                            const char *actor, int64_t *id_out);

/* Adds a scanner to an existing station (DEPOT_E_NOT_FOUND otherwise), after checking
 * every field (DEPOT_E_INVALID naming the field). DEPOT_E_CONFLICT if the name is
 * taken. c->id is ignored; the new id goes to *id_out (may be NULL). */
depot_err depot_scanner_add(depot_store *st, const struct depot_scanner_conf *c,
                            const char *actor, int64_t *id_out);

/* Moves scanner to station (both must exist: DEPOT_E_NOT_FOUND naming the missing one),
 * audited "scanner.pair" with the station it left. Moving it where it is changes
 * nothing. The daemon picks the change up on its next reload (depot_devices_changed). */
depot_err depot_scanner_set_station(depot_store *st, const char *scanner,
                                    const char *station, const char *actor);

/* Every scanner (with only_enabled, the enabled ones), in id order, as a malloc'd array
 * the caller frees with free(); *n may be 0 (then *out is NULL). */
depot_err depot_scanner_list(depot_store *st, int only_enabled,
                             struct depot_scanner_conf **out, size_t *n);

/* [{"id","name","printer","scanners":[names]}] in name order. Caller frees. */
depot_err depot_station_list_json(depot_store *st, cJSON **out);

/* One scanner's configuration as JSON: {"id","name","station","port","serial":
 * "9600,8,N,1,none","suffix","prefix","enabled"}. NULL on allocation failure. */
cJSON *depot_scanner_conf_json(const struct depot_scanner_conf *c);

#endif
