/* Prometheus text-format page builder: see prom_text.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "prom_text.h"

void prom_printf(struct prom_text *t, const char *fmt, ...)
{
    if (t->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->oom = 1;
            return;
        }
        if (t->p && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t ncap = (t->cap ? t->cap * 2 : 4096) + (size_t)n;
        char *p = realloc(t->p, ncap);
        if (!p) {
            t->oom = 1;
            return;
        }
        t->p = p;
        t->cap = ncap;
    }
}

void prom_label(struct prom_text *t, const char *value)
{
    for (const char *v = value; *v; v++) {
        if (*v == '\\' || *v == '"')
            prom_printf(t, "\\%c", *v);
        else if (*v == '\n')
            prom_printf(t, "\\n");
        else
            prom_printf(t, "%c", *v);
    }
}

void prom_family(struct prom_text *t, const char *name, const char *type, const char *help)
{
    prom_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

char *prom_finish(struct prom_text *t, size_t *len)
{
    if (t->oom) {
        free(t->p);
        return NULL;
    }
    char *page = t->p ? t->p : strdup("");
    if (len)
        *len = page ? t->len : 0;
    return page;
}
