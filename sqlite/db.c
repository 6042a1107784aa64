/* The store's connection: opening with the right pragmas, the per-connection prepared
 * statement cache, transactions, and error recording. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "inbound.h"
#include "monotonic.h"
#include "store_int.h"

/* Rationale: durability is never weakened. WAL gives readers that do not block the one
 * writer; synchronous=FULL makes every COMMIT survive power loss before it returns (an
 * acknowledgement depends on it); BEGIN IMMEDIATE takes the write lock up front so two
 * writers never deadlock upgrading from read to write. */
static const char *const connection_pragmas =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "PRAGMA foreign_keys=ON;"
    "PRAGMA cache_size=-32768;"   /* 32 MiB: a 100k-SKU import stays in memory */
    "PRAGMA journal_size_limit=67108864;"; /* a big import's WAL shrinks back to 64 MiB */

int store__migrate(depot_store *st); /* migrate.c */

const char *depot_err_code(depot_err e)
{
    switch (e) {
    case DEPOT_OK: return "ok";
    case DEPOT_E_INVALID: return "invalid_input";
    case DEPOT_E_NOT_FOUND: return "not_found";
    case DEPOT_E_CONFLICT: return "conflict";
    case DEPOT_E_INSUFFICIENT: return "insufficient_stock";
    case DEPOT_E_STATE: return "invalid_state";
    case DEPOT_E_BUSY: return "busy";
    case DEPOT_E_DB: return "database_error";
    case DEPOT_E_IO: return "io_error";
    case DEPOT_E_CRYPTO: return "crypto_error";
    case DEPOT_E_NOMEM: return "out_of_memory";
    case DEPOT_E_SCHEMA: return "schema_error";
    case DEPOT_E_INTEGRITY: return "integrity_error";
    }
    return "unknown_error";
}

depot_err store__fail(depot_store *st, depot_err e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->errmsg, sizeof st->errmsg, fmt, ap);
    va_end(ap);
    return e;
}

void store__clear_error(depot_store *st)
{
    st->errmsg[0] = '\0';
}

static depot_err map_sqlite(int rc, const char *msg)
{
    switch (rc & 0xff) {
    case SQLITE_OK: case SQLITE_DONE: case SQLITE_ROW: return DEPOT_OK;
    case SQLITE_BUSY: case SQLITE_LOCKED: return DEPOT_E_BUSY;
    case SQLITE_NOMEM: return DEPOT_E_NOMEM;
    case SQLITE_IOERR: case SQLITE_FULL: case SQLITE_CANTOPEN: return DEPOT_E_IO;
    case SQLITE_CORRUPT: case SQLITE_NOTADB: return DEPOT_E_SCHEMA;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_CHECK)
            return (msg && (strstr(msg, "on_hand") || strstr(msg, "reserved")))
                       ? DEPOT_E_INSUFFICIENT : DEPOT_E_INVALID;
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return DEPOT_E_CONFLICT;
        return DEPOT_E_INVALID;
    default: return DEPOT_E_DB;
    }
}

depot_err store__dberr(depot_store *st, const char *context)
{
    int rc = sqlite3_extended_errcode(st->db);
    const char *msg = sqlite3_errmsg(st->db);
    return store__fail(st, map_sqlite(rc, msg), "%s: %s", context, msg);
}

int64_t store__now(void)
{
    return (int64_t)time(NULL);
}

sqlite3_stmt *store__stmt(depot_store *st, const char *sql)
{
    size_t h = ((uintptr_t)sql >> 3) % STORE_STMT_CACHE;
    for (size_t i = 0; i < STORE_STMT_CACHE; i++) {
        struct stmt_slot *slot = &st->cache[(h + i) % STORE_STMT_CACHE];
        if (slot->sql == sql) {
            sqlite3_reset(slot->stmt);
            sqlite3_clear_bindings(slot->stmt);
            return slot->stmt;
        }
        if (slot->sql == NULL) {
            if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &slot->stmt,
                                   NULL) != SQLITE_OK) {
                store__dberr(st, "prepare");
                slot->stmt = NULL;
                return NULL;
            }
            slot->sql = sql;
            return slot->stmt;
        }
    }
    /* Cache full: a programming error (more distinct statements than slots). */
    store__fail(st, DEPOT_E_DB, "statement cache full (raise STORE_STMT_CACHE)");
    return NULL;
}

