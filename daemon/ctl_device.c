/* depotctl's station and scanner commands: add and list packing stations and the serial
 * barcode scanners attached to them (a running depotd picks changes up on SIGHUP). */
#include <stdlib.h>
#include <string.h>
#include "ctl.h"
#include "devices.h"
#include "scan_framer.h"
#include "serial_port.h"

#define RELOAD_HINT "send depotd SIGHUP (systemctl reload depot) to apply"

int ctl__station_add(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"printer", required_argument, NULL, 'p'},
        {0},
    };
    const char *printer = NULL;
    depot_store *st;
    int o, rc;
    int64_t id = 0;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0)
        if (o == 'p')
            printer = optarg;
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, 1) != 0)
        return CTL_EXIT_USAGE;
    const char *name = argv[optind];
    if ((rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        return rc;
    depot_err e = depot_station_add(st, name, printer, c->actor, &id);
    if (e != DEPOT_OK) {
        rc = ctl__store_fail(c, st, e);
        depot_store_close(st);
        return rc;
    }
    depot_store_close(st);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "id", (double)id);
    cJSON_AddStringToObject(doc, "name", name);
    if (printer)
        cJSON_AddStringToObject(doc, "printer", printer);
    else
        cJSON_AddNullToObject(doc, "printer");
    return ctl__done(c, doc, "station %s added (id %lld%s%s)", name, (long long)id,
                     printer ? ", printer " : "", printer ? printer : "");
}

int ctl__station_list(struct ctl *c, int argc, char **argv)
{
    depot_store *st;
    cJSON *doc = NULL, *s;
    int rc = ctl__plain_args(c, argc, argv, 0);
    if (rc != CTL_GO)
        return rc;
    if ((rc = ctl__open(c, 1, &st)) != CTL_EXIT_OK)
        return rc;
    depot_err e = depot_station_list_json(st, &doc);
    if (e != DEPOT_OK)
        rc = ctl__store_fail(c, st, e);
    depot_store_close(st);
    if (e != DEPOT_OK)
        return rc;
    if (c->json)
        return ctl__done(c, doc, "%s", "");
    if (cJSON_GetArraySize(doc) == 0)
        puts("no stations");
    else
        printf("%-24s %-24s %s\n", "STATION", "PRINTER", "SCANNERS");
    cJSON_ArrayForEach(s, doc) {
        const char *printer = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "printer"));
        char *scanners = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(s, "scanners"));
        printf("%-24s %-24s %s\n",
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "name")),
               printer ? printer : "-", scanners ? scanners : "?");
        free(scanners);
    }
    cJSON_Delete(doc);
    return CTL_EXIT_OK;
}

/* The scanner options into conf; returns CTL_GO, or an exit status after a usage error. */
static int scanner_options(struct ctl *c, int argc, char **argv, struct depot_scanner_conf *conf)
{
    static const struct option opts[] = {
        {"station", required_argument, NULL, 's'},
        {"port", required_argument, NULL, 'P'},
        {"baud", required_argument, NULL, 'b'},
        {"bits", required_argument, NULL, 'd'},
        {"parity", required_argument, NULL, 'y'},
        {"stop", required_argument, NULL, 't'},
        {"flow", required_argument, NULL, 'f'},
        {"suffix", required_argument, NULL, 'x'},
        {"prefix", required_argument, NULL, 'r'},
        {"disabled", no_argument, NULL, 'D'},
        {0},
    };
    const char *station = NULL, *port = NULL;
    struct depot_serial_config serial;
    struct depot_scan_framer_config framing;
    depot_serial_config_default(&serial);
    depot_scan_framer_config_default(&framing);
    int64_t v;
    int o;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0) {
        switch (o) {
        case 's': station = optarg; break;
        case 'P': port = optarg; break;
        case 'b':
            if (ctl__parse_int(optarg, 50, 4000000, &v) != 0)
                return ctl__usage_error(c, "--baud must be 50..4000000");
            serial.baud = (int)v;
            break;
        case 'd':
            if (ctl__parse_int(optarg, 5, 8, &v) != 0)
                return ctl__usage_error(c, "--bits must be 5..8");
            serial.data_bits = (int)v;
            break;
        case 'y':
            if (depot_serial_parity_parse(optarg, &serial.parity) != 0)
                return ctl__usage_error(c, "--parity must be N, E or O");
            break;
        case 't':
            if (ctl__parse_int(optarg, 1, 2, &v) != 0)
                return ctl__usage_error(c, "--stop must be 1 or 2");
            serial.stop_bits = (int)v;
            break;
        case 'f':
            if (depot_serial_flow_parse(optarg, &serial.flow) != 0)
                return ctl__usage_error(c, "--flow must be none, xonxoff or rtscts");
            break;
        case 'x':
            if (depot_scan_suffix_parse(optarg, &framing) != 0)
                return ctl__usage_error(c, "--suffix must be cr, lf, crlf or timeout:MS "
                                           "(MS 1..%d)", DEPOT_SCAN_TIMEOUT_MS_MAX);
            break;
        case 'r':
            if (strlen(optarg) > DEPOT_SCAN_PREFIX_MAX)
                return ctl__usage_error(c, "--prefix is at most %d characters",
                                        DEPOT_SCAN_PREFIX_MAX);
            snprintf(framing.prefix, sizeof framing.prefix, "%s", optarg);
            if (depot_scan_framer_config_valid(&framing) != 0)
                return ctl__usage_error(c, "--prefix must be printable ASCII");
            break;
        case 'D': conf->enabled = 0; break;
        }
    }
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, 1) != 0)
        return CTL_EXIT_USAGE;
    if (!station || !port)
        return ctl__usage_error(c, "--station and --port are required");
    if (strlen(station) > DEPOT_DEVICE_NAME_MAX || strlen(port) > DEPOT_DEVICE_PORT_MAX)
        return ctl__usage_error(c, "--station is at most %d and --port at most %d characters",
                                DEPOT_DEVICE_NAME_MAX, DEPOT_DEVICE_PORT_MAX);
    if (strlen(argv[optind]) > DEPOT_DEVICE_NAME_MAX)
        return ctl__usage_error(c, "a scanner name is at most %d characters",
                                DEPOT_DEVICE_NAME_MAX);
    snprintf(conf->name, sizeof conf->name, "%s", argv[optind]);
    snprintf(conf->station, sizeof conf->station, "%s", station);
    snprintf(conf->port, sizeof conf->port, "%s", port);
    conf->baud = serial.baud;
    conf->data_bits = serial.data_bits;
    conf->parity = depot_serial_parity_name(serial.parity)[0];
    conf->stop_bits = serial.stop_bits;
    snprintf(conf->flow, sizeof conf->flow, "%s", depot_serial_flow_name(serial.flow));
    depot_scan_suffix_format(&framing, conf->suffix, sizeof conf->suffix);
    snprintf(conf->prefix, sizeof conf->prefix, "%s", framing.prefix);
    return CTL_GO;
}

