/* depotd, Depot's daemon: resolve the configuration, start up, run the loop until SIGTERM
 * or SIGINT, shut down cleanly. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "config.h"
#include "datadir.h"
#include "log.h"
#include "master_key.h"
#include "notify.h"
#include "signals.h"
#include "store.h"

/* Rationale: one thread, one poll() on a signalfd with a timeout that is the nearest
 * timer (reservation expiry, systemd watchdog). A signal is only acted on between steps,
 * so SIGTERM never interrupts a store operation. When the libwebsockets server arrives,
 * lws_service() takes poll()'s place and the timers become lws_sul callbacks. */

#define ERRLEN (PATH_MAX + 256)

struct depotd {
    int argc;
    char **argv;
    struct depot_config cfg;
    int sig_fd;
    int lock_fd;
    depot_store *store;
    uint8_t master_key[DEPOT_MASTER_KEY_LEN];
    int stop_signal; /* SIGTERM or SIGINT once received */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void apply_logging(const struct depot_config *cfg)
{
    depot_log_setup("depotd", (enum depot_log_level)cfg->log_level,
                    (enum depot_log_format)cfg->log_format);
}

/* The steps of start-up log their own failure and return -1. */

static int prepare_data_dir(struct depotd *d)
{
    char err[ERRLEN];
    if (depot_datadir_prepare(d->cfg.data_dir, err, sizeof err) != 0 ||
        (d->lock_fd = depot_datadir_lock(d->cfg.data_dir, err, sizeof err)) < 0) {
        depot_log(DEPOT_LOG_ERROR, "depotd", "%s", err);
        return -1;
    }
    return 0;
}

static int open_store(struct depotd *d)
{
    char path[PATH_MAX], err[ERRLEN];
    struct depot_store_options opt = {.busy_timeout_ms = d->cfg.busy_timeout_ms};
    if (depot_datadir_path(d->cfg.data_dir, "depot.db", path, sizeof path, err,
                           sizeof err) != 0) {
        depot_log(DEPOT_LOG_ERROR, "depotd", "%s", err);
        return -1;
    }
    if (depot_store_open(path, &opt, &d->store, err, sizeof err) != DEPOT_OK) {
        depot_log(DEPOT_LOG_ERROR, "depotd", "cannot open database %s: %s", path, err);
        return -1;
    }
    return 0;
}

static int load_master_key(struct depotd *d, char *source, size_t sourcelen)
{
    char err[ERRLEN];
    int allow_generate = d->cfg.demo || d->cfg.in_checkout;
    if (depot_master_key_load(d->cfg.data_dir, allow_generate, d->master_key, source,
                              sourcelen, err, sizeof err) != DEPOT_OK) {
        depot_log(DEPOT_LOG_ERROR, "depotd", "master key: %s", err);
        return -1;
    }
    if (strncmp(source, DEPOT_MASTER_KEY_SOURCE_DEV,
                strlen(DEPOT_MASTER_KEY_SOURCE_DEV)) == 0)
        depot_log_kv(DEPOT_LOG_WARN, "depotd", DEPOT_KV({"master_key", source}),
                     "WARNING: using the DEVELOPMENT master key from the %s: anyone who can "
                     "read the data dir can decrypt the stored secrets. In production use "
                     "the systemd credential '%s' or %s", source,
                     DEPOT_MASTER_KEY_CREDENTIAL, DEPOT_MASTER_KEY_ENV);
    return 0;
}

/* Data dir, lock, store, master key; then ready. Returns -1 if a step failed. */
static int start(struct depotd *d)
{
    char source[PATH_MAX + 64], listen[300], schema[16];
    const struct depot_config *cfg = &d->cfg;
    if (prepare_data_dir(d) != 0 || open_store(d) != 0 ||
        load_master_key(d, source, sizeof source) != 0)
        return -1;
    depot_hostport_format(&cfg->listen, listen, sizeof listen);
    snprintf(schema, sizeof schema, "%d", depot_store_schema_version(d->store));
    depot_log_kv(DEPOT_LOG_INFO, "depotd",
                 DEPOT_KV({"version", DEPOT_VERSION}, {"data_dir", cfg->data_dir},
                          {"listen", listen}, {"schema_version", schema},
                          {"config_file", cfg->file}),
                 "started depotd %s: data dir %s, listen %s, schema version %s",
                 DEPOT_VERSION, cfg->data_dir, listen, schema);
    depot_notify_ready("running");
    return 0;
}

/* One expiry pass. Returns how many reservations expired. */
static int expire_reservations(struct depotd *d)
{
    int n = 0;
    depot_err e = depot_reservations_expire(d->store, (int64_t)time(NULL), "system:expiry", &n);
    if (e != DEPOT_OK) {
        depot_log(e == DEPOT_E_BUSY ? DEPOT_LOG_WARN : DEPOT_LOG_ERROR, "expiry",
                  "expiry pass failed, will retry: %s", depot_store_errmsg(d->store));
        return 0;
    }
    if (n > 0) {
        char count[16];
        snprintf(count, sizeof count, "%d", n);
        depot_log_kv(DEPOT_LOG_INFO, "expiry", DEPOT_KV({"expired", count}),
                     "expired %d reservation(s)", n);
    } else {
        depot_log(DEPOT_LOG_DEBUG, "expiry", "no reservations due");
    }
    return n;
}

static void reload(struct depotd *d)
{
    depot_log(DEPOT_LOG_INFO, "depotd", "SIGHUP: reloading the configuration");
    depot_notify_reloading();
    if (depot_config_reload(&d->cfg, d->argc, d->argv) == 0) {
        apply_logging(&d->cfg);
        depot_log(DEPOT_LOG_INFO, "depotd", "configuration reloaded");
    }
    depot_notify_ready("running");
}

/* Waits up to timeout_ms for signals and acts on them. */
static void wait_for_signals(struct depotd *d, int64_t timeout_ms)
{
    struct pollfd p = {.fd = d->sig_fd, .events = POLLIN};
    int timeout = timeout_ms < 0 ? 0 : timeout_ms > INT_MAX ? INT_MAX : (int)timeout_ms;
    if (poll(&p, 1, timeout) <= 0)
        return; /* timed out (EINTR cannot happen: our signals are blocked) */
    for (int sig; (sig = depot_signals_next(d->sig_fd)) != 0;) {
        if (sig == SIGHUP)
            reload(d);
        else
            d->stop_signal = sig;
    }
}

static void run(struct depotd *d)
{
    int64_t watchdog = depot_notify_watchdog_interval_ms();
    int64_t next_watchdog = now_ms() + watchdog, last_expiry = 0;
    int expire_now = 1; /* at start-up, and again at once while a pass finds work */
    while (!d->stop_signal) {
        int64_t now = now_ms(), interval = (int64_t)d->cfg.expiry_interval * 1000;
        if (expire_now || now - last_expiry >= interval) {
            expire_now = expire_reservations(d) > 0;
            last_expiry = now;
        }
        if (watchdog && now >= next_watchdog) {
            depot_notify_watchdog();
            next_watchdog = now + watchdog;
        }
        int64_t deadline = expire_now ? now : last_expiry + interval;
        if (watchdog && next_watchdog < deadline)
            deadline = next_watchdog;
        wait_for_signals(d, deadline - now_ms());
    }
    const char *sig = sigabbrev_np(d->stop_signal);
    depot_log_kv(DEPOT_LOG_INFO, "depotd", DEPOT_KV({"signal", sig}), "SIG%s: stopping", sig);
}

static void shutdown_daemon(struct depotd *d)
{
    depot_notify_stopping();
    depot_store_close(d->store);
    explicit_bzero(d->master_key, sizeof d->master_key);
    if (d->lock_fd >= 0)
        close(d->lock_fd);
    close(d->sig_fd);
}

int main(int argc, char **argv)
{
    struct depotd d = {.argc = argc, .argv = argv, .lock_fd = -1};
    char err[ERRLEN];

    d.sig_fd = depot_signals_open(); /* first: before any thread exists */
    if (d.sig_fd < 0) {
        fprintf(stderr, "depotd: cannot set up signal handling: %s\n", strerror(errno));
        return 1;
    }
    switch (depot_config_load(&d.cfg, argc, argv, err, sizeof err)) {
    case DEPOT_CONFIG_HELP:
        depot_config_usage(stdout, "depotd");
        return 0;
    case DEPOT_CONFIG_VERSION:
        printf("depotd %s\n", DEPOT_VERSION);
        return 0;
    case DEPOT_CONFIG_ERROR:
        fprintf(stderr, "depotd: %s\n", err);
        return 2;
    case DEPOT_CONFIG_RUN:
        break;
    }
    apply_logging(&d.cfg);
    depot_config_log(&d.cfg);

    int rc = 1;
    if (start(&d) == 0) {
        run(&d);
        rc = 0;
    }
    shutdown_daemon(&d);
    if (rc == 0)
        depot_log(DEPOT_LOG_INFO, "depotd", "stopped");
    return rc;
}
