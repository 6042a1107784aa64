/* Printer backends by name: parsing and naming the backend kinds, checking an address
 * for its backend, and finding the backend's ops. */
#include <stdio.h>
#include <string.h>
#include "printer_int.h"

static const char *const backend_names[] = {"serial", "tcp", "file"};

int depot_printer_backend_parse(const char *s, enum depot_printer_backend *out)
{
    for (size_t i = 0; i < sizeof backend_names / sizeof backend_names[0]; i++)
        if (s && strcmp(s, backend_names[i]) == 0) {
            *out = (enum depot_printer_backend)i;
            return 0;
        }
    return -1;
}

const char *depot_printer_backend_name(enum depot_printer_backend b)
{
    return (unsigned)b < sizeof backend_names / sizeof backend_names[0] ? backend_names[b]
                                                                      : "?";
}

const struct printer_ops *depot_printer_ops_for(enum depot_printer_backend b)
{
    switch (b) {
    case DEPOT_PRINTER_SERIAL:
        return &depot_printer_serial_ops;
    case DEPOT_PRINTER_TCP:
        return &depot_printer_tcp_ops;
    case DEPOT_PRINTER_FILE:
        return &depot_printer_file_ops;
    }
    return NULL;
}

int depot_printer_address_validate(enum depot_printer_backend b, const char *address,
                                   char *err, size_t errlen)
{
    size_t n = address ? strlen(address) : 0;
    if (n == 0 || n > DEPOT_PRINTER_ADDRESS_LEN) {
        snprintf(err, errlen, "address must be 1..%d bytes", DEPOT_PRINTER_ADDRESS_LEN);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)address[i] < 0x20 || address[i] == 0x7f) {
            snprintf(err, errlen, "address must not contain control characters");
            return -1;
        }
    if (b == DEPOT_PRINTER_TCP) {
        if (!printer__tcp_address_valid(address)) {
            snprintf(err, errlen, "a tcp address is HOST:PORT (port 1..65535), e.g. "
                                  "192.0.2.10:9100");
            return -1;
        }
    } else if (address[0] != '/') {
        snprintf(err, errlen, "a %s address is an absolute path, e.g. %s",
                 depot_printer_backend_name(b),
                 b == DEPOT_PRINTER_SERIAL ? "/dev/serial/by-id/usb-..." : "/dev/usb/lp0");
        return -1;
    }
    return 0;
}
