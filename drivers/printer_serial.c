/* The serial printer backend: the port opened through serial_port.h (libserialport),
 * writes with a timeout, ~HS status on the same line. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <libserialport.h>
#include "printer_int.h"

struct serial_conn {
    struct depot_serial_port port;
};

static int serial_open(const struct depot_printer_conf *conf, void **conn, char *err,
                       size_t errlen)
{
    *conn = NULL;
    struct serial_conn *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (depot_serial_open(conf->address, &conf->serial, DEPOT_SERIAL_READ_WRITE, &c->port,
                          err, errlen) != DEPOT_SERIAL_OK) {
        free(c);
        return -1;
    }
    *conn = c;
    return 0;
}

static int serial_write_all(void *conn, const void *buf, size_t len, int timeout_ms,
                            char *err, size_t errlen)
{
    struct serial_conn *c = conn;
    return printer__write_fd(c->port.fd, 0, buf, len, timeout_ms, err, errlen);
}

/* Waits for the UART's output queue to empty (sp_output_waiting), without blocking
 * past the timeout as tcdrain() could on a stalled line. */
static int serial_drain(void *conn, int timeout_ms, char *err, size_t errlen)
{
    struct serial_conn *c = conn;
    int64_t deadline = printer__now_ms() + timeout_ms;
    for (;;) {
        enum sp_return n = sp_output_waiting(c->port.sp);
        if (n < 0) {
            snprintf(err, errlen, "cannot read the port's output queue");
            return -1;
        }
        if (n == 0)
            return 0;
        if (printer__now_ms() >= deadline) {
            snprintf(err, errlen, "%d bytes still queued on the port after %d ms", (int)n,
                     timeout_ms);
            return -1;
        }
        nanosleep(&(struct timespec){.tv_nsec = 2 * 1000 * 1000}, NULL);
    }
}

static int serial_query_status(void *conn, int timeout_ms, struct depot_zebra_status *out,
                               char *err, size_t errlen)
{
    struct serial_conn *c = conn;
    return printer__query_hs(c->port.fd, 0, timeout_ms, out, err, errlen);
}

static void serial_close(void *conn)
{
    struct serial_conn *c = conn;
    if (!c)
        return;
    depot_serial_close(&c->port);
    free(c);
}

const struct printer_ops depot_printer_serial_ops = {
    .name = "serial",
    .caps = DEPOT_PRINTER_CAP_STATUS,
    .open = serial_open,
    .write_all = serial_write_all,
    .drain = serial_drain,
    .query_status = serial_query_status,
    .close = serial_close,
};
