/* depotctl's order commands: list and show, and for supervisors create, reserve, release,
 * cancel and ship. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"

/* An order id argument; 0, or a usage error's exit status. */
static int parse_id(struct ctl *c, const char *arg, int64_t *id)
{
    if (ctl__parse_int(arg, 1, INT64_MAX, id) != 0)
        return ctl__usage_error(c, "'%s' is not an order id", arg);
    return 0;
}

/* For a command that takes an order id and nothing else: the id, then the store.
 * Returns CTL_GO with *st open, else the exit status. */
static int open_by_id(struct ctl *c, int argc, char **argv, int64_t *id, depot_store **st)
{
    int rc = ctl__plain_args(c, argc, argv, 1);
    if (rc != CTL_GO)
        return rc;
    if ((rc = parse_id(c, argv[optind], id)) != 0)
        return rc;
    if ((rc = ctl__open(c, 0, st)) != CTL_EXIT_OK)
        return rc;
    return CTL_GO;
}

/* After an action: the order as it is now (JSON: the order view, plus key: value if key
 * is given), or one line of text. Takes value. */
static int print_after(struct ctl *c, depot_store *st, int64_t id, const char *what,
                       const char *key, cJSON *value)
{
    cJSON *doc;
    depot_err e = depot_order_show_json(st, id, &doc);
    if (e != DEPOT_OK) {
        cJSON_Delete(value);
        return ctl__store_fail(c, st, e);
    }
    if (key && !cJSON_AddItemToObject(doc, key, value))
        cJSON_Delete(value);
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(doc, "status");
    return ctl__done(c, doc, "order %lld %s; status %s", (long long)id, what,
                     cJSON_IsString(status) ? status->valuestring : "?");
}

