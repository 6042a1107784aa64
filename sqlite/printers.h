/* The printers table (store side): adding or changing a printer's configuration,
 * reading it back for depotctl, the API and the print worker, and the print queue's
 * start-up recovery of jobs a crash left half-sent. */
#ifndef DEPOT_STORE_PRINTERS_H
#define DEPOT_STORE_PRINTERS_H

#include <stdint.h>
#include "store.h"

/* One printer's configuration. Text fields are NUL-terminated. The store checks names,
 * lengths and the enumerations; the meaning of address and serial for a backend is
 * checked by the caller with drivers/printer.h and drivers/serial_port.h. */
struct depot_printer_row {
    char name[DEPOT_PRINTER_NAME_MAX + 1];
    char backend[8];   /* serial | tcp | file */
    char address[256];
    char serial[49];   /* "9600,8,N,1,none" */
    int dpi;           /* 203 | 300 */
    char stock[4];     /* 4x6 | 2x1 */
    int timeout_ms;    /* 100..120000 */
    int enabled;       /* 0 | 1 */
};

#define DEPOT_PRINTERS_MAX 64 /* printers the worker serves at most */

/* 1 if name is a valid printer name: 1..DEPOT_PRINTER_NAME_MAX of A-Z a-z 0-9 . _ -. */
int depot_printer_name_valid(const char *name);

/* Adds the printer, or replaces the configuration of the one with that name; audited as
 * printer.add or printer.update with the configuration. *created (may be NULL) is 1 for
 * a new printer. DEPOT_E_INVALID names the bad field. */
depot_err depot_printer_put(depot_store *st, const struct depot_printer_row *p,
                            const char *actor, int *created);

/* The printer named name into *out; DEPOT_E_NOT_FOUND if there is none. */
depot_err depot_printer_get(depot_store *st, const char *name, struct depot_printer_row *out);

/* Every printer by name into rows (at most max); *n is how many. */
depot_err depot_printer_list(depot_store *st, struct depot_printer_row *rows, int max,
                             int *n);

/* Every printer by name as a JSON array of {"name","backend","address","serial","dpi",
 * "stock","timeout_ms","enabled","queued"} (queued: jobs queued or sending). */
depot_err depot_printer_list_json(depot_store *st, cJSON **out);

/* At start-up, before any job is sent: every job still "sending" was being written (or
 * awaited the printer's OK) when the last depotd stopped without finishing it, so it
 * may or may not have printed. Each becomes "failed" with a last_error saying so, to be
 * re-printed by a person if the label did not come out; none is sent again by itself.
 * *n (may be NULL) is how many; each is audited as print.interrupted. */
depot_err depot_print_recover_interrupted(depot_store *st, int *n);

#define DEPOT_PRINT_INTERRUPTED_ERROR \
    "interrupted by a depotd restart while sending; it may have printed: reprint it if not"

#endif