static depot_err exec_simple(depot_store *st, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        depot_err e = store__fail(st, map_sqlite(rc, msg), "%s: %s", sql,
                                  msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return e;
    }
    return DEPOT_OK;
}

/* Inside a batch (depot_store_batch_begin, inbound.h) each operation is a savepoint of
 * the batch's transaction: it succeeds or fails alone, and is durable when the batch
 * commits. */
depot_err store__begin(depot_store *st)
{
    store__clear_error(st);
    if (st->in_tx)
        return store__fail(st, DEPOT_E_STATE, "transaction already open");
    depot_err e = exec_simple(st, st->batch ? "SAVEPOINT store_op" : "BEGIN IMMEDIATE");
    if (e == DEPOT_OK)
        st->in_tx = 1;
    return e;
}

depot_err store__commit(depot_store *st)
{
    depot_err e = exec_simple(st, st->batch ? "RELEASE store_op" : "COMMIT");
    if (e != DEPOT_OK) {
        store__rollback(st);
        return e;
    }
    st->in_tx = 0;
    /* Lookups inside the transaction may have recorded an expected "unknown ..." (a new
     * location, an unresolved order line); a committed operation reports no error. */
    store__clear_error(st);
    return DEPOT_OK;
}

void store__rollback(depot_store *st)
{
    if (st->batch && st->in_tx)
        sqlite3_exec(st->db, "ROLLBACK TO store_op; RELEASE store_op", NULL, NULL, NULL);
    else if (!st->batch && sqlite3_get_autocommit(st->db) == 0)
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    st->in_tx = 0;
}

depot_err depot_store_batch_begin(depot_store *st)
{
    store__clear_error(st);
    if (st->in_tx || st->batch)
        return store__fail(st, DEPOT_E_STATE, "transaction already open");
    depot_err e = exec_simple(st, "BEGIN IMMEDIATE");
    if (e == DEPOT_OK)
        st->batch = 1;
    return e;
}

depot_err depot_store_batch_commit(depot_store *st)
{
    if (!st->batch)
        return store__fail(st, DEPOT_E_STATE, "no batch open");
    st->batch = 0;
    depot_err e = exec_simple(st, "COMMIT");
    if (e != DEPOT_OK && sqlite3_get_autocommit(st->db) == 0)
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return e;
}

/* Rationale: SQLite's own busy handler sleeps 1, 2, 5, 10 ... 100 ms between tries; with
 * write transactions that last a millisecond, a waiter oversleeps and can lose the lock
 * again and again to a writer in a tight loop (a worker thread). Polling every 100 us,
 * backing off to 2 ms, hands the lock over promptly; the total wait is still bounded by
 * busy_timeout_ms. */
static _Atomic int64_t last_lock_wait_us; /* any connection of this process */

int depot_store_lock_contended(void)
{
    return depot_monotonic_us() - last_lock_wait_us < 2000;
}

static int busy_wait(void *arg, int attempt)
{
    depot_store *st = arg;
    int64_t now = depot_monotonic_us();
    last_lock_wait_us = now;
    if (attempt == 0)
        st->busy_since_us = now;
    if (now - st->busy_since_us >= (int64_t)st->busy_timeout_ms * 1000)
        return 0;
    long us = 100L * (attempt + 1);
    struct timespec ts = {0, (us > 2000 ? 2000 : us) * 1000};
    nanosleep(&ts, NULL);
    return 1;
}

depot_err store__step_done(depot_store *st, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
        sqlite3_reset(s);
        return DEPOT_OK;
    }
    sqlite3_reset(s);
    return store__dberr(st, "write");
}

