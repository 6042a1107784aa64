/* depotctl's outbox commands: list pending and dead events, and retry dead ones. */
#include <limits.h>
#include "ctl.h"

int ctl__outbox_list(struct ctl *c, int argc, char **argv)
{
    static const struct ctl_queue_list how = {
        .list = depot_outbox_list_json, .print = ctl__print_outbox, .max_limit = INT_MAX,
    };
    return ctl__list_queue(c, argc, argv, &how);
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
