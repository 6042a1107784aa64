/* Serial ports for scanners and printers: line settings (parse, validate, format) and
 * opening a port through libserialport, handing back its non-blocking descriptor for the
 * event loop.
 *
 * Ports are named by path; symlinks such as /dev/serial/by-id/usb-... are followed first,
 * because libserialport only knows the kernel's device names (/dev/ttyUSB0, /dev/ttyACM0).
 * Product code opens ports only here, never with open()/termios directly. */
#ifndef DEPOT_SERIAL_PORT_H
#define DEPOT_SERIAL_PORT_H

#include <stddef.h>

struct sp_port;

enum depot_serial_parity {
    DEPOT_SERIAL_PARITY_NONE = 0,
    DEPOT_SERIAL_PARITY_ODD,
    DEPOT_SERIAL_PARITY_EVEN,
};

enum depot_serial_flow {
    DEPOT_SERIAL_FLOW_NONE = 0,
    DEPOT_SERIAL_FLOW_XONXOFF,
    DEPOT_SERIAL_FLOW_RTSCTS,
};

/* Line settings. The default is 9600,8,N,1,none (what most scanners ship with). */
struct depot_serial_config {
    int baud;                        /* 50 .. 4000000 */
    int data_bits;                   /* 5 .. 8 */
    enum depot_serial_parity parity;
    int stop_bits;                   /* 1 or 2 */
    enum depot_serial_flow flow;
};

#define DEPOT_SERIAL_CONFIG_TEXT_MAX 48 /* room for any formatted config */

void depot_serial_config_default(struct depot_serial_config *c);

/* 0 if every field is within range; else -1 and a reason in err ("baud 0 is out of
 * range 50..4000000"). */
int depot_serial_config_validate(const struct depot_serial_config *c, char *err,
                                 size_t errlen);

/* Parses "BAUD[,BITS[,PARITY[,STOP[,FLOW]]]]", e.g. "9600,8,N,1,none" or "115200";
 * omitted fields keep the default. PARITY is N|O|E (or none|odd|even), FLOW is
 * none|xonxoff|rtscts, case-insensitive. Returns 0, or -1 with a reason in err (and *c
 * unchanged). */
int depot_serial_config_parse(const char *text, struct depot_serial_config *c, char *err,
                              size_t errlen);

/* Writes the canonical "9600,8,N,1,none" form into buf (at least
 * DEPOT_SERIAL_CONFIG_TEXT_MAX bytes). Returns buf. */
char *depot_serial_config_format(const struct depot_serial_config *c, char *buf,
                                 size_t len);

/* Single fields, as used by command-line flags: "N"|"O"|"E"|"none"|"odd"|"even" and
 * "none"|"xonxoff"|"rtscts" (case-insensitive). Return 0 or -1 if unknown. */
int depot_serial_parity_parse(const char *s, enum depot_serial_parity *out);
int depot_serial_flow_parse(const char *s, enum depot_serial_flow *out);
const char *depot_serial_parity_name(enum depot_serial_parity p); /* "N", "O", "E" */
const char *depot_serial_flow_name(enum depot_serial_flow f);     /* "none", ... */

enum depot_serial_mode {
    DEPOT_SERIAL_READ = 1,
    DEPOT_SERIAL_WRITE = 2,
    DEPOT_SERIAL_READ_WRITE = 3,
};

/* Outcome of depot_serial_open; 0 is success. ABSENT lets hot-plug code tell "not
 * plugged in" (keep waiting quietly) from a port that exists but fails. */
enum depot_serial_result {
    DEPOT_SERIAL_OK = 0,
    DEPOT_SERIAL_ABSENT,  /* the path (or its symlink target) does not exist */
    DEPOT_SERIAL_INVALID, /* bad path or line settings */
    DEPOT_SERIAL_FAILED,  /* exists but libserialport could not open or configure it */
};

/* An open port. fd belongs to sp: never close() it, call depot_serial_close(). */
struct depot_serial_port {
    struct sp_port *sp;  /* NULL when closed */
    int fd;              /* non-blocking, close-on-exec; -1 when closed */
    char device[256];    /* the device actually opened, symlinks resolved */
};

/* Opens path with the given settings and mode, non-blocking, discarding anything
 * buffered from before. On success fills *out (which must not be open) and returns
 * DEPOT_SERIAL_OK; otherwise *out is closed (sp NULL, fd -1) and err holds a one-line
 * reason naming the path ("/dev/serial/by-id/x: no such device"). */
enum depot_serial_result depot_serial_open(const char *path,
                                           const struct depot_serial_config *cfg,
                                           enum depot_serial_mode mode,
                                           struct depot_serial_port *out, char *err,
                                           size_t errlen);

/* Closes the port (safe on a closed or zeroed-then-failed port) and marks it closed. */
void depot_serial_close(struct depot_serial_port *p);

#endif
