/* Building a Prometheus text-format page (exposition format 0.0.4) in memory: printf-style
 * appends into a growing buffer, escaped label values and the HELP/TYPE lines of a metric
 * family. Used by /metrics (web/metrics.c) and the sync worker's series (sync/status.c). */
#ifndef DEPOT_PROM_TEXT_H
#define DEPOT_PROM_TEXT_H

#include <stddef.h>

/* Start with {0}. After an allocation failure every append is ignored and oom stays 1. */
struct prom_text {
    char *p;
    size_t len, cap;
    int oom;
};

void prom_printf(struct prom_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A label value with \, " and newline escaped, as the format requires. */
void prom_label(struct prom_text *t, const char *value);

/* "# HELP name help" and "# TYPE name type" (counter, gauge, histogram). */
void prom_family(struct prom_text *t, const char *name, const char *type, const char *help);

/* The page (malloc'd, NUL-terminated; "" when nothing was appended) with its length in
 * *len (may be NULL), or NULL after an allocation failure (the buffer is freed). */
char *prom_finish(struct prom_text *t, size_t *len);

#endif
