/* The raw TCP printer backend (Zebra port 9100): non-blocking connect with a timeout,
 * writes with a timeout, delivery known from the socket's unacknowledged byte count,
 * and ~HS status over the same connection. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <time.h>
#include <unistd.h>
#include "printer_int.h"

/* Rationale: write() on a socket only hands bytes to the kernel. A label is delivered
 * once the printer's TCP stack has acknowledged it (SIOCOUTQ, the bytes not yet
 * acknowledged, is 0): after that, a dropped connection cannot lose it, so the worker
 * must not send it again. Before that, closing the socket discards the rest. */

struct tcp_conn {
    int fd;
};

/* Splits "host:port" or "[v6]:port" into host and port text. 0, or -1. */
static int split_hostport(const char *address, char *host, size_t hostlen, char *port,
                          size_t portlen)
{
    const char *colon;
    const char *h = address;
    size_t hl;
    if (address[0] == '[') {
        const char *close = strchr(address, ']');
        if (!close || close[1] != ':')
            return -1;
        h = address + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(address, ':');
        if (!colon || strchr(address, ':') != colon)
            return -1;
        hl = (size_t)(colon - address);
    }
    size_t pl = strlen(colon + 1);
    if (hl == 0 || hl >= hostlen || pl == 0 || pl >= portlen ||
        strspn(colon + 1, "0123456789") != pl)
        return -1;
    long p = strtol(colon + 1, NULL, 10);
    if (p < 1 || p > 65535)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    memcpy(port, colon + 1, pl + 1);
    return 0;
}

int printer__tcp_address_valid(const char *address)
{
    char host[256], port[8];
    return split_hostport(address, host, sizeof host, port, sizeof port) == 0;
}

/* Connects fd to ai within the deadline. 0, or -1 with errno-based reason in err. */
static int connect_one(const struct addrinfo *ai, int64_t deadline, int *fd_out,
                       char *err, size_t errlen)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
        snprintf(err, errlen, "connect: %s", strerror(errno));
        goto fail;
    }
    for (;;) {
        int64_t left = deadline - printer__now_ms();
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int n = left > 0 ? poll(&p, 1, (int)left) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, errlen, "connect timed out");
            goto fail;
        }
        break;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
        snprintf(err, errlen, "connect: %s", strerror(soerr ? soerr : errno));
        goto fail;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    *fd_out = fd;
    return 0;
fail:
    close(fd);
    return -1;
}

static int tcp_open(const struct depot_printer_conf *conf, void **conn, char *err,
                    size_t errlen)
{
    char host[256], port[8], why[160] = "no address";
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int64_t deadline = printer__now_ms() + conf->timeout_ms;
    int fd = -1;
    *conn = NULL;
    if (split_hostport(conf->address, host, sizeof host, port, sizeof port) != 0) {
        snprintf(err, errlen, "%s: not HOST:PORT", conf->address);
        return -1;
    }
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", conf->address, gai_strerror(rc));
        return -1;
    }
    for (const struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
        if (connect_one(ai, deadline, &fd, why, sizeof why) != 0)
            fd = -1;
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", conf->address, why);
        return -1;
    }
    struct tcp_conn *c = malloc(sizeof *c);
    if (!c) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->fd = fd;
    *conn = c;
    return 0;
}

static int tcp_write_all(void *conn, const void *buf, size_t len, int timeout_ms, char *err,
                         size_t errlen)
{
    struct tcp_conn *c = conn;
    return printer__write_fd(c->fd, 1, buf, len, timeout_ms, err, errlen);
}

static int tcp_drain(void *conn, int timeout_ms, char *err, size_t errlen)
{
    struct tcp_conn *c = conn;
    int64_t deadline = printer__now_ms() + timeout_ms;
    for (;;) {
        int unacked = 0, soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr != 0) {
            snprintf(err, errlen, "connection failed before delivery: %s", strerror(soerr));
            return -1;
        }
        if (ioctl(c->fd, SIOCOUTQ, &unacked) != 0) {
            snprintf(err, errlen, "SIOCOUTQ: %s", strerror(errno));
            return -1;
        }
        if (unacked == 0)
            return 0;
        if (printer__now_ms() >= deadline) {
            snprintf(err, errlen, "%d bytes not acknowledged by the printer within %d ms",
                     unacked, timeout_ms);
            return -1;
        }
        nanosleep(&(struct timespec){.tv_nsec = 2 * 1000 * 1000}, NULL);
    }
}

static int tcp_query_status(void *conn, int timeout_ms, struct depot_zebra_status *out,
                            char *err, size_t errlen)
{
    struct tcp_conn *c = conn;
    return printer__query_hs(c->fd, 1, timeout_ms, out, err, errlen);
}

static void tcp_close(void *conn)
{
    struct tcp_conn *c = conn;
    if (!c)
        return;
    close(c->fd);
    free(c);
}

const struct printer_ops depot_printer_tcp_ops = {
    .name = "tcp",
    .caps = DEPOT_PRINTER_CAP_STATUS,
    .open = tcp_open,
    .write_all = tcp_write_all,
    .drain = tcp_drain,
    .query_status = tcp_query_status,
    .close = tcp_close,
};
