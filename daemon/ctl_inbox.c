/* depotctl's inbox commands: list waiting and dead webhook deliveries, show one with its
 * error and body, and replay dead ones. */
#include <limits.h>
#include <stdio.h>
#include "ctl.h"
#include "inbound.h"

static const char *text_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double number_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static int print_list(struct ctl *c, cJSON *doc)
{
    if (c->json) {
        char *text = cJSON_PrintUnformatted(doc);
        if (text)
            puts(text);
        cJSON_free(text);
        cJSON_Delete(doc);
        return CTL_EXIT_OK;
    }
    const cJSON *row;
    if (cJSON_GetArraySize(doc) == 0)
        puts("no waiting or dead deliveries");
    else
        printf("%-8s %-8s %-16s %-26s %-8s %s\n", "ID", "STATUS", "SOURCE", "TOPIC",
               "ATTEMPTS", "LAST ERROR");
    cJSON_ArrayForEach(row, doc)
        printf("%-8.0f %-8s %-16s %-26s %-8.0f %s\n", number_of(row, "id"),
               text_of(row, "status"), text_of(row, "source"), text_of(row, "topic"),
               number_of(row, "attempts"), text_of(row, "last_error"));
    cJSON_Delete(doc);
    return CTL_EXIT_OK;
}

int ctl__inbox_list(struct ctl *c, int argc, char **argv)
{
    static const struct ctl_queue_list how = {
        .list = depot_inbox_list_json, .print = print_list, .max_limit = 1000,
    };
    return ctl__list_queue(c, argc, argv, &how);
}

int ctl__inbox_show(struct ctl *c, int argc, char **argv)
{
    int64_t id;
    depot_store *st;
    cJSON *doc;
    int rc = ctl__plain_args(c, argc, argv, 1);
    if (rc != CTL_GO)
        return rc;
    if (ctl__parse_int(argv[optind], 1, INT64_MAX, &id) != 0)
        return ctl__usage_error(c, "'%s' is not an inbox delivery id", argv[optind]);
    if ((rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        return rc;
    depot_err e = depot_inbox_show_json(st, id, &doc);
    if (e != DEPOT_OK) {
        rc = ctl__store_fail(c, st, e);
    } else if (c->json) {
        rc = ctl__done(c, doc, "%s", "");
    } else {
        printf("delivery %.0f: %s %s from %s, %s after %.0f attempt(s)\n",
               number_of(doc, "id"), text_of(doc, "topic"), text_of(doc, "delivery_id"),
               text_of(doc, "source"), text_of(doc, "status"), number_of(doc, "attempts"));
        if (*text_of(doc, "last_error"))
            printf("error: %s\n", text_of(doc, "last_error"));
        printf("body:\n%s\n", text_of(doc, "body"));
        cJSON_Delete(doc);
    }
    depot_store_close(st);
    return rc;
}

int ctl__inbox_replay(struct ctl *c, int argc, char **argv)
{
    static const struct ctl_requeue how = {
        .thing = "inbox delivery", .count_key = "replayed", .one = depot_inbox_replay,
        .all_dead = depot_inbox_replay_all_dead, .one_done = "queued again",
        .all_done = "dead deliveries queued again",
    };
    return ctl__requeue_dead(c, argc, argv, &how);
}
