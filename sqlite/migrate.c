/* Schema migrations: applies the embedded sqlite/migrations/NNNN_*.sql scripts in order,
 * all pending ones in one transaction, and records progress in PRAGMA user_version. */
#include <stdio.h>
#include "store_int.h"

int store__migrate(depot_store *st);

int store__migrate(depot_store *st)
{
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    /* Read the version inside the write transaction so two processes starting together
     * cannot both apply the same migration. */
    int version = depot_store_schema_version(st);
    int latest = depot_store_schema_latest();
    if (version < 0) {
        e = store__fail(st, DEPOT_E_SCHEMA, "cannot read schema version: %s",
                        sqlite3_errmsg(st->db));
        goto fail;
    }
    if (version > latest) {
        e = store__fail(st, DEPOT_E_SCHEMA,
                        "database has schema version %d, newer than this Depot knows (%d): "
                        "upgrade Depot or restore a matching backup", version, latest);
        goto fail;
    }
    for (int v = version; v < latest; v++) {
        char *msg = NULL;
        if (sqlite3_exec(st->db, depot_migrations[v], NULL, NULL, &msg) != SQLITE_OK) {
            e = store__fail(st, DEPOT_E_SCHEMA, "migration %04d failed: %s", v + 1,
                            msg ? msg : "unknown error");
            sqlite3_free(msg);
            goto fail;
        }
    }
    if (version < latest) {
        /* Some migrations edit sqlite_schema in place (0007): a new schema cookie makes
         * every connection, this one included, reload the schema. */
        char sql[64];
        int cookie = -1;
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(st->db, "PRAGMA schema_version", -1, &s, NULL) == SQLITE_OK &&
            sqlite3_step(s) == SQLITE_ROW)
            cookie = sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
        snprintf(sql, sizeof sql, "PRAGMA schema_version=%d", cookie + 1);
        if (cookie < 0 || sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
            e = store__dberr(st, "bump the schema cookie");
            goto fail;
        }
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d", latest);
        if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
            e = store__dberr(st, "set schema version");
            goto fail;
        }
    }
    return store__commit(st);
fail:
    store__rollback(st);
    return e;
}
