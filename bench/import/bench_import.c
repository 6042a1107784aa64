/* bench_import: times depot_stock_import_csv on a generated 100k-SKU stock file against
 * the sqlite3 shell's plain `.import --csv` of the same file, both into a fresh WAL
 * database with synchronous=FULL. Usage: bench_import [ROWS] (default 100000). */
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "store.h"

extern char **environ;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A GTIN-13 with a correct GS1 check digit for a 12-digit body. */
static void gtin13(long long body, char out[14])
{
    snprintf(out, 14, "%012lld", body % 1000000000000LL);
    int sum = 0;
    for (int i = 0; i < 12; i++)
        sum += (out[11 - i] - '0') * (i % 2 == 0 ? 3 : 1);
    out[12] = (char)('0' + (10 - sum % 10) % 10);
    out[13] = '\0';
}

static int write_csv(const char *path, long rows)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("sku,name,gtin,location,on_hand,bin,buffer\n", f);
    for (long i = 0; i < rows; i++) {
        char g[14];
        gtin13(400000000000LL + i, g);
        fprintf(f, "SKU-%06ld,\"Product %ld, size %c\",%s,WH%ld,%ld,A-%02ld-%02ld,%ld\n", i, i,
                "SML"[i % 3], g, i % 2 + 1, (i * 7) % 500, i % 40, i % 25, i % 3);
    }
    return fclose(f);
}

static double time_depot(const char *db, const char *csv, struct depot_import_result *res)
{
    depot_store *st;
    char err[256];
    if (depot_store_open(db, NULL, &st, err, sizeof err) != DEPOT_OK) {
        fprintf(stderr, "open %s: %s\n", db, err);
        return -1;
    }
    double t0 = now_s();
    depot_err e = depot_stock_import_csv(st, csv, "bench", res);
    double t = now_s() - t0;
    if (e != DEPOT_OK)
        fprintf(stderr, "import: %s\n", depot_store_errmsg(st));
    depot_store_close(st);
    return e == DEPOT_OK ? t : -1;
}

static double time_sqlite3_cli(const char *db, const char *csv)
{
    char import_cmd[512];
    snprintf(import_cmd, sizeof import_cmd, ".import --csv %s t", csv);
    char *argv[] = { "sqlite3", (char *)db, "PRAGMA journal_mode=WAL;",
                     "PRAGMA synchronous=FULL;", import_cmd, NULL };
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int status;
    double t0 = now_s();
    int rc = posix_spawnp(&pid, "sqlite3", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "cannot run sqlite3: %s\n", strerror(rc));
        return -1;
    }
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "sqlite3 .import failed\n");
        return -1;
    }
    return now_s() - t0;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(p);
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? atol(argv[1]) : 100000;
    char dir[] = "/tmp/depot-bench-XXXXXX", csv[64], db1[64], db2[64];
    struct depot_import_result res = { 0 }, again = { 0 };
    if (rows < 1 || !mkdtemp(dir)) {
        fprintf(stderr, "usage: bench_import [ROWS]\n");
        return 2;
    }
    snprintf(csv, sizeof csv, "%s/stock.csv", dir);
    snprintf(db1, sizeof db1, "%s/depot.db", dir);
    snprintf(db2, sizeof db2, "%s/cli.db", dir);
    int rc = 1;
    if (write_csv(csv, rows) != 0) {
        fprintf(stderr, "cannot write %s\n", csv);
        goto out;
    }
    double t_depot = time_depot(db1, csv, &res);
    double t_again = time_depot(db1, csv, &again);
    double t_cli = time_sqlite3_cli(db2, csv);
    if (t_depot < 0 || t_again < 0 || t_cli < 0)
        goto out;
    printf("rows: %ld\n", rows);
    printf("depot_stock_import_csv, fresh db: %.3f s (%zu SKUs created, %zu levels changed)\n",
           t_depot, res.skus_created, res.changed);
    printf("depot_stock_import_csv, same file again: %.3f s (%zu changed)\n", t_again,
           again.changed);
    printf("sqlite3 .import --csv, fresh db: %.3f s\n", t_cli);
    printf("ratio depot/sqlite3: %.2f\n", t_depot / t_cli);
    rc = 0;
out:
    depot_import_result_free(&res);
    depot_import_result_free(&again);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return rc;
}
