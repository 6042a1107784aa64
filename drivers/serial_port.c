/* Opening serial ports through libserialport: resolve the path, open, apply the line
 * settings and hand back the descriptor, non-blocking, for the event loop. */
#include "serial_port.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libserialport.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>

/* libserialport keeps its error text per call; copy it and free it. */
static void sp_reason(enum sp_return r, const char *path, const char *what, char *err,
                      size_t errlen)
{
    if (r == SP_ERR_FAIL) {
        char *msg = sp_last_error_message();
        snprintf(err, errlen, "%s: %s: %s", path, what, msg ? msg : "failed");
        sp_free_error_message(msg);
    } else if (r == SP_ERR_ARG) {
        snprintf(err, errlen, "%s: %s: not a serial port known to the kernel", path, what);
    } else if (r == SP_ERR_SUPP) {
        snprintf(err, errlen, "%s: %s: not supported by this port", path, what);
    } else {
        snprintf(err, errlen, "%s: %s: out of memory", path, what);
    }
}

/* The line settings, with DTR (and RTS unless it does flow control) asserted: many
 * USB scanners and printers only talk to a host that raises them. */
static enum sp_return apply_config(struct sp_port *sp, const struct depot_serial_config *c)
{
    static const enum sp_parity parities[] = {
        [DEPOT_SERIAL_PARITY_NONE] = SP_PARITY_NONE,
        [DEPOT_SERIAL_PARITY_ODD] = SP_PARITY_ODD,
        [DEPOT_SERIAL_PARITY_EVEN] = SP_PARITY_EVEN,
    };
    static const enum sp_flowcontrol flows[] = {
        [DEPOT_SERIAL_FLOW_NONE] = SP_FLOWCONTROL_NONE,
        [DEPOT_SERIAL_FLOW_XONXOFF] = SP_FLOWCONTROL_XONXOFF,
        [DEPOT_SERIAL_FLOW_RTSCTS] = SP_FLOWCONTROL_RTSCTS,
    };
    struct sp_port_config *pc;
    enum sp_return r = sp_new_config(&pc);
    if (r != SP_OK)
        return r;
    if ((r = sp_set_config_baudrate(pc, c->baud)) == SP_OK &&
        (r = sp_set_config_bits(pc, c->data_bits)) == SP_OK &&
        (r = sp_set_config_parity(pc, parities[c->parity])) == SP_OK &&
        (r = sp_set_config_stopbits(pc, c->stop_bits)) == SP_OK &&
        (r = sp_set_config_flowcontrol(pc, flows[c->flow])) == SP_OK &&
        (r = sp_set_config_dtr(pc, SP_DTR_ON)) == SP_OK &&
        (c->flow == DEPOT_SERIAL_FLOW_RTSCTS || (r = sp_set_config_rts(pc, SP_RTS_ON)) == SP_OK))
        r = sp_set_config(sp, pc);
    sp_free_config(pc);
    return r;
}

/* Rationale: libserialport 0.1.1 (Debian 12) sets and clears CRTSCTS in c_iflag instead
 * of c_cflag on Linux, so RTS/CTS flow control asked of it never reaches the line (and a
 * port left with it on by another program keeps it). After libserialport has applied
 * the settings, the hardware flow-control bit is put where the kernel reads it. */
static int fix_rtscts(int fd, int rtscts, const char *path, char *err, size_t errlen)
{
    struct termios t;
    if (tcgetattr(fd, &t) != 0)
        goto fail;
    tcflag_t want = rtscts ? CRTSCTS : 0;
    if ((t.c_cflag & CRTSCTS) == want && !(t.c_iflag & CRTSCTS))
        return 0;
    t.c_iflag &= ~(tcflag_t)CRTSCTS;
    t.c_cflag = (t.c_cflag & ~(tcflag_t)CRTSCTS) | want;
    if (tcsetattr(fd, TCSANOW, &t) == 0)
        return 0;
fail:
    snprintf(err, errlen, "%s: flow control: %s", path, strerror(errno));
    return -1;
}

enum depot_serial_result depot_serial_open(const char *path,
                                           const struct depot_serial_config *cfg,
                                           enum depot_serial_mode mode,
                                           struct depot_serial_port *out, char *err,
                                           size_t errlen)
{
    static const enum sp_mode modes[] = {
        [DEPOT_SERIAL_READ] = SP_MODE_READ,
        [DEPOT_SERIAL_WRITE] = SP_MODE_WRITE,
        [DEPOT_SERIAL_READ_WRITE] = SP_MODE_READ_WRITE,
    };
    out->sp = NULL;
    out->fd = -1;
    out->device[0] = '\0';
    if (!path || !*path || strlen(path) >= PATH_MAX) {
        snprintf(err, errlen, "serial port path is empty or too long");
        return DEPOT_SERIAL_INVALID;
    }
    if (mode < DEPOT_SERIAL_READ || mode > DEPOT_SERIAL_READ_WRITE) {
        snprintf(err, errlen, "%s: invalid open mode", path);
        return DEPOT_SERIAL_INVALID;
    }
    char why[160];
    if (depot_serial_config_validate(cfg, why, sizeof why)) {
        snprintf(err, errlen, "%s: %s", path, why);
        return DEPOT_SERIAL_INVALID;
    }

    char real[PATH_MAX];
    if (!realpath(path, real)) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path,
                 e == ENOENT || e == ENOTDIR ? "not present" : strerror(e));
        return e == ENOENT || e == ENOTDIR ? DEPOT_SERIAL_ABSENT : DEPOT_SERIAL_FAILED;
    }
    if (strlen(real) >= sizeof out->device) {
        snprintf(err, errlen, "%s: device name is too long", path);
        return DEPOT_SERIAL_INVALID;
    }

    struct sp_port *sp = NULL;
    enum sp_return r = sp_get_port_by_name(real, &sp);
    if (r != SP_OK) {
        sp_reason(r, path, "lookup", err, errlen);
        return DEPOT_SERIAL_FAILED;
    }
    if ((r = sp_open(sp, modes[mode])) != SP_OK) {
        sp_reason(r, path, "open", err, errlen);
        sp_free_port(sp);
        return DEPOT_SERIAL_FAILED;
    }
    int fd = -1;
    if ((r = apply_config(sp, cfg)) != SP_OK) {
        sp_reason(r, path, "line settings", err, errlen);
        goto fail;
    }
    if ((r = sp_get_port_handle(sp, &fd)) != SP_OK) {
        sp_reason(r, path, "descriptor", err, errlen);
        goto fail;
    }
    if (fix_rtscts(fd, cfg->flow == DEPOT_SERIAL_FLOW_RTSCTS, path, err, errlen) != 0)
        goto fail;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        snprintf(err, errlen, "%s: fcntl: %s", path, strerror(errno));
        goto fail;
    }
    sp_flush(sp, SP_BUF_INPUT);
    out->sp = sp;
    out->fd = fd;
    memcpy(out->device, real, strlen(real) + 1);
    return DEPOT_SERIAL_OK;

fail:
    sp_close(sp);
    sp_free_port(sp);
    return DEPOT_SERIAL_FAILED;
}

void depot_serial_close(struct depot_serial_port *p)
{
    if (p->sp) {
        sp_close(p->sp);
        sp_free_port(p->sp);
    }
    p->sp = NULL;
    p->fd = -1;
}
