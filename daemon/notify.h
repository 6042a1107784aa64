/* Service notifications to systemd (sd_notify): ready, reloading, stopping, watchdog.
 * Every call is a no-op when not started by systemd or built without libsystemd. */
#ifndef DEPOT_NOTIFY_H
#define DEPOT_NOTIFY_H

#include <stdint.h>

/* READY=1 with a human-readable STATUS= line. */
void depot_notify_ready(const char *status);
/* RELOADING=1 (with MONOTONIC_USEC=, as Type=notify-reload wants); send READY=1 after. */
void depot_notify_reloading(void);
void depot_notify_stopping(void);
void depot_notify_watchdog(void);

/* How often to call depot_notify_watchdog (half of WATCHDOG_USEC), in milliseconds;
 * 0 when the watchdog is off. */
int64_t depot_notify_watchdog_interval_ms(void);

#endif
