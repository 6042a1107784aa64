/* The monotonic clock, for intervals, timeouts and cache ages (never for wall time: it
 * does not jump when the clock is set). Shared by the store, the web server and the
 * worker threads. */
#ifndef DEPOT_MONOTONIC_H
#define DEPOT_MONOTONIC_H

#include <stdint.h>
#include <time.h>

static inline int64_t depot_monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline int64_t depot_monotonic_ms(void)
{
    return depot_monotonic_us() / 1000;
}

#endif
