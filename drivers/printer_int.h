/* Private to the printer backends: descriptor I/O with deadlines, shared by the serial,
 * TCP and file backends. */
#ifndef DEPOT_PRINTER_INT_H
#define DEPOT_PRINTER_INT_H

#include <stddef.h>
#include <stdint.h>
#include "printer.h"

/* Milliseconds on the monotonic clock. */
int64_t printer__now_ms(void);

/* Writes all len bytes to the non-blocking fd before timeout_ms passes (send() without
 * SIGPIPE when is_socket). 0; -1 with a reason in err on a timeout; DEPOT_PRINTER_LOST
 * when the descriptor failed. */
int printer__write_fd(int fd, int is_socket, const void *buf, size_t len, int timeout_ms,
                      char *err, size_t errlen);

/* Discards whatever the printer sent unasked (a late reply to an earlier query), sends
 * ~HS and reads the three status strings within timeout_ms, then parses them. 0; -1 with
 * a reason in err for no reply or a malformed one; DEPOT_PRINTER_LOST when the
 * connection closed or failed. */
int printer__query_hs(int fd, int is_socket, int timeout_ms, struct depot_zebra_status *out,
                      char *err, size_t errlen);

/* 1 if address is "host:port" or "[v6]:port" with a port 1..65535 (printer_tcp.c). */
int printer__tcp_address_valid(const char *address);

#endif
