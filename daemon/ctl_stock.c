/* depotctl's stock commands: import a CSV, show a SKU, adjust a level. */
#include <stdint.h>
#include <string.h>
#include "ctl.h"

int ctl__stock_import(struct ctl *c, int argc, char **argv)
{
    struct depot_import_result res = {0};
    depot_store *st;
    int rc = ctl__plain_args(c, argc, argv, 1);
    if (rc != CTL_GO)
        return rc;
    if ((rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        return rc;
    const char *path = argv[optind];
    depot_err e = depot_stock_import_csv(st, path, c->actor, &res);
    if (e != DEPOT_OK && res.errors_total == 0)
        rc = ctl__store_fail(c, st, e);
    else
        rc = ctl__print_import(c, path, &res);
    depot_import_result_free(&res);
    depot_store_close(st);
    return rc;
}

int ctl__stock_show(struct ctl *c, int argc, char **argv)
{
    depot_store *st;
    cJSON *doc;
    int rc = ctl__plain_args(c, argc, argv, 1);
    if (rc != CTL_GO)
        return rc;
    if ((rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        return rc;
    depot_err e = depot_stock_show_json(st, argv[optind], &doc);
    rc = e == DEPOT_OK ? ctl__print_stock(c, doc) : ctl__store_fail(c, st, e);
    depot_store_close(st);
    return rc;
}

/* The level of one location in a stock view, or NULL. */
static const cJSON *level_at(const cJSON *view, const char *location)
{
    const cJSON *lv;
    cJSON_ArrayForEach(lv, cJSON_GetObjectItemCaseSensitive(view, "levels")) {
        const cJSON *loc = cJSON_GetObjectItemCaseSensitive(lv, "location");
        if (cJSON_IsString(loc) && !strcmp(loc->valuestring, location))
            return lv;
    }
    return NULL;
}

static double number(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Reports an adjustment with the level it left (read back after the commit). */
static int adjusted(struct ctl *c, depot_store *st, const char *sku, const char *location,
                    int64_t delta, int64_t ledger_id)
{
    cJSON *view = NULL;
    depot_err e = depot_stock_show_json(st, sku, &view);
    if (e != DEPOT_OK)
        return ctl__store_fail(c, st, e);
    const cJSON *lv = level_at(view, location);
    double on_hand = number(lv, "on_hand"), reserved = number(lv, "reserved");
    cJSON_Delete(view);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "sku", sku);
    cJSON_AddStringToObject(doc, "location", location);
    cJSON_AddNumberToObject(doc, "delta", (double)delta);
    cJSON_AddNumberToObject(doc, "ledger_id", (double)ledger_id);
    cJSON_AddNumberToObject(doc, "on_hand", on_hand);
    cJSON_AddNumberToObject(doc, "reserved", reserved);
    cJSON_AddNumberToObject(doc, "available", on_hand - reserved);
    return ctl__done(c, doc, "%s at %s: %+lld (ledger entry %lld); on hand %.0f, reserved "
                             "%.0f, available %.0f", sku, location, (long long)delta,
                     (long long)ledger_id, on_hand, reserved, on_hand - reserved);
}

int ctl__stock_adjust(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"location", required_argument, NULL, 'l'},
        {"delta", required_argument, NULL, 'd'},
        {"reason", required_argument, NULL, 'r'},
        {0},
    };
    const char *location = NULL, *delta_arg = NULL, *reason = NULL;
    int64_t delta, ledger_id = 0;
    depot_store *st;
    int o;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0) {
        switch (o) {
        case 'l': location = optarg; break;
        case 'd': delta_arg = optarg; break;
        case 'r': reason = optarg; break;
        }
    }
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, 1) != 0)
        return CTL_EXIT_USAGE;
    if (!location || !delta_arg || !reason)
        return ctl__usage_error(c, "--location, --delta and --reason are required");
    if (ctl__parse_int(delta_arg, INT64_MIN, INT64_MAX, &delta) != 0)
        return ctl__usage_error(c, "--delta takes a whole number like +5 or -3, not '%s'",
                                delta_arg);
    int rc = ctl__open(c, 0, &st);
    if (rc != CTL_EXIT_OK)
        return rc;
    const char *sku = argv[optind];
    depot_err e = depot_stock_adjust(st, sku, location, delta, reason, c->actor, &ledger_id);
    rc = e == DEPOT_OK ? adjusted(c, st, sku, location, delta, ledger_id)
                       : ctl__store_fail(c, st, e);
    depot_store_close(st);
    return rc;
}