depot_err depot_store_open(const char *path, const struct depot_store_options *opt,
                           depot_store **out, char *err, size_t errlen)
{
    depot_err e = DEPOT_OK;
    depot_store *st = calloc(1, sizeof *st);
    *out = NULL;
    if (!st) {
        if (err) snprintf(err, errlen, "out of memory");
        return DEPOT_E_NOMEM;
    }
    int ro = opt && opt->readonly;
    int flags = (ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &st->db, flags, NULL);
    if (rc != SQLITE_OK) {
        e = store__fail(st, map_sqlite(rc, NULL), "cannot open database %s: %s", path,
                        st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        goto out;
    }
    sqlite3_extended_result_codes(st->db, 1);
    st->busy_timeout_ms = opt && opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms : 5000;
    sqlite3_busy_handler(st->db, busy_wait, st);
    if (!ro && (e = exec_simple(st, connection_pragmas)) != DEPOT_OK) {
        store__fail(st, e, "cannot use database %s: %s", path, sqlite3_errmsg(st->db));
        goto out;
    }
    if (ro && (e = exec_simple(st, "PRAGMA foreign_keys=ON")) != DEPOT_OK)
        goto out;
    if (ro) {
        int v = depot_store_schema_version(st);
        if (v < 0) {
            e = store__fail(st, DEPOT_E_SCHEMA, "%s is not a database: %s", path,
                            sqlite3_errmsg(st->db));
            goto out;
        }
        if (v == 0) {
            e = store__fail(st, DEPOT_E_SCHEMA, "%s has no Depot schema", path);
            goto out;
        }
        if (v > depot_store_schema_latest()) {
            e = store__fail(st, DEPOT_E_SCHEMA,
                            "database %s has schema version %d, newer than this Depot "
                            "knows (%d): upgrade Depot", path, v, depot_store_schema_latest());
            goto out;
        }
    } else if ((e = store__migrate(st)) != DEPOT_OK) {
        goto out;
    }
out:
    if (e != DEPOT_OK) {
        if (err) snprintf(err, errlen, "%s", st->errmsg);
        depot_store_close(st);
        return e;
    }
    store__clear_error(st);
    *out = st;
    return DEPOT_OK;
}

void depot_store_close(depot_store *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < STORE_STMT_CACHE; i++)
        if (st->cache[i].stmt)
            sqlite3_finalize(st->cache[i].stmt);
    sqlite3_close(st->db);
    free(st);
}

const char *depot_store_errmsg(const depot_store *st)
{
    return st->errmsg;
}

int depot_store_schema_version(depot_store *st)
{
    sqlite3_stmt *s = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return v;
}

int depot_store_schema_latest(void)
{
    return depot_migrations_count;
}

depot_err depot_store_backup(depot_store *st, const char *dest_path)
{
    sqlite3 *dst = NULL;
    depot_err e = DEPOT_OK;
    store__clear_error(st);
    int rc = sqlite3_open_v2(dest_path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        e = store__fail(st, DEPOT_E_IO, "cannot create backup %s: %s", dest_path,
                        dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
        goto out;
    }
    sqlite3_busy_timeout(dst, 5000);
    sqlite3_exec(dst, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", st->db, "main");
    if (!b) {
        e = store__fail(st, DEPOT_E_IO, "backup %s: %s", dest_path, sqlite3_errmsg(dst));
        goto out;
    }
    /* Copy in steps so writers in other processes are not starved; a write to the source
     * by another connection restarts the copy, so the result is always one snapshot. */
    do {
        rc = sqlite3_backup_step(b, 256);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            sqlite3_sleep(20);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        e = store__fail(st, DEPOT_E_IO, "backup %s: %s", dest_path, sqlite3_errstr(rc));
        goto out;
    }
    /* The copy is a stand-alone file: rollback journal mode, nothing left in a WAL. */
    if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK)
        e = store__fail(st, DEPOT_E_IO, "backup %s: %s", dest_path, sqlite3_errmsg(dst));
out:
    if (dst && sqlite3_close(dst) != SQLITE_OK && e == DEPOT_OK)
        e = store__fail(st, DEPOT_E_IO, "backup %s: close failed", dest_path);
    return e;
}
