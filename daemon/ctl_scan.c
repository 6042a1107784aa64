/* depotctl scan: "scans" a barcode at a station by handing it to the station's simulated
 * scanner (depot-scan-sim listens on PORT.in beside the port it publishes), for the demo
 * and for trying a station out without a physical scanner. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ctl.h"
#include "devices.h"
#include "scan_resolve.h"

/* The control FIFO of the first enabled scanner of station that has one, into fifo. */
static int find_simulator(const struct depot_scanner_conf *list, size_t n,
                          const char *station, char *fifo, size_t len, int *n_scanners,
                          const struct depot_scanner_conf **which)
{
    *n_scanners = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat sb;
        if (strcmp(list[i].station, station) != 0)
            continue;
        ++*n_scanners;
        snprintf(fifo, len, "%s.in", list[i].port);
        if (stat(fifo, &sb) == 0 && S_ISFIFO(sb.st_mode)) {
            *which = &list[i];
            return 0;
        }
    }
    return -1;
}

int ctl__scan(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"station", required_argument, NULL, 's'},
        {0},
    };
    const char *station = NULL;
    int o, rc;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0)
        if (o == 's')
            station = optarg;
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, 1) != 0)
        return CTL_EXIT_USAGE;
    if (!station)
        return ctl__usage_error(c, "--station is required");
    const char *code = argv[optind];
    size_t len = strlen(code);
    if (len == 0 || len > DEPOT_SCAN_TEXT_MAX)
        return ctl__usage_error(c, "a code is 1..%d bytes", DEPOT_SCAN_TEXT_MAX);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)code[i] < 0x20 || code[i] == 0x7f)
            return ctl__usage_error(c, "write control characters as escapes (\\x1d for "
                                       "FNC1/GS)");

    depot_store *st;
    struct depot_scanner_conf *list = NULL;
    size_t n = 0;
    if ((rc = ctl__open(c, 1, &st)) != CTL_EXIT_OK)
        return rc;
    depot_err e = depot_scanner_list(st, 1, &list, &n);
    if (e != DEPOT_OK)
        rc = ctl__store_fail(c, st, e);
    depot_store_close(st);
    if (e != DEPOT_OK)
        return rc;

    char fifo[PATH_MAX];
    int n_scanners;
    const struct depot_scanner_conf *which = NULL;
    if (find_simulator(list, n, station, fifo, sizeof fifo, &n_scanners, &which) != 0) {
        rc = n_scanners == 0
                 ? ctl__fail(c, DEPOT_E_NOT_FOUND, "station %s has no enabled scanner", station)
                 : ctl__fail(c, DEPOT_E_NOT_FOUND, "no scanner simulator runs for station %s "
                             "(depot-scan-sim listens on PORT.in; real scanners are scanned "
                             "with, well, a barcode)", station);
        free(list);
        return rc;
    }
    int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    char line[DEPOT_SCAN_TEXT_MAX + 2];
    int len_line = snprintf(line, sizeof line, "%s\n", code);
    if (fd < 0 || write(fd, line, (size_t)len_line) != len_line) {
        rc = ctl__fail(c, DEPOT_E_IO, "%s: %s", fifo,
                       errno == ENXIO ? "the scanner simulator is not running" : strerror(errno));
        if (fd >= 0)
            close(fd);
        free(list);
        return rc;
    }
    close(fd);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "station", station);
    cJSON_AddStringToObject(doc, "scanner", which->name);
    cJSON_AddStringToObject(doc, "code", code);
    rc = ctl__done(c, doc, "scanned %s at station %s (scanner %s)", code, station, which->name);
    free(list);
    return rc;
}
