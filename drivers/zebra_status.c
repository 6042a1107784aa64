/* Parsing of Zebra ~HS host status replies (see zebra_status.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "zebra_status.h"

/* Rationale: the ZPL II guide gives string 1 as aaa,b,c,dddd,eee,f,g,h,iii,j,k,l (b paper
 * out, c pause, f buffer full), string 2 as mmm,n,o,p,q,r,s,t,uuuuuuuu,v,www (o head up,
 * p ribbon out) and string 3 as xxxx,y. Older firmware sends fewer trailing fields, so
 * only the fields up to the last one read are required; every field must be digits. */

#define STX 0x02
#define ETX 0x03
#define MAX_FIELDS 16

static const size_t min_fields[3] = {8, 4, 1};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Splits the body of one string (p, n bytes) into fields of digits; returns the count,
 * or -1 if a field is empty, not digits, or there are too many. Each field's value is
 * its first digit's value when it is a one-digit flag, else -1 (not a flag). */
static int split(const char *p, size_t n, int flags[MAX_FIELDS])
{
    int count = 0;
    size_t i = 0;
    for (;;) {
        size_t start = i;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i == start || count == MAX_FIELDS)
            return -1;
        flags[count++] = (i - start == 1 && p[start] <= '1') ? p[start] - '0' : -1;
        if (i == n)
            return count;
        if (p[i++] != ',')
            return -1;
    }
}

int depot_zebra_status_parse(const char *reply, size_t len, struct depot_zebra_status *out,
                             char *err, size_t errlen)
{
    int f[3][MAX_FIELDS];
    size_t pos = 0;
    *out = (struct depot_zebra_status){0};
    if (len > DEPOT_ZEBRA_HS_MAX)
        return fail(err, errlen, "~HS reply longer than %d bytes", DEPOT_ZEBRA_HS_MAX);
    for (int s = 0; s < 3; s++) {
        if (pos >= len)
            return fail(err, errlen, "~HS reply incomplete: %d of 3 strings", s);
        if (reply[pos] != STX)
            return fail(err, errlen, "~HS string %d does not start with STX", s + 1);
        const char *body = reply + pos + 1;
        const char *etx = memchr(body, ETX, len - pos - 1);
        if (!etx)
            return fail(err, errlen, "~HS string %d incomplete: no ETX", s + 1);
        size_t after = (size_t)(etx - reply) + 1;
        if (after + 2 > len || reply[after] != '\r' || reply[after + 1] != '\n')
            return fail(err, errlen, "~HS string %d incomplete: no CR LF after ETX", s + 1);
        int n = split(body, (size_t)(etx - body), f[s]);
        if (n < 0 || (size_t)n < min_fields[s])
            return fail(err, errlen, "~HS string %d malformed", s + 1);
        pos = after + 2;
    }
    if (pos != len)
        return fail(err, errlen, "~HS reply has %zu bytes after string 3", len - pos);
    /* Fields are 1-based in the guide: string 1 b, c, f; string 2 o, p. */
    const int need[5][2] = {{0, 1}, {0, 2}, {0, 5}, {1, 2}, {1, 3}};
    int v[5];
    for (int i = 0; i < 5; i++) {
        v[i] = f[need[i][0]][need[i][1]];
        if (v[i] < 0)
            return fail(err, errlen, "~HS string %d field %d is not a 0/1 flag",
                        need[i][0] + 1, need[i][1] + 1);
    }
    *out = (struct depot_zebra_status){.paper_out = v[0], .paused = v[1],
                                       .buffer_full = v[2], .head_open = v[3],
                                       .ribbon_out = v[4]};
    return 0;
}

int depot_zebra_status_ready(const struct depot_zebra_status *s)
{
    return !s->paper_out && !s->paused && !s->buffer_full && !s->head_open &&
           !s->ribbon_out;
}
