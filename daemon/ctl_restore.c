/* depotctl restore: replace the data dir's database with a verified backup, only while no
 * depotd runs on it, keeping the database it replaces. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "ctl.h"
#include "datadir.h"

/* Rationale: the daemon's lock is taken for the whole restore, so depotd can neither be
 * running nor start half-way. The backup must open as a Depot database and pass verify
 * before anything is touched. It is copied (SQLite backup API) to a temporary file in the
 * data dir and renamed over depot.db; the current database is first saved beside it, and
 * closing the last connection to it checkpoints and removes its WAL, so no WAL frames of
 * the old database can ever be applied to the restored one. A WAL that survives the close
 * means some other process still has the database open: then nothing is replaced. */

static int fail_verify(struct ctl *c, const char *file, cJSON *problems)
{
    const cJSON *first = cJSON_GetArrayItem(problems, 0);
    int rc = ctl__fail(c, DEPOT_E_INTEGRITY, "%s fails verification (%d problem(s)), first: "
                       "%s", file, cJSON_GetArraySize(problems),
                       cJSON_IsString(first) ? first->valuestring : "?");
    cJSON_Delete(problems);
    return rc;
}

/* Opens and verifies the backup, then copies it to tmp. */
static int stage_backup(struct ctl *c, const char *file, const char *tmp)
{
    struct depot_store_options ro = {.readonly = 1};
    char err[512];
    struct stat sb;
    depot_store *src = NULL;
    if (stat(file, &sb) != 0)
        return ctl__fail(c, DEPOT_E_NOT_FOUND, "%s: %s", file, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return ctl__fail(c, DEPOT_E_INVALID, "%s is not a regular file", file);
    depot_err e = depot_store_open(file, &ro, &src, err, sizeof err);
    if (e != DEPOT_OK)
        return ctl__fail(c, e, "%s is not a usable Depot backup: %s", file, err);
    cJSON *problems = NULL;
    if (depot_store_verify(src, &problems) != DEPOT_OK) {
        depot_store_close(src);
        return fail_verify(c, file, problems);
    }
    cJSON_Delete(problems);
    e = depot_store_backup(src, tmp);
    int rc = e == DEPOT_OK ? CTL_EXIT_OK : ctl__store_fail(c, src, e);
    depot_store_close(src);
    return rc;
}

/* Saves the current database as `saved` and closes it, which removes its WAL. */
static int retire_current(struct ctl *c, const char *db, const char *saved)
{
    char err[512], wal[PATH_MAX + 8];
    depot_store *cur = NULL;
    depot_err e = depot_store_open(db, NULL, &cur, err, sizeof err);
    if (e != DEPOT_OK)
        return ctl__fail(c, e, "cannot open the current database %s: %s", db, err);
    e = depot_store_backup(cur, saved);
    int rc = e == DEPOT_OK ? CTL_EXIT_OK : ctl__store_fail(c, cur, e);
    depot_store_close(cur);
    if (rc != CTL_EXIT_OK)
        return rc;
    snprintf(wal, sizeof wal, "%s-wal", db);
    if (access(wal, F_OK) == 0)
        return ctl__fail(c, DEPOT_E_BUSY, "another process still has %s open; stop it and "
                                          "try again", db);
    return CTL_EXIT_OK;
}

int ctl__db_restore(struct ctl *c, int argc, char **argv)
{
    char db[PATH_MAX], tmp[PATH_MAX + 32], saved[PATH_MAX + 64], err[PATH_MAX + 128];
    int rc = ctl__plain_args(c, argc, argv, 1);
    if (rc != CTL_GO)
        return rc;
    const char *file = argv[optind];
    if (ctl__db_path(c, db, sizeof db) != 0)
        return CTL_EXIT_FAIL;
    int lock = depot_datadir_lock(c->data_dir, err, sizeof err);
    if (lock < 0)
        return ctl__fail(c, DEPOT_E_STATE, "%s; stop depotd before restoring", err);
    snprintf(tmp, sizeof tmp, "%s.restore-tmp", db);
    unlink(tmp);
    rc = stage_backup(c, file, tmp);
    struct stat sb;
    int have_current = stat(db, &sb) == 0;
    saved[0] = '\0';
    if (rc == CTL_EXIT_OK && have_current) {
        snprintf(saved, sizeof saved, "%s.before-restore-%lld", db, (long long)time(NULL));
        rc = retire_current(c, db, saved);
    }
    if (rc == CTL_EXIT_OK && rename(tmp, db) != 0)
        rc = ctl__fail(c, DEPOT_E_IO, "cannot move the restored database into place: %s",
                       strerror(errno));
    if (rc == CTL_EXIT_OK && ctl__sync_parent_dir(db) != 0)
        rc = ctl__fail(c, DEPOT_E_IO, "cannot sync %s: %s", c->data_dir, strerror(errno));
    if (rc != CTL_EXIT_OK) {
        unlink(tmp);
        close(lock);
        return rc;
    }
    close(lock);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "database", db);
    cJSON_AddStringToObject(doc, "restored_from", file);
    if (saved[0])
        cJSON_AddStringToObject(doc, "previous_saved_as", saved);
    else
        cJSON_AddNullToObject(doc, "previous_saved_as");
    return ctl__done(c, doc, "restored %s from %s%s%s", db, file,
                     saved[0] ? "; the previous database is saved as " : "", saved);
}
