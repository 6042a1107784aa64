/* Test-only driver for the outbound tests: makes many stock changes, or creates, reserves
 * and ships many channel orders, each as its own store transaction (as the daemon's own
 * operations would), so the outbox fills quickly without thousands of CLI processes.
 *
 *   outbound_driver DB adjust SKU LOCATION COUNT DELTA
 *   outbound_driver DB adjust-each LOCATION DELTA      (every SKU once, by code)
 *   outbound_driver DB ship CHANNEL_ID COUNT FIRST_EXTERNAL_ID SKU   (tracking TRK<id>) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store.h"

static int adjust(depot_store *st, char **argv)
{
    long count = atol(argv[5]), delta = atol(argv[6]);
    for (long i = 0; i < count; i++) {
        if (depot_stock_adjust(st, argv[3], argv[4], delta, "outbound test", "test", NULL) !=
            DEPOT_OK) {
            fprintf(stderr, "adjust %ld: %s\n", i, depot_store_errmsg(st));
            return 1;
        }
    }
    return 0;
}

static int adjust_each(depot_store *st, char **argv)
{
    long delta = atol(argv[4]);
    for (const char *after = NULL;;) {
        cJSON *page = NULL;
        if (depot_sku_list_json(st, NULL, after, DEPOT_LIST_LIMIT_MAX, &page) != DEPOT_OK) {
            fprintf(stderr, "list: %s\n", depot_store_errmsg(st));
            return 1;
        }
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(page, "items")) {
            const char *sku = cJSON_GetObjectItem(it, "sku")->valuestring;
            if (depot_stock_adjust(st, sku, argv[3], delta, "outbound test", "test", NULL) !=
                DEPOT_OK) {
                fprintf(stderr, "adjust %s: %s\n", sku, depot_store_errmsg(st));
                cJSON_Delete(page);
                return 1;
            }
        }
        static char next[128];
        const cJSON *n = cJSON_GetObjectItem(page, "next");
        int more = cJSON_IsString(n);
        if (more)
            snprintf(next, sizeof next, "%s", n->valuestring);
        cJSON_Delete(page);
        if (!more)
            return 0;
        after = next;
    }
}

static int ship(depot_store *st, char **argv)
{
    long long channel = atoll(argv[3]), first = atoll(argv[5]);
    long count = atol(argv[4]);
    for (long i = 0; i < count; i++) {
        char ext[32], tracking[40];
        snprintf(ext, sizeof ext, "%lld", first + i);
        snprintf(tracking, sizeof tracking, "TRK%lld", first + i);
        struct depot_order_line_in line = {.sku = argv[6], .external_line_id = ext,
                                           .quantity = 1};
        struct depot_order_in in = {.channel_id = channel, .external_id = ext,
                                    .lines = &line, .n_lines = 1};
        struct depot_shipment_in sh = {.carrier = "fedex", .tracking_number = tracking};
        int64_t id;
        int created;
        if (depot_order_create(st, &in, "test", &id, &created) != DEPOT_OK ||
            depot_order_reserve(st, id, 0, "test") != DEPOT_OK ||
            depot_order_ship(st, id, &sh, "test", NULL) != DEPOT_OK) {
            fprintf(stderr, "order %s: %s\n", ext, depot_store_errmsg(st));
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: outbound_driver DB adjust|ship ...\n");
        return 2;
    }
    depot_store *st;
    char err[512];
    if (depot_store_open(argv[1], NULL, &st, err, sizeof err) != DEPOT_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int rc = 2;
    if (strcmp(argv[2], "adjust") == 0 && argc == 7)
        rc = adjust(st, argv);
    else if (strcmp(argv[2], "adjust-each") == 0 && argc == 5)
        rc = adjust_each(st, argv);
    else if (strcmp(argv[2], "ship") == 0 && argc == 7)
        rc = ship(st, argv);
    else
        fprintf(stderr, "bad arguments\n");
    depot_store_close(st);
    return rc;
}
