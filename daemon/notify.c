/* sd_notify wrappers; compiled to no-ops without DEPOT_WITH_SYSTEMD. */
#include <time.h>
#ifdef DEPOT_WITH_SYSTEMD
#include <systemd/sd-daemon.h>
#endif
#include "notify.h"

#ifdef DEPOT_WITH_SYSTEMD
void depot_notify_ready(const char *status)
{
    sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void depot_notify_reloading(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
               (unsigned long long)ts.tv_sec * 1000000ULL +
                   (unsigned long long)ts.tv_nsec / 1000ULL);
}

void depot_notify_stopping(void)
{
    sd_notify(0, "STOPPING=1");
}

void depot_notify_watchdog(void)
{
    sd_notify(0, "WATCHDOG=1");
}

int64_t depot_notify_watchdog_interval_ms(void)
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0)
        return 0;
    int64_t ms = (int64_t)(usec / 2000);
    return ms > 0 ? ms : 1;
}
#else
void depot_notify_ready(const char *status) {}
void depot_notify_reloading(void) {}
void depot_notify_stopping(void) {}
void depot_notify_watchdog(void) {}
int64_t depot_notify_watchdog_interval_ms(void) { return 0; }
#endif
