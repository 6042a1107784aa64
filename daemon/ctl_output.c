/* depotctl's output: help and usage errors, failures, and every result either as text
 * for people or, with --json, as exactly one JSON document on stdout. */
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include "ctl.h"

#define GLOBAL_SYNOPSIS "depotctl [--data-dir DIR] [--json]"

/* ---- Generic ---------------------------------------------------------------------- */

static void print_json(const cJSON *doc)
{
    char *s = cJSON_Print(doc);
    if (s)
        printf("%s\n", s);
    else
        fputs("depotctl: out of memory printing JSON\n", stderr);
    cJSON_free(s);
}

/* {"error":{"code":code,"message":msg[,"errors":errors]}} on stdout; takes errors. */
static void print_json_error(const char *code, const char *msg, cJSON *errors)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *err = cJSON_AddObjectToObject(doc, "error");
    cJSON_AddStringToObject(err, "code", code);
    cJSON_AddStringToObject(err, "message", msg);
    if (err && errors) {
        cJSON_AddItemToObject(err, "errors", errors);
        errors = NULL;
    }
    print_json(doc);
    cJSON_Delete(doc);
    cJSON_Delete(errors);
}

static int vfail(struct ctl *c, depot_err e, cJSON *errors, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static int vfail(struct ctl *c, depot_err e, cJSON *errors, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fprintf(stderr, "depotctl: %s\n", msg);
    if (c->json)
        print_json_error(depot_err_code(e), msg, errors);
    else
        cJSON_Delete(errors);
    return CTL_EXIT_FAIL;
}

int ctl__fail(struct ctl *c, depot_err e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(c, e, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

static int fail_with_errors(struct ctl *c, depot_err e, cJSON *errors, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_with_errors(struct ctl *c, depot_err e, cJSON *errors, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(c, e, errors, fmt, ap);
    va_end(ap);
    return rc;
}

int ctl__store_fail(struct ctl *c, depot_store *st, depot_err e)
{
    const char *msg = st ? depot_store_errmsg(st) : "";
    return ctl__fail(c, e, "%s", *msg ? msg : depot_err_code(e));
}

int ctl__done(struct ctl *c, cJSON *doc, const char *fmt, ...)
{
    if (!doc)
        return ctl__fail(c, DEPOT_E_NOMEM, "out of memory");
    if (c->json) {
        print_json(doc);
    } else {
        va_list ap;
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
    }
    cJSON_Delete(doc);
    return CTL_EXIT_OK;
}

/* ---- Help and usage errors -------------------------------------------------------- */

static void command_words(FILE *f, const struct ctl_cmd *cmd)
{
    if (cmd->group)
        fprintf(f, "%s ", cmd->group);
    fputs(cmd->name, f);
}

static void synopsis(FILE *f, const struct ctl_cmd *cmd)
{
    fputs(GLOBAL_SYNOPSIS " ", f);
    command_words(f, cmd);
    if (*cmd->args)
        fprintf(f, " %s", cmd->args);
    fputc('\n', f);
}

void ctl__usage(FILE *f, const struct ctl_cmd *cmd)
{
    fputs("usage: ", f);
    synopsis(f, cmd);
    fprintf(f, "\n%s\n", cmd->summary);
    if (cmd->options)
        fprintf(f, "\n%s", cmd->options);
}

void ctl__usage_list(FILE *f, const struct ctl_cmd *table, const char *group)
{
    fprintf(f, "usage: " GLOBAL_SYNOPSIS " %s%sCOMMAND [ARGS]\n\n", group ? group : "",
            group ? " " : "");
    if (!group)
        fputs("Administers Depot's database directly; safe beside a running depotd.\n\n"
              "  --data-dir DIR   the data dir holding depot.db (default: $DEPOT_DATA_DIR,\n"
              "                   else ./var in a checkout, /var/lib/depot when installed)\n"
              "  --json           print exactly one JSON document on stdout\n"
              "  --help           this help (COMMAND --help: that command's options)\n"
              "  --version        print the version\n\n", f);
    fputs("Commands:\n", f);
    for (const struct ctl_cmd *k = table; k->name; k++) {
        if (group && (!k->group || strcmp(k->group, group) != 0))
            continue;
        fputs("  ", f);
        command_words(f, k);
        fprintf(f, "%s%s\n      %s\n", *k->args ? " " : "", k->args, k->summary);
    }
    fprintf(f, "\nExit status: 0 done, 1 refused or failed, 2 usage error.\n");
}

int ctl__usage_error(struct ctl *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fputs("depotctl", stderr);
    if (c->cmd) {
        fputc(' ', stderr);
        command_words(stderr, c->cmd);
    }
    fprintf(stderr, ": %s\n", msg);
    if (c->cmd) {
        fputs("usage: ", stderr);
        synopsis(stderr, c->cmd);
        fputs("Try 'depotctl ", stderr);
        command_words(stderr, c->cmd);
        fputs(" --help'.\n", stderr);
    } else {
        fputs("Try 'depotctl --help'.\n", stderr);
    }
    if (c->json)
        print_json_error("usage_error", msg, NULL);
    return CTL_EXIT_USAGE;
}

/* ---- Views of store documents ----------------------------------------------------- */

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "-";
}

static long long jnum(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
}

/* A unix time as "YYYY-MM-DD HH:MM:SSZ", or "-" when absent. */
static const char *jtime(const cJSON *o, const char *key, char buf[32])
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    struct tm tm;
    time_t t = cJSON_IsNumber(v) ? (time_t)v->valuedouble : 0;
    if (!cJSON_IsNumber(v) || !gmtime_r(&t, &tm) ||
        !strftime(buf, 32, "%Y-%m-%d %H:%M:%SZ", &tm))
        return "-";
    return buf;
}

/* Text views print to stdout; with --json the document goes out as it is. */
static int show(struct ctl *c, cJSON *doc, void (*text)(const cJSON *doc))
{
    if (!doc)
        return ctl__fail(c, DEPOT_E_NOMEM, "out of memory");
    if (c->json)
        print_json(doc);
    else
        text(doc);
    cJSON_Delete(doc);
    return CTL_EXIT_OK;
}

static void stock_text(const cJSON *doc)
{
    const cJSON *g, *lv;
    printf("%s  %s\n", jstr(doc, "sku"), jstr(doc, "name"));
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(doc, "gtins"))
        printf("gtin %s\n", cJSON_IsString(g) ? g->valuestring : "-");
    printf("%-16s %-12s %9s %9s %9s %7s\n", "LOCATION", "BIN", "ON_HAND", "RESERVED",
           "AVAILABLE", "BUFFER");
    cJSON_ArrayForEach(lv, cJSON_GetObjectItemCaseSensitive(doc, "levels"))
        printf("%-16s %-12s %9lld %9lld %9lld %7lld\n", jstr(lv, "location"),
               jstr(lv, "bin"), jnum(lv, "on_hand"), jnum(lv, "reserved"),
               jnum(lv, "available"), jnum(lv, "buffer"));
    printf("%-29s %9lld %9lld %9lld\n", "total", jnum(doc, "on_hand"), jnum(doc, "reserved"),
           jnum(doc, "available"));
}

int ctl__print_stock(struct ctl *c, cJSON *doc)
{
    return show(c, doc, stock_text);
}

static void order_text(const cJSON *doc)
{
    char t1[32], t2[32], t3[32];
    const cJSON *l, *r;
    printf("order %lld  %s  external id %s  number %s  %s\n", jnum(doc, "id"),
           jstr(doc, "status"), jstr(doc, "external_id"), jstr(doc, "number"),
           cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(doc, "channel_id")) ? "channel"
                                                                              : "local");
    printf("created %s  updated %s  units %lld\n", jtime(doc, "created_at", t1),
           jtime(doc, "updated_at", t2), jnum(doc, "units"));
    printf("%4s  %-20s %7s %9s %7s  %s\n", "LINE", "SKU", "QTY", "RESERVED", "PACKED",
           "TITLE");
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(doc, "lines"))
        printf("%4lld  %-20s %7lld %9lld %7lld  %s\n", jnum(l, "line_no"), jstr(l, "sku"),
               jnum(l, "quantity"), jnum(l, "reserved"), jnum(l, "packed"),
               jstr(l, "title"));
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(doc, "reservations");
    if (cJSON_GetArraySize(res) == 0)
        return;
    printf("reservations:\n%6s %4s  %-20s %-12s %7s  %-10s %s\n", "ID", "LINE", "SKU",
           "LOCATION", "QTY", "STATUS", "EXPIRES");
    cJSON_ArrayForEach(r, res)
        printf("%6lld %4lld  %-20s %-12s %7lld  %-10s %s\n", jnum(r, "id"),
               jnum(r, "line_no"), jstr(r, "sku"), jstr(r, "location"),
               jnum(r, "quantity"), jstr(r, "status"), jtime(r, "expires_at", t3));
}

