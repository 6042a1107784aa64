/* depotctl's printer commands: add (or change) a label printer, list them, and queue a
 * test label on one. */
#include <string.h>
#include "ctl.h"
#include "printer.h"
#include "printers.h"
#include "zpl.h"

enum {
    OPT_BACKEND = 'b', OPT_ADDRESS = 'a', OPT_SERIAL = 's', OPT_DPI = 'd',
    OPT_STOCK = 'k', OPT_TIMEOUT = 't', OPT_DISABLED = 'x',
};

/* Parses `printer add` into *row. Returns CTL_GO or the exit status. */
static int parse_add(struct ctl *c, int argc, char **argv, struct depot_printer_row *row)
{
    static const struct option opts[] = {
        {"backend", required_argument, NULL, OPT_BACKEND},
        {"address", required_argument, NULL, OPT_ADDRESS},
        {"serial", required_argument, NULL, OPT_SERIAL},
        {"dpi", required_argument, NULL, OPT_DPI},
        {"stock", required_argument, NULL, OPT_STOCK},
        {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
        {"disabled", no_argument, NULL, OPT_DISABLED},
        {0},
    };
    char err[256];
    const char *backend = NULL, *address = NULL, *serial = "9600,8,N,1,none";
    enum depot_printer_backend kind;
    struct depot_serial_config sc;
    int64_t timeout = 5000;
    *row = (struct depot_printer_row){.dpi = 203, .timeout_ms = 5000, .enabled = 1};
    snprintf(row->stock, sizeof row->stock, "4x6");
    int o;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0) {
        switch (o) {
        case OPT_BACKEND:
            backend = optarg;
            break;
        case OPT_ADDRESS:
            address = optarg;
            break;
        case OPT_SERIAL:
            serial = optarg;
            break;
        case OPT_DPI:
            if (strcmp(optarg, "203") && strcmp(optarg, "300"))
                return ctl__usage_error(c, "--dpi takes 203 or 300, not '%s'", optarg);
            row->dpi = optarg[0] == '2' ? 203 : 300;
            break;
        case OPT_STOCK:
            if (strcmp(optarg, "4x6") && strcmp(optarg, "2x1"))
                return ctl__usage_error(c, "--stock takes 4x6 or 2x1, not '%s'", optarg);
            snprintf(row->stock, sizeof row->stock, "%s", optarg);
            break;
        case OPT_TIMEOUT:
            if (ctl__parse_int(optarg, 100, 120000, &timeout) != 0)
                return ctl__usage_error(c, "--timeout-ms takes 100..120000, not '%s'", optarg);
            row->timeout_ms = (int)timeout;
            break;
        case OPT_DISABLED:
            row->enabled = 0;
            break;
        }
    }
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, 1) != 0)
        return CTL_EXIT_USAGE;
    if (!backend || depot_printer_backend_parse(backend, &kind) != 0)
        return ctl__usage_error(c, "--backend takes serial, tcp or file");
    if (!address)
        return ctl__usage_error(c, "--address is required");
    if (depot_printer_address_validate(kind, address, err, sizeof err) != 0)
        return ctl__usage_error(c, "--address: %s", err);
    depot_serial_config_default(&sc);
    if (depot_serial_config_parse(serial, &sc, err, sizeof err) != 0)
        return ctl__usage_error(c, "--serial: %s", err);
    if (strlen(argv[optind]) >= sizeof row->name)
        return ctl__usage_error(c, "printer name longer than %d", DEPOT_PRINTER_NAME_MAX);
    snprintf(row->name, sizeof row->name, "%s", argv[optind]);
    snprintf(row->backend, sizeof row->backend, "%s", backend);
    snprintf(row->address, sizeof row->address, "%s", address);
    depot_serial_config_format(&sc, row->serial, sizeof row->serial);
    return CTL_GO;
}

int ctl__printer_add(struct ctl *c, int argc, char **argv)
{
    struct depot_printer_row row;
    depot_store *st;
    int created = 0;
    int rc = parse_add(c, argc, argv, &row);
    if (rc != CTL_GO || (rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        return rc;
    depot_err e = depot_printer_put(st, &row, c->actor, &created);
    if (e == DEPOT_OK) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "name", row.name);
        cJSON_AddBoolToObject(doc, "created", created);
        rc = ctl__done(c, doc, "printer %s %s (%s %s)", row.name,
                       created ? "added" : "updated", row.backend, row.address);
    } else {
        rc = ctl__store_fail(c, st, e);
    }
    depot_store_close(st);
    return rc;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "-";
}

static int num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valueint : 0;
}

int ctl__printer_list(struct ctl *c, int argc, char **argv)
{
    depot_store *st;
    cJSON *doc;
    const cJSON *p;
    int rc = ctl__plain_args(c, argc, argv, 0);
    if (rc != CTL_GO || (rc = ctl__open(c, 1, &st)) != CTL_EXIT_OK)
        return rc;
    depot_err e = depot_printer_list_json(st, &doc);
    if (e != DEPOT_OK) {
        rc = ctl__store_fail(c, st, e);
    } else if (c->json) {
        rc = ctl__done(c, doc, "%s", "");
    } else {
        if (cJSON_GetArraySize(doc) == 0)
            puts("no printers");
        else
            printf("%-16s %-7s %-32s %-5s %-4s %-8s %6s\n", "NAME", "BACKEND", "ADDRESS",
                   "STOCK", "DPI", "ENABLED", "QUEUED");
        cJSON_ArrayForEach(p, doc)
            printf("%-16s %-7s %-32s %-5s %-4d %-8s %6d\n", str(p, "name"),
                   str(p, "backend"), str(p, "address"), str(p, "stock"), num(p, "dpi"),
                   cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "enabled")) ? "yes"
                                                                                 : "no",
                   num(p, "queued"));
        cJSON_Delete(doc);
    }
    depot_store_close(st);
    return rc;
}

int ctl__printer_test(struct ctl *c, int argc, char **argv)
{
    struct depot_printer_row row;
    struct depot_zpl_buf zpl = {0};
    struct depot_zpl_media media = {0};
    depot_store *st;
    char err[256];
    int64_t id = 0;
    int rc = ctl__plain_args(c, argc, argv, 1);
    if (rc != CTL_GO || (rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        return rc;
    depot_err e = depot_printer_get(st, argv[optind], &row);
    if (e != DEPOT_OK) {
        rc = ctl__store_fail(c, st, e);
        goto out;
    }
    media.dpi = row.dpi;
    depot_zpl_stock_parse(row.stock, &media.stock);
    if (depot_printer_test_label(&zpl, &media, row.name, err, sizeof err) != 0) {
        rc = ctl__fail(c, DEPOT_E_INVALID, "%s", err);
        goto out;
    }
    e = depot_print_enqueue(st, row.name, zpl.data, zpl.len, c->actor, &id);
    if (e != DEPOT_OK) {
        rc = ctl__store_fail(c, st, e);
        goto out;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "job_id", (double)id);
    cJSON_AddStringToObject(doc, "printer", row.name);
    rc = ctl__done(c, doc, "%lld", (long long)id);
out:
    depot_zpl_buf_free(&zpl);
    depot_store_close(st);
    return rc;
}