int ctl__order_list(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"status", required_argument, NULL, 's'},
        {"limit", required_argument, NULL, 'n'},
        {0},
    };
    const char *status = NULL;
    int64_t limit = 50;
    depot_store *st;
    cJSON *doc;
    int o, rc;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0) {
        switch (o) {
        case 's': status = optarg; break;
        case 'n':
            if ((rc = ctl__parse_limit(c, optarg, &limit)) != 0)
                return rc;
            break;
        }
    }
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, 0) != 0)
        return CTL_EXIT_USAGE;
    if ((rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        return rc;
    depot_err e = depot_order_list_json(st, status, (int)limit, &doc);
    rc = e == DEPOT_OK ? ctl__print_orders(c, doc) : ctl__store_fail(c, st, e);
    depot_store_close(st);
    return rc;
}

int ctl__order_show(struct ctl *c, int argc, char **argv)
{
    int64_t id;
    depot_store *st;
    cJSON *doc;
    int rc = open_by_id(c, argc, argv, &id, &st);
    if (rc != CTL_GO)
        return rc;
    depot_err e = depot_order_show_json(st, id, &doc);
    rc = e == DEPOT_OK ? ctl__print_order(c, doc) : ctl__store_fail(c, st, e);
    depot_store_close(st);
    return rc;
}

/* Splits "SKU:QTY" (at the last ':', in place) into a line. 0, or a usage error. */
static int parse_line(struct ctl *c, char *arg, struct depot_order_line_in *line)
{
    char *colon = strrchr(arg, ':');
    if (!colon || colon == arg ||
        ctl__parse_int(colon + 1, INT64_MIN, INT64_MAX, &line->quantity) != 0)
        return ctl__usage_error(c, "--line takes SKU:QTY, not '%s'", arg);
    *colon = '\0';
    line->sku = arg;
    return 0;
}

/* A supervisor's order names known SKUs: a typo must not become a needs_attention order. */
static depot_err check_skus(depot_store *st, const struct depot_order_in *in)
{
    for (size_t i = 0; i < in->n_lines; i++) {
        cJSON *view = NULL;
        depot_err e = depot_stock_show_json(st, in->lines[i].sku, &view);
        cJSON_Delete(view);
        if (e != DEPOT_OK)
            return e;
    }
    return DEPOT_OK;
}

int ctl__order_create(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"external-id", required_argument, NULL, 'x'},
        {"number", required_argument, NULL, 'n'},
        {"line", required_argument, NULL, 'l'},
        {0},
    };
    struct depot_order_in in = {0};
    struct depot_order_line_in *lines = calloc((size_t)argc, sizeof *lines);
    depot_store *st = NULL;
    int64_t id = 0;
    int created = 0, rc = CTL_EXIT_OK, o = CTL_OPTS_END;
    if (!lines)
        return ctl__fail(c, DEPOT_E_NOMEM, "out of memory");
    in.lines = lines;
    while (rc == CTL_EXIT_OK && (o = ctl__getopt(c, argc, argv, opts)) > 0) {
        switch (o) {
        case 'x': in.external_id = optarg; break;
        case 'n': in.number = optarg; break;
        case 'l': rc = parse_line(c, optarg, &lines[in.n_lines++]); break;
        }
    }
    if (rc != CTL_EXIT_OK)
        goto out;
    if (o < 0) {
        rc = ctl__opts_exit(o);
        goto out;
    }
    if (ctl__positional(c, argc, argv, 0) != 0) {
        rc = CTL_EXIT_USAGE;
        goto out;
    }
    if (!in.external_id || in.n_lines == 0) {
        rc = ctl__usage_error(c, "--external-id and at least one --line are required");
        goto out;
    }
    if ((rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        goto out;
    depot_err e = check_skus(st, &in);
    if (e == DEPOT_OK)
        e = depot_order_create(st, &in, c->actor, &id, &created);
    if (e != DEPOT_OK)
        rc = ctl__store_fail(c, st, e);
    else
        rc = print_after(c, st, id, created ? "created" : "already exists (same external id)",
                         "created", cJSON_CreateBool(created));
out:
    depot_store_close(st);
    free(lines);
    return rc;
}

int ctl__order_reserve(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"ttl", required_argument, NULL, 't'},
        {0},
    };
    int64_t id, ttl = 0;
    depot_store *st;
    int o, rc;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0) {
        if (o == 't' && ctl__parse_int(optarg, 0, INT64_MAX, &ttl) != 0)
            return ctl__usage_error(c, "--ttl takes a number of seconds, not '%s'", optarg);
    }
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, 1) != 0)
        return CTL_EXIT_USAGE;
    if ((rc = parse_id(c, argv[optind], &id)) != 0)
        return rc;
    if ((rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        return rc;
    depot_err e = depot_order_reserve(st, id, ttl, c->actor);
    rc = e == DEPOT_OK ? print_after(c, st, id, "reserved", NULL, NULL)
                       : ctl__store_fail(c, st, e);
    depot_store_close(st);
    return rc;
}

/* release and cancel: an order id and nothing else. */
static int order_action(struct ctl *c, int argc, char **argv,
                        depot_err (*action)(depot_store *, int64_t, const char *),
                        const char *what)
{
    int64_t id;
    depot_store *st;
    int rc = open_by_id(c, argc, argv, &id, &st);
    if (rc != CTL_GO)
        return rc;
    depot_err e = action(st, id, c->actor);
    rc = e == DEPOT_OK ? print_after(c, st, id, what, NULL, NULL) : ctl__store_fail(c, st, e);
    depot_store_close(st);
    return rc;
}

int ctl__order_release(struct ctl *c, int argc, char **argv)
{
    return order_action(c, argc, argv, depot_order_release, "released");
}

int ctl__order_cancel(struct ctl *c, int argc, char **argv)
{
    return order_action(c, argc, argv, depot_order_cancel, "cancelled");
}

int ctl__order_ship(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"carrier", required_argument, NULL, 'c'},
        {"tracking", required_argument, NULL, 't'},
        {0},
    };
    struct depot_shipment_in in = {0};
    int64_t id, shipment_id = 0;
    depot_store *st;
    int o, rc;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0) {
        switch (o) {
        case 'c': in.carrier = optarg; break;
        case 't': in.tracking_number = optarg; break;
        }
    }
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, 1) != 0)
        return CTL_EXIT_USAGE;
    if (!in.carrier)
        return ctl__usage_error(c, "--carrier is required");
    if ((rc = parse_id(c, argv[optind], &id)) != 0)
        return rc;
    if ((rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        return rc;
    depot_err e = depot_order_ship(st, id, &in, c->actor, &shipment_id);
    rc = e == DEPOT_OK ? print_after(c, st, id, "shipped", "shipment_id",
                                     cJSON_CreateNumber((double)shipment_id))
                       : ctl__store_fail(c, st, e);
    depot_store_close(st);
    return rc;
}