int ctl__print_order(struct ctl *c, cJSON *doc)
{
    return show(c, doc, order_text);
}

static void orders_text(const cJSON *doc)
{
    char t[32];
    const cJSON *o;
    if (cJSON_GetArraySize(doc) == 0) {
        puts("no orders");
        return;
    }
    printf("%8s  %-16s %7s  %-24s %-12s %s\n", "ID", "STATUS", "UNITS", "EXTERNAL_ID",
           "NUMBER", "CREATED");
    cJSON_ArrayForEach(o, doc)
        printf("%8lld  %-16s %7lld  %-24s %-12s %s\n", jnum(o, "id"), jstr(o, "status"),
               jnum(o, "units"), jstr(o, "external_id"), jstr(o, "number"),
               jtime(o, "created_at", t));
}

int ctl__print_orders(struct ctl *c, cJSON *doc)
{
    return show(c, doc, orders_text);
}

static void outbox_text(const cJSON *doc)
{
    char t[32], target[48];
    const cJSON *o;
    if (cJSON_GetArraySize(doc) == 0) {
        puts("outbox is empty");
        return;
    }
    printf("%8s  %-8s %8s  %-20s  %-12s %-16s %-28s %s\n", "ID", "STATUS", "ATTEMPTS",
           "NEXT_ATTEMPT", "TARGET", "TOPIC", "AGGREGATE", "LAST_ERROR");
    cJSON_ArrayForEach(o, doc) {
        snprintf(target, sizeof target, "%s:%lld", jstr(o, "target"), jnum(o, "target_id"));
        printf("%8lld  %-8s %8lld  %-20s  %-12s %-16s %-28s %s\n", jnum(o, "id"),
               jstr(o, "status"), jnum(o, "attempts"), jtime(o, "next_attempt_at", t),
               target, jstr(o, "topic"), jstr(o, "aggregate"), jstr(o, "last_error"));
    }
}

