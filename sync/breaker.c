/* The circuit breaker of one upstream endpoint: closed -> open after consecutive
 * failures -> half-open after a cooldown, where one probe decides. */
#include "sync_int.h"

const char *sync_breaker_state_name(enum sync_breaker_state s)
{
    switch (s) {
    case SYNC_BREAKER_CLOSED: return "closed";
    case SYNC_BREAKER_OPEN: return "open";
    case SYNC_BREAKER_HALF_OPEN: return "half_open";
    }
    return "unknown";
}

int sync_breaker_allow(struct sync_breaker *b, double now, double cooldown)
{
    switch (b->state) {
    case SYNC_BREAKER_CLOSED:
        return 1;
    case SYNC_BREAKER_OPEN:
        if (now - b->opened_at < cooldown)
            return 0;
        b->state = SYNC_BREAKER_HALF_OPEN;
        b->probing = 1;
        return 1;
    case SYNC_BREAKER_HALF_OPEN:
        if (b->probing)
            return 0;
        b->probing = 1;
        return 1;
    }
    return 0;
}

int sync_breaker_success(struct sync_breaker *b)
{
    b->successes++;
    b->failures = 0;
    b->probing = 0;
    if (b->state == SYNC_BREAKER_CLOSED)
        return 0;
    b->state = SYNC_BREAKER_CLOSED;
    return 1;
}

int sync_breaker_failure(struct sync_breaker *b, double now, int threshold)
{
    b->errors++;
    b->failures++;
    b->probing = 0;
    if (b->state == SYNC_BREAKER_HALF_OPEN ||
        (b->state == SYNC_BREAKER_CLOSED && b->failures >= threshold)) {
        b->state = SYNC_BREAKER_OPEN;
        b->opened_at = now;
        b->opens++;
        return 1;
    }
    if (b->state == SYNC_BREAKER_OPEN)
        b->opened_at = now;
    return 0;
}

void sync_breaker_release(struct sync_breaker *b)
{
    b->probing = 0;
}
