/* Descriptor I/O for the printer backends: writing a whole payload and asking ~HS, each
 * within a deadline, on a non-blocking descriptor. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "printer_int.h"

int64_t printer__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until deadline; returns the revents, 0 on timeout, -1 on a
 * poll error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - printer__now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return p.revents;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

int printer__write_fd(int fd, int is_socket, const void *buf, size_t len, int timeout_ms,
                      char *err, size_t errlen)
{
    const unsigned char *p = buf;
    size_t done = 0;
    int64_t deadline = printer__now_ms() + timeout_ms;
    while (done < len) {
        ssize_t n = is_socket ? send(fd, p + done, len - done, MSG_NOSIGNAL)
                              : write(fd, p + done, len - done);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            snprintf(err, errlen, "write failed after %zu of %zu bytes: %s", done, len,
                     strerror(errno));
            return DEPOT_PRINTER_LOST;
        }
        int ev = wait_fd(fd, POLLOUT, deadline);
        if (ev == 0) {
            snprintf(err, errlen, "write timed out after %d ms with %zu of %zu bytes sent",
                     timeout_ms, done, len);
            return -1;
        }
        if (ev < 0 || (ev & (POLLERR | POLLNVAL)) ||
            ((ev & POLLHUP) && !(ev & POLLOUT))) {
            snprintf(err, errlen, "connection lost after %zu of %zu bytes", done, len);
            return DEPOT_PRINTER_LOST;
        }
    }
    return 0;
}

#define DISCARD_MAX 65536 /* a printer that chatters more than this is not answering */

/* Reads what is already waiting (at most DISCARD_MAX bytes) and throws it away. -1 if the
 * other end has gone or will not stop talking. */
static int discard_input(int fd, int is_socket, char *err, size_t errlen)
{
    char junk[256];
    size_t total = 0;
    for (;;) {
        ssize_t n = is_socket ? recv(fd, junk, sizeof junk, MSG_DONTWAIT)
                              : read(fd, junk, sizeof junk);
        if (n > 0 && (total += (size_t)n) > DISCARD_MAX) {
            snprintf(err, errlen, "the printer sent over %d bytes unasked", DISCARD_MAX);
            return -1;
        }
        if (n > 0)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        if ((n == 0 && !is_socket) || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
            return 0; /* a serial line in non-blocking raw mode reads 0 when empty */
        snprintf(err, errlen, "%s", n == 0 ? "the printer closed the connection"
                                           : strerror(errno));
        return -1;
    }
}

/* The length of buf through the third <ETX><CR><LF> (the end of a ~HS reply), or 0
 * while the reply is incomplete. Anything after it is not part of this reply. */
static size_t reply_end(const char *buf, size_t len)
{
    int count = 0;
    for (size_t i = 0; i + 2 < len; i++)
        if (buf[i] == 0x03 && buf[i + 1] == '\r' && buf[i + 2] == '\n' && ++count == 3)
            return i + 3;
    return 0;
}

int printer__query_hs(int fd, int is_socket, int timeout_ms, struct depot_zebra_status *out,
                      char *err, size_t errlen)
{
    char reply[DEPOT_ZEBRA_HS_MAX + 1];
    size_t len = 0, end;
    int64_t deadline = printer__now_ms() + timeout_ms;
    if (discard_input(fd, is_socket, err, errlen) != 0)
        return DEPOT_PRINTER_LOST;
    int rc = printer__write_fd(fd, is_socket, "~HS", 3, timeout_ms, err, errlen);
    if (rc != 0)
        return rc;
    while ((end = reply_end(reply, len)) == 0) {
        if (len == sizeof reply) {
            snprintf(err, errlen, "~HS reply longer than %d bytes", DEPOT_ZEBRA_HS_MAX);
            return -1;
        }
        ssize_t n = read(fd, reply + len, sizeof reply - len);
        if (n > 0) {
            len += (size_t)n;
            continue;
        }
        if (n == 0 && is_socket) {
            snprintf(err, errlen, "the printer closed the connection");
            return DEPOT_PRINTER_LOST;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            snprintf(err, errlen, "reading the ~HS reply: %s", strerror(errno));
            return DEPOT_PRINTER_LOST;
        }
        int ev = wait_fd(fd, POLLIN, deadline);
        if (ev == 0) {
            snprintf(err, errlen, "no ~HS reply within %d ms", timeout_ms);
            return -1;
        }
        /* A serial line that hung up reads 0 for ever: POLLHUP alone says it. */
        if (ev < 0 || (ev & (POLLERR | POLLNVAL)) ||
            ((ev & POLLHUP) && (!is_socket || !(ev & POLLIN)))) {
            snprintf(err, errlen, "connection lost while waiting for the ~HS reply");
            return DEPOT_PRINTER_LOST;
        }
    }
    return depot_zebra_status_parse(reply, end, out, err, errlen);
}
