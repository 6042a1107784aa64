/* Each printer's live state as the print worker last saw it: a small table behind a
 * mutex, written by the worker threads and read by the web thread (device views). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "printer.h"

static const char *const state_names[] = {
    [DEPOT_PRINTER_UNKNOWN] = "unknown",       [DEPOT_PRINTER_READY] = "ready",
    [DEPOT_PRINTER_PRINTING] = "printing",     [DEPOT_PRINTER_OFFLINE] = "offline",
    [DEPOT_PRINTER_NO_REPLY] = "no_reply",     [DEPOT_PRINTER_PAPER_OUT] = "paper_out",
    [DEPOT_PRINTER_HEAD_OPEN] = "head_open",   [DEPOT_PRINTER_RIBBON_OUT] = "ribbon_out",
    [DEPOT_PRINTER_PAUSED] = "paused",         [DEPOT_PRINTER_BUFFER_FULL] = "buffer_full",
    [DEPOT_PRINTER_STOPPED] = "stopped",
};

const char *depot_printer_state_name(enum depot_printer_state s)
{
    return (unsigned)s < sizeof state_names / sizeof state_names[0] ? state_names[s]
                                                                  : "unknown";
}

enum depot_printer_state depot_printer_state_from_status(const struct depot_zebra_status *s)
{
    if (s->paper_out)
        return DEPOT_PRINTER_PAPER_OUT;
    if (s->head_open)
        return DEPOT_PRINTER_HEAD_OPEN;
    if (s->ribbon_out)
        return DEPOT_PRINTER_RIBBON_OUT;
    if (s->paused)
        return DEPOT_PRINTER_PAUSED;
    if (s->buffer_full)
        return DEPOT_PRINTER_BUFFER_FULL;
    return DEPOT_PRINTER_READY;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct depot_printer_live table[DEPOT_PRINTER_LIVE_MAX];
static int used;

/* The entry for name, created if create; NULL if absent or full. Lock held. */
static struct depot_printer_live *find(const char *name, int create)
{
    for (int i = 0; i < used; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    if (!create || used == DEPOT_PRINTER_LIVE_MAX)
        return NULL;
    struct depot_printer_live *p = &table[used++];
    *p = (struct depot_printer_live){.state = DEPOT_PRINTER_UNKNOWN};
    snprintf(p->name, sizeof p->name, "%s", name);
    return p;
}

int depot_printer_live_set(const char *name, enum depot_printer_state state,
                           const char *message, int64_t current_job)
{
    int changed = -1;
    pthread_mutex_lock(&lock);
    struct depot_printer_live *p = find(name, 1);
    if (p) {
        const char *m = message ? message : "";
        changed = p->state != state || strncmp(p->message, m, sizeof p->message - 1) != 0;
        if (p->state != state || p->since == 0)
            p->since = (int64_t)time(NULL);
        p->state = state;
        snprintf(p->message, sizeof p->message, "%s", m);
        p->current_job = current_job;
    }
    pthread_mutex_unlock(&lock);
    return changed;
}

void depot_printer_live_printed(const char *name)
{
    pthread_mutex_lock(&lock);
    struct depot_printer_live *p = find(name, 1);
    if (p)
        p->printed++;
    pthread_mutex_unlock(&lock);
}

int depot_printer_live_get(const char *name, struct depot_printer_live *out)
{
    pthread_mutex_lock(&lock);
    struct depot_printer_live *p = find(name, 0);
    if (p)
        *out = *p;
    pthread_mutex_unlock(&lock);
    return p ? 0 : -1;
}

int depot_printer_live_list(struct depot_printer_live *out, int max)
{
    pthread_mutex_lock(&lock);
    int n = used < max ? used : max;
    memcpy(out, table, (size_t)n * sizeof *out);
    pthread_mutex_unlock(&lock);
    return n;
}

void depot_printer_live_forget(const char *name)
{
    pthread_mutex_lock(&lock);
    struct depot_printer_live *p = find(name, 0);
    if (p)
        *p = table[--used]; /* the last entry moves into its place */
    pthread_mutex_unlock(&lock);
}

void depot_printer_live_reset(void)
{
    pthread_mutex_lock(&lock);
    used = 0;
    pthread_mutex_unlock(&lock);
}
