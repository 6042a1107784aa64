/* depotctl's print queue commands: list, cancel and re-print print jobs. */
#include <stdint.h>
#include "ctl.h"

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "-";
}

static long long num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
}

/* The job list as a table, or the document with --json; frees doc. */
static int print_jobs(struct ctl *c, cJSON *doc)
{
    const cJSON *j;
    if (c->json) {
        char *s = cJSON_Print(doc);
        cJSON_Delete(doc);
        if (!s)
            return ctl__fail(c, DEPOT_E_NOMEM, "out of memory");
        printf("%s\n", s);
        cJSON_free(s);
        return CTL_EXIT_OK;
    }
    if (cJSON_GetArraySize(doc) == 0)
        puts("no print jobs");
    else
        printf("%8s  %-16s %-10s %8s %9s  %s\n", "ID", "PRINTER", "STATUS", "ATTEMPTS",
               "BYTES", "LAST_ERROR");
    cJSON_ArrayForEach(j, doc)
        printf("%8lld  %-16s %-10s %8lld %9lld  %s\n", num(j, "id"), str(j, "printer"),
               str(j, "status"), num(j, "attempts"), num(j, "bytes"),
               str(j, "last_error"));
    cJSON_Delete(doc);
    return CTL_EXIT_OK;
}

int ctl__print_list(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"printer", required_argument, NULL, 'p'},
        {"limit", required_argument, NULL, 'n'},
        {0},
    };
    const char *printer = NULL;
    int64_t limit = 100;
    depot_store *st;
    cJSON *doc;
    int o;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0) {
        if (o == 'p')
            printer = optarg;
        else if (ctl__parse_int(optarg, 1, 1000, &limit) != 0)
            return ctl__usage_error(c, "--limit takes a number 1..1000, not '%s'", optarg);
    }
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, 0) != 0)
        return CTL_EXIT_USAGE;
    int rc = ctl__open(c, 1, &st);
    if (rc != CTL_EXIT_OK)
        return rc;
    depot_err e = depot_print_list_json(st, printer, (int)limit, &doc);
    rc = e == DEPOT_OK ? print_jobs(c, doc) : ctl__store_fail(c, st, e);
    depot_store_close(st);
    return rc;
}

/* Parses ID for cancel and reprint; CTL_GO with *id set, or the exit status. */
static int job_id_arg(struct ctl *c, int argc, char **argv, int64_t *id)
{
    int rc = ctl__plain_args(c, argc, argv, 1);
    if (rc != CTL_GO)
        return rc;
    if (ctl__parse_int(argv[optind], 1, INT64_MAX, id) != 0)
        return ctl__usage_error(c, "ID must be a positive number, not '%s'", argv[optind]);
    return CTL_GO;
}

int ctl__print_cancel(struct ctl *c, int argc, char **argv)
{
    int64_t id;
    depot_store *st;
    int rc = job_id_arg(c, argc, argv, &id);
    if (rc != CTL_GO || (rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        return rc;
    depot_err e = depot_print_cancel(st, id, c->actor);
    if (e == DEPOT_OK) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddNumberToObject(doc, "job_id", (double)id);
        cJSON_AddStringToObject(doc, "status", "cancelled");
        rc = ctl__done(c, doc, "print job %lld cancelled", (long long)id);
    } else {
        rc = ctl__store_fail(c, st, e);
    }
    depot_store_close(st);
    return rc;
}

int ctl__print_reprint(struct ctl *c, int argc, char **argv)
{
    int64_t id, new_id = 0;
    depot_store *st;
    int rc = job_id_arg(c, argc, argv, &id);
    if (rc != CTL_GO || (rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        return rc;
    depot_err e = depot_print_reprint(st, id, c->actor, &new_id);
    if (e == DEPOT_OK) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddNumberToObject(doc, "job_id", (double)new_id);
        cJSON_AddNumberToObject(doc, "reprint_of", (double)id);
        rc = ctl__done(c, doc, "%lld", (long long)new_id);
    } else {
        rc = ctl__store_fail(c, st, e);
    }
    depot_store_close(st);
    return rc;
}
