/* Shared helpers for the CUnit suites: a temporary data directory with a real store,
 * raw SQL on the same file, and the runner main that exits non-zero on any failure. */
#ifndef DEPOT_TESTUTIL_H
#define DEPOT_TESTUTIL_H

#include <CUnit/Basic.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <mbedtls/sha256.h>
#include "store.h"

struct test_db {
    char dir[64];
    char path[128];
    depot_store *st;
};

/* Creates a temp dir and opens (migrates) depot.db inside it. */
static inline int test_db_open(struct test_db *t)
{
    char err[256];
    snprintf(t->dir, sizeof t->dir, "/tmp/depot-test-XXXXXX");
    if (!mkdtemp(t->dir))
        return -1;
    snprintf(t->path, sizeof t->path, "%s/depot.db", t->dir);
    return depot_store_open(t->path, NULL, &t->st, err, sizeof err) == DEPOT_OK ? 0 : -1;
}

static inline int test_rm_entry(const char *p, const struct stat *sb, int flag,
                                struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static inline void test_db_close(struct test_db *t)
{
    depot_store_close(t->st);
    t->st = NULL;
    nftw(t->dir, test_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Runs SQL on a separate raw connection (bypassing the store API); returns the SQLite
 * result code of the first failure or SQLITE_OK. */
static inline int test_sql(const struct test_db *t, const char *sql)
{
    sqlite3 *db;
    if (sqlite3_open(t->path, &db) != SQLITE_OK)
        return SQLITE_CANTOPEN;
    sqlite3_busy_timeout(db, 5000);
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

/* The first column of the first row of a query, as an integer (-1 on error/no row). */
static inline long long test_sql_int(const struct test_db *t, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    long long v = -1;
    if (sqlite3_open(t->path, &db) != SQLITE_OK)
        return -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW)
            v = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return v;
}

/* 1 if `verify` finds nothing wrong; else 0, with the problems on stderr. */
static inline int test_verify_ok(const struct test_db *t)
{
    cJSON *problems = NULL;
    depot_err e = depot_store_verify(t->st, &problems);
    if (e != DEPOT_OK) {
        char *s = cJSON_Print(problems);
        fprintf(stderr, "verify: %s\n", s);
        free(s);
    }
    cJSON_Delete(problems);
    return e == DEPOT_OK;
}

/* The SHA-256 of a string as lowercase hex, computed here independently of the store. */
static inline void test_sha256_hex(const char *s, char out[65])
{
    uint8_t d[32];
    mbedtls_sha256_ret((const unsigned char *)s, strlen(s), d, 0);
    for (size_t i = 0; i < sizeof d; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

struct test_case {
    const char *name;
    void (*fn)(void);
};

/* Registers the cases as one suite, runs them, and returns the process exit status:
 * CUnit 2.1-3's basic runner reports success even when tests fail. */
static inline int test_run(const char *suite, const struct test_case *cases)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite(suite, NULL, NULL);
    for (const struct test_case *c = cases; c->name; c++)
        CU_add_test(s, c->name, c->fn);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_tests_failed() + (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed != 0;
}

#endif
