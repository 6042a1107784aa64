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
    static const struct ctl_requeue how = {
        .thing = "outbox event", .count_key = "requeued", .one = depot_outbox_retry,
        .all_dead = depot_outbox_retry_all_dead, .one_done = "due again",
        .all_done = "dead outbox event(s) due again",
    };
    return ctl__requeue_dead(c, argc, argv, &how);
}
