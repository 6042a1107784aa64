/* ISO 8601 / RFC 3339 timestamps as channels send them ("2024-01-10T11:00:00-05:00",
 * "2023-03-29T18:00:27.877041743Z", WooCommerce's zone-less GMT "2017-03-22T16:28:08")
 * to unix milliseconds. */
#include <ctype.h>
#include <string.h>
#include <time.h>
#include "inbound.h"

/* n digits at s into *v; -1 if any is not a digit. */
static int digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        *v = *v * 10 + (s[i] - '0');
    }
    return 0;
}

int depot_time_parse_iso8601(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, sec, oh = 0, om = 0;
    if (!s || strlen(s) < 19 || strlen(s) > 64 || digits(s, 4, &y) || s[4] != '-' ||
        digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d) ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    const char *p = s + 19;
    int frac_ms = 0, scale = 100;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        for (; isdigit((unsigned char)*p); p++, scale /= 10)
            frac_ms += scale > 0 ? (*p - '0') * scale : 0;
    }
    int sign = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 ||
            om > 59)
            return -1;
        p += 6;
    }
    if (*p)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                    .tm_min = mi, .tm_sec = sec};
    int64_t t = (int64_t)timegm(&tm) - (int64_t)sign * (oh * 3600 + om * 60);
    *ms = t * 1000 + frac_ms;
    return 0;
}
