/* The data directory: created private if missing, files named inside it, and the lock
 * that keeps a second depotd away from it. */
#ifndef DEPOT_DATADIR_H
#define DEPOT_DATADIR_H

#include <stddef.h>

/* Makes sure dir is a writable directory, creating it with mode 0700 if it does not exist
 * (its parent must). Returns 0, or -1 with a one-line reason in err. */
int depot_datadir_prepare(const char *dir, char *err, size_t errlen);

/* Writes "dir/name" to buf. Returns 0, or -1 (with a reason in err) if it does not fit. */
int depot_datadir_path(const char *dir, const char *name, char *buf, size_t len,
                       char *err, size_t errlen);

/* Takes an exclusive lock on dir/depotd.lock (flock, released when the process exits) and
 * writes our pid into it. Returns the descriptor to keep open, or -1 with a reason in err
 * (naming the pid of the daemon holding the lock when it is taken). */
int depot_datadir_lock(const char *dir, char *err, size_t errlen);

#endif
