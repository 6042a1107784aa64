/* depotctl's database commands — init, verify, backup — and opening the store of the
 * data dir for every other command. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ctl.h"
#include "config.h"
#include "datadir.h"
#include "master_key.h"

#define DB_FILE "depot.db"

int ctl__db_path(struct ctl *c, char *buf, size_t len)
{
    char err[256];
    if (depot_datadir_path(c->data_dir, DB_FILE, buf, len, err, sizeof err) != 0) {
        ctl__fail(c, DEPOT_E_INVALID, "%s", err);
        return -1;
    }
    return 0;
}

int ctl__open(struct ctl *c, int readonly, depot_store **st)
{
    char path[PATH_MAX], err[256];
    struct depot_store_options opt = {.readonly = readonly};
    struct stat sb;
    *st = NULL;
    if (ctl__db_path(c, path, sizeof path) != 0)
        return CTL_EXIT_FAIL;
    /* Never let SQLite create an empty database in a mistyped data dir. */
    if (stat(path, &sb) != 0 && errno == ENOENT)
        return ctl__fail(c, DEPOT_E_NOT_FOUND, "no database at %s; run depotctl init", path);
    depot_err e = depot_store_open(path, &opt, st, err, sizeof err);
    if (e != DEPOT_OK)
        return ctl__fail(c, e, "%s", err);
    return CTL_EXIT_OK;
}

int ctl__master_key(struct ctl *c, uint8_t key[DEPOT_MASTER_KEY_LEN])
{
    char source[PATH_MAX + 64], err[256];
    int in_checkout = depot_config_in_checkout();
    depot_err e = depot_master_key_load(c->data_dir, in_checkout, key, source, sizeof source,
                                        err, sizeof err);
    if (e == DEPOT_E_NOT_FOUND)
        return ctl__fail(c, e, "no master key: set %s to the key file the daemon uses "
                               "(e.g. /etc/depot/master.key)", DEPOT_MASTER_KEY_ENV);
    if (e != DEPOT_OK)
        return ctl__fail(c, e, "master key: %s", err);
    if (strncmp(source, DEPOT_MASTER_KEY_SOURCE_DEV, strlen(DEPOT_MASTER_KEY_SOURCE_DEV)) == 0)
        fprintf(stderr, "depotctl: WARNING: using the development master key from the %s\n",
                source);
    return CTL_EXIT_OK;
}

int ctl__db_init(struct ctl *c, int argc, char **argv)
{
    char path[PATH_MAX], err[256];
    struct stat sb;
    depot_store *st;
    int rc = ctl__plain_args(c, argc, argv, 0);
    if (rc != CTL_GO)
        return rc;
    if (depot_datadir_prepare(c->data_dir, err, sizeof err) != 0)
        return ctl__fail(c, DEPOT_E_IO, "%s", err);
    if (ctl__db_path(c, path, sizeof path) != 0)
        return CTL_EXIT_FAIL;
    int existed = stat(path, &sb) == 0;
    depot_err e = depot_store_open(path, NULL, &st, err, sizeof err);
    if (e != DEPOT_OK)
        return ctl__fail(c, e, "%s", err);
    int version = depot_store_schema_version(st);
    depot_store_close(st);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "database", path);
    cJSON_AddBoolToObject(doc, "created", !existed);
    cJSON_AddNumberToObject(doc, "schema_version", version);
    return ctl__done(c, doc, existed ? "%s: up to date (schema version %d)"
                                     : "%s: created (schema version %d)", path, version);
}

int ctl__db_verify(struct ctl *c, int argc, char **argv)
{
    char path[PATH_MAX];
    depot_store *st;
    cJSON *problems;
    int rc = ctl__plain_args(c, argc, argv, 0);
    if (rc != CTL_GO)
        return rc;
    if (ctl__db_path(c, path, sizeof path) != 0)
        return CTL_EXIT_FAIL;
    /* Read-only: an out-of-date schema is reported, not silently migrated. */
    if ((rc = ctl__open(c, 1, &st)) != CTL_EXIT_OK)
        return rc;
    depot_store_verify(st, &problems);
    depot_store_close(st);
    return ctl__print_verify(c, path, problems);
}

int ctl__sync_parent_dir(const char *file)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", file);
    int fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* Rationale: the copy is written to a temporary file beside FILE and renamed into place,
 * so FILE is never a half-written backup, and RENAME_NOREPLACE refuses an existing FILE
 * without --force even if one appears while the copy runs. */
static int backup_to(struct ctl *c, depot_store *st, const char *db_path, const char *dest,
                     int force)
{
    char tmp[PATH_MAX];
    struct stat sb;
    if (same_file(dest, db_path))
        return ctl__fail(c, DEPOT_E_INVALID, "%s is the live database", dest);
    if (!force && lstat(dest, &sb) == 0)
        return ctl__fail(c, DEPOT_E_CONFLICT, "%s exists; use --force to replace it", dest);
    int n = snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", dest);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return ctl__fail(c, DEPOT_E_INVALID, "backup path is too long: %s", dest);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return ctl__fail(c, DEPOT_E_IO, "cannot create %s: %s", tmp, strerror(errno));
    close(fd);
    depot_err e = depot_store_backup(st, tmp);
    if (e != DEPOT_OK) {
        unlink(tmp);
        return ctl__store_fail(c, st, e);
    }
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dest, force ? 0 : RENAME_NOREPLACE) != 0) {
        int err = errno;
        unlink(tmp);
        if (err == EEXIST)
            return ctl__fail(c, DEPOT_E_CONFLICT, "%s exists; use --force to replace it",
                             dest);
        return ctl__fail(c, DEPOT_E_IO, "cannot rename %s to %s: %s", tmp, dest,
                         strerror(err));
    }
    if (ctl__sync_parent_dir(dest) != 0)
        return ctl__fail(c, DEPOT_E_IO, "cannot sync the directory of %s: %s", dest,
                         strerror(errno));
    if (stat(dest, &sb) != 0)
        return ctl__fail(c, DEPOT_E_IO, "%s: %s", dest, strerror(errno));
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "database", db_path);
    cJSON_AddStringToObject(doc, "backup", dest);
    cJSON_AddNumberToObject(doc, "bytes", (double)sb.st_size);
    return ctl__done(c, doc, "backup of %s written to %s (%lld bytes)", db_path, dest,
                     (long long)sb.st_size);
}

int ctl__db_backup(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"force", no_argument, NULL, 'f'},
        {0},
    };
    char path[PATH_MAX];
    depot_store *st;
    int force = 0, o;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0)
        if (o == 'f')
            force = 1;
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, 1) != 0)
        return CTL_EXIT_USAGE;
    if (ctl__db_path(c, path, sizeof path) != 0)
        return CTL_EXIT_FAIL;
    int rc = ctl__open(c, 1, &st);
    if (rc != CTL_EXIT_OK)
        return rc;
    rc = backup_to(c, st, path, argv[optind], force);
    depot_store_close(st);
    return rc;
}
