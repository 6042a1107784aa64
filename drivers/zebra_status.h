/* Zebra ~HS (host status) replies: parsing the three status strings into the flags the
 * print queue acts on. Pure functions; reading the reply (and its timeout, which means
 * a fault: the printer stays silent while media or ribbon is out or the head is open)
 * belongs to the printer backends. */
#ifndef DEPOT_ZEBRA_STATUS_H
#define DEPOT_ZEBRA_STATUS_H

#include <stddef.h>

/* The longest reply accepted; a real one is about 80 bytes. */
#define DEPOT_ZEBRA_HS_MAX 512

struct depot_zebra_status {
    int paper_out;   /* string 1, field 2 */
    int paused;      /* string 1, field 3 */
    int buffer_full; /* string 1, field 6 */
    int head_open;   /* string 2, field 3 */
    int ribbon_out;  /* string 2, field 4 */
};

/* Parses a complete ~HS reply of len bytes: three <STX>fields<ETX><CR><LF> strings, each
 * of comma-separated decimal fields (at least 8 in string 1, 4 in string 2, 1 in
 * string 3), flags 0 or 1. Returns 0 and fills *out, or -1 with a one-line reason in
 * err for an incomplete or malformed reply (out is then zeroed). */
int depot_zebra_status_parse(const char *reply, size_t len, struct depot_zebra_status *out,
                             char *err, size_t errlen);

/* 1 if the status allows printing: no flag set. */
int depot_zebra_status_ready(const struct depot_zebra_status *s);

#endif
