/* depotctl's outbox commands: list pending and dead events, and retry dead ones. */
#include <limits.h>
#include "ctl.h"

int ctl__outbox_list(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"dead", no_argument, NULL, 'd'},
        {"limit", required_argument, NULL, 'n'},
        {0},
    };
    int64_t limit = 100;
    int dead_only = 0, o, rc;
    depot_store *st;
    cJSON *doc;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0) {
        switch (o) {
        case 'd': dead_only = 1; break;
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
    depot_err e = depot_outbox_list_json(st, dead_only, (int)limit, &doc);
    rc = e == DEPOT_OK ? ctl__print_outbox(c, doc) : ctl__store_fail(c, st, e);
    depot_store_close(st);
    return rc;
}

int ctl__outbox_retry(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"all-dead", no_argument, NULL, 'a'},
        {0},
    };
    int all = 0, n = 1, o, rc;
    int64_t id = 0;
    depot_store *st;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0)
        if (o == 'a')
            all = 1;
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, all ? 0 : 1) != 0)
        return CTL_EXIT_USAGE;
    if (!all && ctl__parse_int(argv[optind], 1, INT64_MAX, &id) != 0)
        return ctl__usage_error(c, "'%s' is not an outbox event id", argv[optind]);
    if ((rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        return rc;
    depot_err e = all ? depot_outbox_retry_all_dead(st, c->actor, &n)
                      : depot_outbox_retry(st, id, c->actor);
    if (e == DEPOT_OK) {
        cJSON *doc = cJSON_CreateObject();
        if (!all)
            cJSON_AddNumberToObject(doc, "id", (double)id);
        cJSON_AddNumberToObject(doc, "requeued", n);
        rc = all ? ctl__done(c, doc, "%d dead outbox event(s) due again", n)
                 : ctl__done(c, doc, "outbox event %lld due again", (long long)id);
    } else {
        rc = ctl__store_fail(c, st, e);
    }
    depot_store_close(st);
    return rc;
}
