/* depotctl's label commands: build the ZPL II label of a SKU, a bin or an SSCC and print
 * it on stdout or queue it as a print job. */
#include <string.h>
#include "ctl.h"
#include "zpl.h"

enum { OPT_DPI = 'd', OPT_STOCK = 's', OPT_STDOUT = 'o', OPT_PRINTER = 'p' };

struct label_args {
    struct depot_zpl_media media;
    int to_stdout;
    const char *printer;
    const char *value; /* the SKU, bin code or SSCC */
};

/* Parses the label options and the one positional value. Returns CTL_GO or the exit
 * status. */
static int parse(struct ctl *c, int argc, char **argv, enum depot_zpl_stock stock,
                 struct label_args *a)
{
    static const struct option opts[] = {
        {"dpi", required_argument, NULL, OPT_DPI},
        {"stock", required_argument, NULL, OPT_STOCK},
        {"stdout", no_argument, NULL, OPT_STDOUT},
        {"printer", required_argument, NULL, OPT_PRINTER},
        {0},
    };
    *a = (struct label_args){.media = {.stock = stock, .dpi = 203}};
    int o;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0) {
        switch (o) {
        case OPT_DPI:
            if (strcmp(optarg, "203") && strcmp(optarg, "300"))
                return ctl__usage_error(c, "--dpi takes 203 or 300, not '%s'", optarg);
            a->media.dpi = optarg[0] == '2' ? 203 : 300;
            break;
        case OPT_STOCK:
            if (depot_zpl_stock_parse(optarg, &a->media.stock) != 0)
                return ctl__usage_error(c, "--stock takes 4x6 or 2x1, not '%s'", optarg);
            break;
        case OPT_STDOUT:
            a->to_stdout = 1;
            break;
        case OPT_PRINTER:
            a->printer = optarg;
            break;
        }
    }
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, 1) != 0)
        return CTL_EXIT_USAGE;
    if (a->to_stdout == !!a->printer)
        return ctl__usage_error(c, "give exactly one of --stdout and --printer NAME");
    a->value = argv[optind];
    return CTL_GO;
}

/* Prints the label (with --json as {"zpl":...}) or queues it; frees zpl. st may be NULL
 * when the label did not need the store. */
static int deliver(struct ctl *c, const struct label_args *a, depot_store *st,
                   struct depot_zpl_buf *zpl)
{
    int rc;
    if (a->to_stdout && c->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "zpl", zpl->data);
        rc = ctl__done(c, doc, "%s", "");
    } else if (a->to_stdout) {
        fwrite(zpl->data, 1, zpl->len, stdout);
        rc = fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
    } else {
        int64_t id = 0;
        depot_store *own = NULL;
        if (!st && (rc = ctl__open(c, 0, &own)) != CTL_EXIT_OK)
            goto out;
        depot_store *use = st ? st : own;
        depot_err e = depot_print_enqueue(use, a->printer, zpl->data, zpl->len, c->actor,
                                          &id);
        if (e == DEPOT_OK) {
            cJSON *doc = cJSON_CreateObject();
            cJSON_AddNumberToObject(doc, "job_id", (double)id);
            cJSON_AddStringToObject(doc, "printer", a->printer);
            rc = ctl__done(c, doc, "%lld", (long long)id);
        } else {
            rc = ctl__store_fail(c, use, e);
        }
        depot_store_close(own);
    }
out:
    depot_zpl_buf_free(zpl);
    return rc;
}

/* The first GTIN of a stock view, or NULL. */
static const char *first_gtin(const cJSON *view)
{
    const cJSON *g = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(view, "gtins"), 0);
    return cJSON_IsString(g) ? g->valuestring : NULL;
}

int ctl__label_sku(struct ctl *c, int argc, char **argv)
{
    struct label_args a;
    struct depot_zpl_buf zpl = {0};
    char err[256];
    depot_store *st;
    cJSON *view = NULL;
    int rc = parse(c, argc, argv, DEPOT_ZPL_STOCK_2X1, &a);
    if (rc != CTL_GO)
        return rc;
    if ((rc = ctl__open(c, a.to_stdout, &st)) != CTL_EXIT_OK)
        return rc;
    depot_err e = depot_stock_show_json(st, a.value, &view);
    if (e != DEPOT_OK) {
        rc = ctl__store_fail(c, st, e);
    } else {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(view, "name");
        if (depot_zpl_sku_label(&zpl, &a.media, a.value,
                                cJSON_IsString(name) ? name->valuestring : NULL,
                                first_gtin(view), err, sizeof err) != 0)
            rc = ctl__fail(c, DEPOT_E_INVALID, "%s", err);
        else
            rc = deliver(c, &a, st, &zpl);
    }
    cJSON_Delete(view);
    depot_store_close(st);
    return rc;
}

int ctl__label_bin(struct ctl *c, int argc, char **argv)
{
    struct label_args a;
    struct depot_zpl_buf zpl = {0};
    char err[256];
    int rc = parse(c, argc, argv, DEPOT_ZPL_STOCK_2X1, &a);
    if (rc != CTL_GO)
        return rc;
    if (depot_zpl_bin_label(&zpl, &a.media, a.value, err, sizeof err) != 0)
        return ctl__fail(c, DEPOT_E_INVALID, "%s", err);
    return deliver(c, &a, NULL, &zpl);
}

int ctl__label_sscc(struct ctl *c, int argc, char **argv)
{
    struct label_args a;
    struct depot_zpl_buf zpl = {0};
    char err[256];
    int rc = parse(c, argc, argv, DEPOT_ZPL_STOCK_4X6, &a);
    if (rc != CTL_GO)
        return rc;
    if (depot_zpl_sscc_label(&zpl, &a.media, a.value, err, sizeof err) != 0)
        return ctl__fail(c, DEPOT_E_INVALID, "%s", err);
    return deliver(c, &a, NULL, &zpl);
}
