/* The outbox and the inbox from depotctl: listing waiting and dead rows (`outbox list`,
 * `inbox list`) and making dead letters due again, one by id or all of them (`outbox
 * retry`, `inbox replay`). The two queues differ only in their store calls and words. */
#include <limits.h>
#include "ctl.h"

int ctl__requeue_dead(struct ctl *c, int argc, char **argv, const struct ctl_requeue *how)
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
        return ctl__usage_error(c, "'%s' is not an %s id", argv[optind], how->thing);
    if ((rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        return rc;
    depot_err e = all ? how->all_dead(st, c->actor, &n) : how->one(st, id, c->actor);
    if (e == DEPOT_OK) {
        cJSON *doc = cJSON_CreateObject();
        if (!all)
            cJSON_AddNumberToObject(doc, "id", (double)id);
        cJSON_AddNumberToObject(doc, how->count_key, n);
        rc = all ? ctl__done(c, doc, "%d %s", n, how->all_done)
                 : ctl__done(c, doc, "%s %lld %s", how->thing, (long long)id, how->one_done);
    } else {
        rc = ctl__store_fail(c, st, e);
    }
    depot_store_close(st);
    return rc;
}

int ctl__list_queue(struct ctl *c, int argc, char **argv, const struct ctl_queue_list *how)
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
        if (o == 'd')
            dead_only = 1;
        else if ((rc = ctl__parse_limit(c, optarg, &limit)) != 0)
            return rc;
    }
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, 0) != 0)
        return CTL_EXIT_USAGE;
    if ((rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        return rc;
    if (limit > how->max_limit)
        limit = how->max_limit;
    depot_err e = how->list(st, dead_only, (int)limit, &doc);
    rc = e == DEPOT_OK ? how->print(c, doc) : ctl__store_fail(c, st, e);
    depot_store_close(st);
    return rc;
}
