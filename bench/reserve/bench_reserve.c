/* Benchmark: reservation commits per second through depot_order_reserve, against a bare
 * SQLite loop doing the same row writes (stock, reservation, order status, audit row) in
 * the same kind of transaction with the same pragmas, measured in the same run.
 *
 *   bench_reserve [N] [ROUNDS]   (default 2000 reservations, 3 rounds)
 * Rounds alternate bare/depot on fresh files so disk warm-up and noise from the shared
 * machine hit both alike; the medians and their ratio are printed (target: >= 0.7).
 * See docs/PERFORMANCE.md. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(int ok, const char *what, const char *detail)
{
    if (!ok) {
        fprintf(stderr, "bench_reserve: %s: %s\n", what, detail);
        exit(1);
    }
}

/* A fresh Depot database with one SKU holding n units and n one-unit open orders. */
static depot_store *prepare(const char *path, int n)
{
    char err[256];
    depot_store *st = NULL;
    check(depot_store_open(path, NULL, &st, err, sizeof err) == DEPOT_OK, "open", err);
    check(depot_sku_upsert(st, "B1", "Bench item", NULL, "bench", NULL) == DEPOT_OK &&
          depot_location_ensure(st, "MAIN", "bench", NULL) == DEPOT_OK &&
          depot_stock_adjust(st, "B1", "MAIN", n, "bench", "bench", NULL) == DEPOT_OK,
          "stock", depot_store_errmsg(st));
    for (int i = 0; i < n; i++) {
        char ext[32];
        int64_t id;
        snprintf(ext, sizeof ext, "o%d", i);
        struct depot_order_line_in line = {.sku = "B1", .quantity = 1};
        struct depot_order_in in = {.external_id = ext, .lines = &line, .n_lines = 1};
        check(depot_order_create(st, &in, "bench", &id, NULL) == DEPOT_OK, "order",
              depot_store_errmsg(st));
    }
    return st;
}

static double run_depot(const char *path, int n)
{
    depot_store *st = prepare(path, n);
    double t0 = now_s();
    for (int i = 1; i <= n; i++)
        check(depot_order_reserve(st, i, 0, "bench") == DEPOT_OK, "reserve",
              depot_store_errmsg(st));
    double dt = now_s() - t0;
    depot_store_close(st);
    return n / dt;
}

static void exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    check(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, sql, msg ? msg : "");
}

static double run_bare(const char *path, int n)
{
    depot_store_close(prepare(path, n));
    sqlite3 *db;
    check(sqlite3_open(path, &db) == SQLITE_OK, "open", path);
    exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON");
    sqlite3_stmt *s[4];
    const char *sql[4] = {
        "UPDATE stock SET reserved = reserved + 1, updated_at = ?2 WHERE sku_id = 1"
        " AND location_id = 1",
        "INSERT INTO reservations (order_id, line_id, sku_id, location_id, quantity, status,"
        " created_at, updated_at) VALUES (?1, ?1, 1, 1, 1, 'active', ?2, ?2)",
        "UPDATE orders SET status = 'reserved', updated_at = ?2 WHERE id = ?1",
        "INSERT INTO audit (at, actor, action, entity, detail, prev_hash, hash) VALUES (?2,"
        " 'bench', 'order.reserve', 'order:' || ?1, '{}', printf('%064d', 0),"
        " printf('%064d', ?1 + 1000000))",
    };
    for (int k = 0; k < 4; k++)
        check(sqlite3_prepare_v2(db, sql[k], -1, &s[k], NULL) == SQLITE_OK, "prepare",
              sqlite3_errmsg(db));
    double t0 = now_s();
    for (int i = 1; i <= n; i++) {
        exec(db, "BEGIN IMMEDIATE");
        for (int k = 0; k < 4; k++) {
            sqlite3_bind_int64(s[k], 1, i);
            sqlite3_bind_int64(s[k], 2, (sqlite3_int64)time(NULL));
            check(sqlite3_step(s[k]) == SQLITE_DONE, "step", sqlite3_errmsg(db));
            sqlite3_reset(s[k]);
        }
        exec(db, "COMMIT");
    }
    double dt = now_s() - t0;
    for (int k = 0; k < 4; k++)
        sqlite3_finalize(s[k]);
    sqlite3_close(db);
    return n / dt;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    check(n > 0 && n <= 1000000, "N", "must be 1..1000000");
    check(rounds > 0 && rounds <= 15, "ROUNDS", "must be 1..15");
    double bare[15], depot[15];
    for (int r = 0; r < rounds; r++) {
        char dir[] = "/tmp/depot-bench-XXXXXX", a[64], b[64], cmd[96];
        check(mkdtemp(dir) != NULL, "mkdtemp", dir);
        snprintf(a, sizeof a, "%s/depot.db", dir);
        snprintf(b, sizeof b, "%s/bare.db", dir);
        if (r % 2 == 0) {
            bare[r] = run_bare(b, n);
            depot[r] = run_depot(a, n);
        } else {
            depot[r] = run_depot(a, n);
            bare[r] = run_bare(b, n);
        }
        printf("round %d: bare %.0f/s, depot %.0f/s\n", r + 1, bare[r], depot[r]);
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        check(system(cmd) == 0, "cleanup", dir);
    }
    qsort(bare, (size_t)rounds, sizeof bare[0], cmp_double);
    qsort(depot, (size_t)rounds, sizeof depot[0], cmp_double);
    double mb = bare[rounds / 2], md = depot[rounds / 2];
    printf("reservations: %d per round, %d rounds, synchronous=FULL, WAL\n", n, rounds);
    printf("bare SQLite loop    (median): %8.0f commits/s\n", mb);
    printf("depot_order_reserve (median): %8.0f commits/s\n", md);
    printf("ratio depot/bare            : %8.2f (target >= 0.70)\n", md / mb);
    return 0;
}
