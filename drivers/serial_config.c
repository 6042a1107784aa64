/* Serial line settings: defaults, validation, the "9600,8,N,1,none" text form and the
 * names of parity and flow control (pure functions; see serial_port.h). */
#include "serial_port.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void depot_serial_config_default(struct depot_serial_config *c)
{
    c->baud = 9600;
    c->data_bits = 8;
    c->parity = DEPOT_SERIAL_PARITY_NONE;
    c->stop_bits = 1;
    c->flow = DEPOT_SERIAL_FLOW_NONE;
}

int depot_serial_config_validate(const struct depot_serial_config *c, char *err,
                                 size_t errlen)
{
    if (c->baud < 50 || c->baud > 4000000) {
        snprintf(err, errlen, "baud %d is out of range 50..4000000", c->baud);
        return -1;
    }
    if (c->data_bits < 5 || c->data_bits > 8) {
        snprintf(err, errlen, "data bits %d is out of range 5..8", c->data_bits);
        return -1;
    }
    if (c->stop_bits != 1 && c->stop_bits != 2) {
        snprintf(err, errlen, "stop bits must be 1 or 2, not %d", c->stop_bits);
        return -1;
    }
    if (c->parity < DEPOT_SERIAL_PARITY_NONE || c->parity > DEPOT_SERIAL_PARITY_EVEN) {
        snprintf(err, errlen, "unknown parity");
        return -1;
    }
    if (c->flow < DEPOT_SERIAL_FLOW_NONE || c->flow > DEPOT_SERIAL_FLOW_RTSCTS) {
        snprintf(err, errlen, "unknown flow control");
        return -1;
    }
    return 0;
}

int depot_serial_parity_parse(const char *s, enum depot_serial_parity *out)
{
    if (!strcasecmp(s, "N") || !strcasecmp(s, "none"))
        *out = DEPOT_SERIAL_PARITY_NONE;
    else if (!strcasecmp(s, "O") || !strcasecmp(s, "odd"))
        *out = DEPOT_SERIAL_PARITY_ODD;
    else if (!strcasecmp(s, "E") || !strcasecmp(s, "even"))
        *out = DEPOT_SERIAL_PARITY_EVEN;
    else
        return -1;
    return 0;
}

int depot_serial_flow_parse(const char *s, enum depot_serial_flow *out)
{
    if (!strcasecmp(s, "none"))
        *out = DEPOT_SERIAL_FLOW_NONE;
    else if (!strcasecmp(s, "xonxoff"))
        *out = DEPOT_SERIAL_FLOW_XONXOFF;
    else if (!strcasecmp(s, "rtscts"))
        *out = DEPOT_SERIAL_FLOW_RTSCTS;
    else
        return -1;
    return 0;
}

const char *depot_serial_parity_name(enum depot_serial_parity p)
{
    switch (p) {
    case DEPOT_SERIAL_PARITY_ODD: return "O";
    case DEPOT_SERIAL_PARITY_EVEN: return "E";
    default: return "N";
    }
}

const char *depot_serial_flow_name(enum depot_serial_flow f)
{
    switch (f) {
    case DEPOT_SERIAL_FLOW_XONXOFF: return "xonxoff";
    case DEPOT_SERIAL_FLOW_RTSCTS: return "rtscts";
    default: return "none";
    }
}

/* A decimal field of the text form: digits only, no sign, no overflow. */
static int parse_uint_field(const char *s, int *out)
{
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (errno || *end || v > 100000000)
        return -1;
    *out = (int)v;
    return 0;
}

int depot_serial_config_parse(const char *text, struct depot_serial_config *c, char *err,
                              size_t errlen)
{
    static const char *const field_names[] = {"baud", "data bits", "parity", "stop bits",
                                               "flow control"};
    char buf[64];
    if (!text || !*text) {
        snprintf(err, errlen, "empty serial settings");
        return -1;
    }
    if (strlen(text) >= sizeof buf) {
        snprintf(err, errlen, "serial settings are too long");
        return -1;
    }
    memcpy(buf, text, strlen(text) + 1);

    struct depot_serial_config nc;
    depot_serial_config_default(&nc);
    char *rest = buf;
    for (int i = 0; rest; i++) {
        char *field = strsep(&rest, ",");
        if (i >= 5) {
            snprintf(err, errlen, "too many fields in serial settings \"%s\" "
                     "(want BAUD,BITS,PARITY,STOP,FLOW)", text);
            return -1;
        }
        int bad;
        switch (i) {
        case 0: bad = parse_uint_field(field, &nc.baud); break;
        case 1: bad = parse_uint_field(field, &nc.data_bits); break;
        case 2: bad = depot_serial_parity_parse(field, &nc.parity); break;
        case 3: bad = parse_uint_field(field, &nc.stop_bits); break;
        default: bad = depot_serial_flow_parse(field, &nc.flow); break;
        }
        if (bad) {
            snprintf(err, errlen, "invalid %s \"%.16s\" in serial settings", field_names[i],
                     field);
            return -1;
        }
    }
    if (depot_serial_config_validate(&nc, err, errlen))
        return -1;
    *c = nc;
    return 0;
}

char *depot_serial_config_format(const struct depot_serial_config *c, char *buf,
                                 size_t len)
{
    snprintf(buf, len, "%d,%d,%s,%d,%s", c->baud, c->data_bits,
             depot_serial_parity_name(c->parity), c->stop_bits,
             depot_serial_flow_name(c->flow));
    return buf;
}
