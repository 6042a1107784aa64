/* Label printers: one vtable (struct printer_ops) over the ways a printer is attached —
 * a serial port, raw TCP (port 9100), a device file such as /dev/usb/lp0 — and each
 * printer's live state as the print worker last saw it, readable from any thread.
 *
 * The backends only move bytes and ask for status; what a job's outcome means for the
 * queue is the print worker's business (daemon/print_worker.c). */
#ifndef DEPOT_PRINTER_H
#define DEPOT_PRINTER_H

#include <stddef.h>
#include <stdint.h>
#include "serial_port.h"
#include "zebra_status.h"

#define DEPOT_PRINTER_NAME_LEN 64     /* same rule as the print queue's printer name */
#define DEPOT_PRINTER_ADDRESS_LEN 255 /* port path, host:port or file path */
#define DEPOT_PRINTER_MESSAGE_LEN 200

enum depot_printer_backend {
    DEPOT_PRINTER_SERIAL = 0,
    DEPOT_PRINTER_TCP,
    DEPOT_PRINTER_FILE,
};

/* "serial" | "tcp" | "file" into *out; 0, or -1 if unknown. */
int depot_printer_backend_parse(const char *s, enum depot_printer_backend *out);
const char *depot_printer_backend_name(enum depot_printer_backend b);

/* How to reach one printer. */
struct depot_printer_conf {
    char name[DEPOT_PRINTER_NAME_LEN + 1];
    enum depot_printer_backend backend;
    char address[DEPOT_PRINTER_ADDRESS_LEN + 1]; /* serial: port path; tcp: host:port;
                                                    file: device path */
    struct depot_serial_config serial;           /* serial only */
    int timeout_ms;                              /* connect, write and ~HS reply bound */
};

/* Checks the address for the backend (a tcp address must be host:port with a port
 * 1..65535; paths must be absolute). 0, or -1 with a reason in err. */
int depot_printer_address_validate(enum depot_printer_backend b, const char *address,
                                   char *err, size_t errlen);

/* What query_status returns when the connection itself failed: close and reopen. */
#define DEPOT_PRINTER_LOST (-2)

/* Capabilities of a backend. */
#define DEPOT_PRINTER_CAP_STATUS (1u << 0) /* can ask ~HS and read the reply */

/* One backend. Every member but the optional ones is set; optional ones may be NULL and
 * callers check. conn is the backend's own connection state, created by open. Each verb
 * returns 0, or -1 with a one-line reason in err. No verb blocks longer than its
 * timeout. */
struct printer_ops {
    const char *name;  /* "serial", "tcp", "file" */
    unsigned caps;     /* DEPOT_PRINTER_CAP_* */
    /* Connects to (opens) the printer within conf->timeout_ms; sets *conn. */
    int (*open)(const struct depot_printer_conf *conf, void **conn, char *err,
                size_t errlen);
    /* Writes all len bytes within timeout_ms. On failure (-1: timed out;
     * DEPOT_PRINTER_LOST: the connection failed) any part may have been written. */
    int (*write_all)(void *conn, const void *buf, size_t len, int timeout_ms, char *err,
                     size_t errlen);
    /* Optional: waits until every byte written has left this host (TCP: acknowledged by
     * the printer), so a later failure cannot take them back. NULL: write_all returning
     * is delivery. -1: delivery is not known. */
    int (*drain)(void *conn, int timeout_ms, char *err, size_t errlen);
    /* Optional (DEPOT_PRINTER_CAP_STATUS): sends ~HS and parses the reply. -1: no valid
     * reply within timeout_ms (a silent Zebra has paper out, head open, or is offline;
     * the connection stays usable); DEPOT_PRINTER_LOST: the connection is gone. */
    int (*query_status)(void *conn, int timeout_ms, struct depot_zebra_status *out,
                        char *err, size_t errlen);
    /* Closes conn (NULL is fine). */
    void (*close)(void *conn);
};

extern const struct printer_ops depot_printer_serial_ops;
extern const struct printer_ops depot_printer_tcp_ops;
extern const struct printer_ops depot_printer_file_ops;

/* The ops of a backend. */
const struct printer_ops *depot_printer_ops_for(enum depot_printer_backend b);

/* ---- Test label (drivers/printer_test_label.c) ---------------------------------- */

struct depot_zpl_buf;
struct depot_zpl_media;
/* Appends a test page for printer name on the given media: a QR code of
 * "PRINTER-TEST:<name>" and the printer's name and media as text, so a person can see
 * the printer, the stock and the resolution are right. 0, or -1 with a reason in err. */
int depot_printer_test_label(struct depot_zpl_buf *out, const struct depot_zpl_media *m,
                             const char *name, char *err, size_t errlen);

/* ---- Live state (drivers/printer_state.c) ---------------------------------------- */

/* What a printer is doing, as the print worker last saw it. */
enum depot_printer_state {
    DEPOT_PRINTER_UNKNOWN = 0, /* not contacted yet */
    DEPOT_PRINTER_READY,       /* reachable, status OK, nothing to print */
    DEPOT_PRINTER_PRINTING,    /* sending a job */
    DEPOT_PRINTER_OFFLINE,     /* cannot connect, or the connection failed */
    DEPOT_PRINTER_NO_REPLY,    /* connected, but ~HS went unanswered */
    DEPOT_PRINTER_PAPER_OUT,
    DEPOT_PRINTER_HEAD_OPEN,
    DEPOT_PRINTER_RIBBON_OUT,
    DEPOT_PRINTER_PAUSED,
    DEPOT_PRINTER_BUFFER_FULL,
    DEPOT_PRINTER_STOPPED,     /* disabled, or the daemon is stopping */
};

/* "ready", "paper_out", ... */
const char *depot_printer_state_name(enum depot_printer_state s);
/* The state a ~HS reply means: the first fault flag in the order paper out, head open,
 * ribbon out, paused, buffer full; else ready. */
enum depot_printer_state depot_printer_state_from_status(const struct depot_zebra_status *s);

struct depot_printer_live {
    char name[DEPOT_PRINTER_NAME_LEN + 1];
    enum depot_printer_state state;
    char message[DEPOT_PRINTER_MESSAGE_LEN + 1]; /* the last error, "" when none */
    int64_t since;        /* unix seconds when state last changed */
    int64_t printed;      /* jobs done since the daemon started */
    int64_t current_job;  /* the job being sent or awaiting the printer's OK, or 0 */
};

/* Thread-safe: records printer name's state. Returns 1 if the state or message
 * changed (worth an event), else 0. At most DEPOT_PRINTER_LIVE_MAX printers are kept;
 * past that -1. */
#define DEPOT_PRINTER_LIVE_MAX 64
int depot_printer_live_set(const char *name, enum depot_printer_state state,
                           const char *message, int64_t current_job);
/* Thread-safe: counts one more printed job for name. */
void depot_printer_live_printed(const char *name);
/* Thread-safe: copies printer name's state into *out; 0, or -1 if never recorded. */
int depot_printer_live_get(const char *name, struct depot_printer_live *out);
/* Thread-safe: copies up to max printers' states into out; returns how many. */
int depot_printer_live_list(struct depot_printer_live *out, int max);
/* Thread-safe: forgets printer name (removed from the printers table), freeing its
 * entry for another printer. */
void depot_printer_live_forget(const char *name);
/* Forgets every printer (daemon shutdown, tests). */
void depot_printer_live_reset(void);

#endif
