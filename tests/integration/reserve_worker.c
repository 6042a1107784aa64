/* Test-only driver for the oversell hammer and the kill -9 crash test: a separate process
 * that reserves orders through the real store API against a shared database file and
 * reports, line by line, what it committed.
 *
 *   reserve_worker setup DB SKUS UNITS   SKUs S1..Sn with UNITS each at location MAIN
 *   reserve_worker hammer DB NAME ORDERS SKUS  single-unit orders on random SKUs; prints
 *                                        "RESERVED <order_id> <sku>" per success and a
 *                                        final "DONE <reserved> <short>"
 *   reserve_worker stream DB NAME        creates and reserves orders until killed,
 *                                        printing "COMMITTED <order_id> <units>" after
 *                                        each commit (stdout is flushed every line) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "store.h"

static depot_store *open_store(const char *path)
{
    struct depot_store_options opt = {.busy_timeout_ms = 30000};
    char err[256];
    depot_store *st = NULL;
    if (depot_store_open(path, &opt, &st, err, sizeof err) != DEPOT_OK) {
        fprintf(stderr, "reserve_worker: %s\n", err);
        exit(1);
    }
    return st;
}

static void die(depot_store *st, const char *what)
{
    fprintf(stderr, "reserve_worker: %s: %s\n", what, depot_store_errmsg(st));
    exit(1);
}

static int setup(const char *db, int skus, int units)
{
    depot_store *st = open_store(db);
    if (depot_location_ensure(st, "MAIN", "test", NULL) != DEPOT_OK)
        die(st, "location");
    for (int i = 1; i <= skus; i++) {
        char code[16];
        snprintf(code, sizeof code, "S%d", i);
        if (depot_sku_upsert(st, code, "Scarce item", NULL, "test", NULL) != DEPOT_OK ||
            depot_stock_adjust(st, code, "MAIN", units, "hammer stock", "test", NULL))
            die(st, "stock");
    }
    depot_store_close(st);
    return 0;
}

/* Creates a one-line order and reserves it; returns the reserve result. */
static depot_err one_order(depot_store *st, const char *ext, const char *sku, int64_t qty,
                           int64_t *id)
{
    struct depot_order_line_in line = {.sku = sku, .quantity = qty};
    struct depot_order_in in = {.external_id = ext, .lines = &line, .n_lines = 1};
    depot_err e;
    do /* the busy timeout is long; BUSY here means another writer held on longer */
        e = depot_order_create(st, &in, "test", id, NULL);
    while (e == DEPOT_E_BUSY);
    if (e != DEPOT_OK)
        die(st, "create order");
    do
        e = depot_order_reserve(st, *id, 0, "test");
    while (e == DEPOT_E_BUSY);
    return e;
}

static int hammer(const char *db, const char *name, int orders, int skus)
{
    depot_store *st = open_store(db);
    srand((unsigned)getpid());
    int reserved = 0, shortage = 0;
    for (int i = 0; i < orders; i++) {
        char ext[64], sku[16];
        int64_t id;
        snprintf(ext, sizeof ext, "%s-%d", name, i);
        snprintf(sku, sizeof sku, "S%d", 1 + rand() % skus);
        depot_err e = one_order(st, ext, sku, 1, &id);
        if (e == DEPOT_OK) {
            printf("RESERVED %lld %s\n", (long long)id, sku);
            reserved++;
        } else if (e == DEPOT_E_INSUFFICIENT) {
            shortage++;
        } else {
            die(st, "reserve");
        }
    }
    printf("DONE %d %d\n", reserved, shortage);
    depot_store_close(st);
    return 0;
}

static _Noreturn void stream(const char *db, const char *name)
{
    depot_store *st = open_store(db);
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (long i = 0;; i++) {
        char ext[64];
        int64_t id;
        int64_t qty = 1 + i % 3;
        snprintf(ext, sizeof ext, "%s-%ld", name, i);
        depot_err e = one_order(st, ext, "S1", qty, &id);
        if (e != DEPOT_OK)
            die(st, "reserve");
        printf("COMMITTED %lld %lld\n", (long long)id, (long long)qty);
    }
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "setup"))
        return setup(argv[2], atoi(argv[3]), atoi(argv[4]));
    if (argc == 6 && !strcmp(argv[1], "hammer"))
        return hammer(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
    if (argc == 4 && !strcmp(argv[1], "stream"))
        stream(argv[2], argv[3]);
    fprintf(stderr, "usage: reserve_worker setup DB SKUS UNITS | hammer DB NAME ORDERS SKUS"
                    " | stream DB NAME\n");
    return 2;
}
