/* The device-file printer backend (/dev/usb/lp0 and the like): write-only, no status;
 * a printer is taken to be fine unless opening or writing fails. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "printer_int.h"

struct file_conn {
    int fd;
};

static int file_open(const struct depot_printer_conf *conf, void **conn, char *err,
                     size_t errlen)
{
    *conn = NULL;
    /* No O_CREAT: a mistyped device path must fail, not fill a new regular file. */
    int fd = open(conf->address, O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", conf->address, strerror(errno));
        return -1;
    }
    struct file_conn *c = malloc(sizeof *c);
    if (!c) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->fd = fd;
    *conn = c;
    return 0;
}

static int file_write_all(void *conn, const void *buf, size_t len, int timeout_ms,
                          char *err, size_t errlen)
{
    struct file_conn *c = conn;
    return printer__write_fd(c->fd, 0, buf, len, timeout_ms, err, errlen);
}

static void file_close(void *conn)
{
    struct file_conn *c = conn;
    if (!c)
        return;
    close(c->fd);
    free(c);
}

const struct printer_ops depot_printer_file_ops = {
    .name = "file",
    .caps = 0,
    .open = file_open,
    .write_all = file_write_all,
    .drain = NULL,
    .query_status = NULL,
    .close = file_close,
};