int ctl__scanner_add(struct ctl *c, int argc, char **argv)
{
    struct depot_scanner_conf conf;
    depot_store *st;
    int64_t id = 0;
    depot_scanner_conf_default(&conf);
    int rc = scanner_options(c, argc, argv, &conf);
    if (rc != CTL_GO)
        return rc;
    if ((rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        return rc;
    depot_err e = depot_scanner_add(st, &conf, c->actor, &id);
    if (e != DEPOT_OK)
        rc = ctl__store_fail(c, st, e);
    depot_store_close(st);
    if (e != DEPOT_OK)
        return rc;
    conf.id = id;
    if (!c->json)
        fprintf(stderr, "%s\n", RELOAD_HINT);
    return ctl__done(c, depot_scanner_conf_json(&conf),
                     "scanner %s added to station %s (id %lld): %s %d,%d,%c,%d,%s suffix %s",
                     conf.name, conf.station, (long long)id, conf.port, conf.baud,
                     conf.data_bits, conf.parity, conf.stop_bits, conf.flow, conf.suffix);
}

int ctl__scanner_list(struct ctl *c, int argc, char **argv)
{
    struct depot_scanner_conf *list = NULL;
    size_t n = 0;
    depot_store *st;
    int rc = ctl__plain_args(c, argc, argv, 0);
    if (rc != CTL_GO)
        return rc;
    if ((rc = ctl__open(c, 1, &st)) != CTL_EXIT_OK)
        return rc;
    depot_err e = depot_scanner_list(st, 0, &list, &n);
    if (e != DEPOT_OK)
        rc = ctl__store_fail(c, st, e);
    depot_store_close(st);
    if (e != DEPOT_OK)
        return rc;
    if (c->json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; arr && i < n; i++)
            cJSON_AddItemToArray(arr, depot_scanner_conf_json(&list[i]));
        free(list);
        return ctl__done(c, arr, "%s", "");
    }
    if (n == 0)
        puts("no scanners");
    else
        printf("%-20s %-16s %-40s %-20s %-12s %-8s %s\n", "SCANNER", "STATION", "PORT",
               "SERIAL", "SUFFIX", "PREFIX", "ENABLED");
    for (size_t i = 0; i < n; i++) {
        const struct depot_scanner_conf *s = &list[i];
        char serial[64];
        snprintf(serial, sizeof serial, "%d,%d,%c,%d,%s", s->baud, s->data_bits, s->parity,
                 s->stop_bits, s->flow);
        printf("%-20s %-16s %-40s %-20s %-12s %-8s %s\n", s->name, s->station, s->port,
               serial, s->suffix, s->prefix[0] ? s->prefix : "-", s->enabled ? "yes" : "no");
    }
    free(list);
    return CTL_EXIT_OK;
}

int ctl__scanner_move(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"station", required_argument, NULL, 's'},
        {0},
    };
    const char *station = NULL;
    depot_store *st;
    int o, rc;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0)
        if (o == 's')
            station = optarg;
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, 1) != 0)
        return CTL_EXIT_USAGE;
    if (!station)
        return ctl__usage_error(c, "scanner move needs --station");
    const char *name = argv[optind];
    if ((rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        return rc;
    depot_err e = depot_scanner_set_station(st, name, station, c->actor);
    if (e != DEPOT_OK) {
        rc = ctl__store_fail(c, st, e);
        depot_store_close(st);
        return rc;
    }
    depot_store_close(st);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "scanner", name);
    cJSON_AddStringToObject(doc, "station", station);
    return ctl__done(c, doc, "scanner %s now scans for station %s (a running depotd picks "
                     "it up on SIGHUP)", name, station);
}
