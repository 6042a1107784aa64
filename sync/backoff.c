/* The retry policy: exponential backoff with jitter that honours the upstream's
 * Retry-After, and parsing Retry-After itself. */
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "sync_int.h"

#define RETRY_AFTER_MAX (24 * 3600)

/* Rationale: "equal jitter" keeps half of the exponential delay fixed, so a retry never
 * comes back almost at once, and spreads the other half so rows that failed together do
 * not retry together. */
int64_t sync_backoff_ms(int attempts, int base_ms, int max_ms, int retry_after_s, double rnd)
{
    if (attempts < 1)
        attempts = 1;
    int64_t delay = base_ms;
    for (int i = 1; i < attempts && delay < max_ms; i++)
        delay *= 2;
    if (delay > max_ms)
        delay = max_ms;
    if (rnd < 0 || rnd >= 1)
        rnd = 0;
    delay = delay / 2 + (int64_t)((double)(delay - delay / 2) * rnd);
    if (retry_after_s >= 0 && delay < (int64_t)retry_after_s * 1000)
        delay = (int64_t)retry_after_s * 1000;
    return delay;
}

int sync_parse_retry_after(const char *value, int64_t now)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (*value >= '0' && *value <= '9') {
        char *end;
        errno = 0;
        long v = strtol(value, &end, 10);
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
            end++;
        if (*end || errno == ERANGE)
            return -1;
        return v > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : (int)v;
    }
    time_t when = curl_getdate(value, NULL);
    if (when == -1)
        return -1;
    int64_t d = (int64_t)when - now;
    if (d < 0)
        return 0;
    return d > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : (int)d;
}
