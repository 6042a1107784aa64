/* The signals depotd acts on (TERM, INT, HUP), delivered through a signalfd so the event
 * loop waits on them like on any other file descriptor. */
#ifndef DEPOT_SIGNALS_H
#define DEPOT_SIGNALS_H

/* Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and ignores SIGPIPE. Call it
 * first in main, before any thread starts: threads inherit the mask, so the signals are
 * only ever seen through the returned descriptor (non-blocking, close-on-exec).
 * Returns -1 with errno set on failure. */
int depot_signals_open(void);

/* The number of the next pending signal, or 0 when none is pending. */
int depot_signals_next(int fd);

#endif