int ctl__print_outbox(struct ctl *c, cJSON *doc)
{
    return show(c, doc, outbox_text);
}

/* ---- Import and verify ------------------------------------------------------------ */

int ctl__print_import(struct ctl *c, const char *path, const struct depot_import_result *res)
{
    if (res->errors_total == 0) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "file", path);
        cJSON_AddNumberToObject(doc, "rows", (double)res->rows);
        cJSON_AddNumberToObject(doc, "changed", (double)res->changed);
        cJSON_AddNumberToObject(doc, "skus_created", (double)res->skus_created);
        return ctl__done(c, doc, "imported %s: %zu rows, %zu stock levels changed, "
                                 "%zu SKUs created", path, res->rows, res->changed,
                         res->skus_created);
    }
    cJSON *errors = cJSON_CreateArray();
    for (size_t i = 0; i < res->errors_n; i++) {
        const struct depot_import_error *er = &res->errors[i];
        if (!c->json && er->column[0])
            fprintf(stderr, "row %zu, column %s: %s\n", er->row, er->column, er->message);
        else if (!c->json)
            fprintf(stderr, "row %zu: %s\n", er->row, er->message);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "row", (double)er->row);
        cJSON_AddStringToObject(o, "column", er->column);
        cJSON_AddStringToObject(o, "message", er->message);
        cJSON_AddItemToArray(errors, o);
    }
    if (!c->json && res->errors_total > res->errors_n)
        fprintf(stderr, "... and %zu more\n", res->errors_total - res->errors_n);
    return fail_with_errors(c, DEPOT_E_INVALID, errors,
                            "%s: %zu error(s); nothing was imported", path,
                            res->errors_total);
}

int ctl__print_verify(struct ctl *c, const char *db_path, cJSON *problems)
{
    int n = cJSON_GetArraySize(problems);
    if (c->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddBoolToObject(doc, "ok", n == 0);
        cJSON_AddStringToObject(doc, "database", db_path);
        if (!cJSON_AddItemToObject(doc, "problems", problems))
            cJSON_Delete(problems);
        print_json(doc);
        cJSON_Delete(doc);
    } else {
        const cJSON *p;
        if (n == 0)
            printf("%s: ok (schema, integrity, stock, ledger, reservations, audit chain)\n",
                   db_path);
        cJSON_ArrayForEach(p, problems)
            printf("%s\n", cJSON_IsString(p) ? p->valuestring : "?");
        cJSON_Delete(problems);
    }
    if (n == 0)
        return CTL_EXIT_OK;
    fprintf(stderr, "depotctl: %s: %d problem(s) found\n", db_path, n);
    return CTL_EXIT_FAIL;
}
