/* depotd, Depot's daemon: resolve the configuration, start up, run the loop until SIGTERM
 * or SIGINT, shut down cleanly. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "config.h"
#include "datadir.h"
#include "devices_hook.h"
#include "inbox_worker.h"
#include "log.h"
#include "master_key.h"
#include "notify.h"
#include "print_worker.h"
#include "printers_view.h"
#include "scanners.h"
#include "signals.h"
#include "store.h"
#include "sync.h"
#include "carrier_worker.h"
#include "token_keeper.h"
#include "web.h"
#include "web_sync.h"

/* Rationale: one thread runs libwebsockets' loop (lws_service): HTTP and WebSocket
 * connections, the signalfd (adopted as a raw descriptor), and timers for reservation
 * expiry and the systemd watchdog. A signal is handled between callbacks, so SIGTERM
 * never interrupts a store operation; the loop ends after the callback that saw it. */

#define ERRLEN (PATH_MAX + 256)

struct depotd {
    int argc;
    char **argv;
    struct depot_config cfg;
    int sig_fd;
    int lock_fd;
    depot_store *store;
    struct depot_web *web;
    struct depot_sync *sync; /* the outbound sync worker thread */
    struct depot_inbox_worker *inbox; /* the inbound (webhook inbox) worker thread */
    struct depot_scanners *scanners;
    struct depot_print_worker *print; /* the print worker threads */
    struct depot_token_keeper *tokens; /* refreshes expiring OAuth tokens ahead of time */
    struct depot_carrier_worker *carriers; /* label requests, tracking, carrier breakers */
    struct depot_timer expiry_timer;
    struct depot_timer watchdog_timer;
    uint8_t master_key[DEPOT_MASTER_KEY_LEN];
    int stop_signal; /* SIGTERM or SIGINT once received */
};

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

static int start_web(struct depotd *d)
{
    const struct depot_config *cfg = &d->cfg;
    struct depot_web_config w = {
        .listen_port = cfg->listen.port,
        .tls = cfg->tls,
        .max_body_bytes = (size_t)cfg->max_body_bytes,
        .max_upload_bytes = (size_t)cfg->max_upload_bytes,
        .rate_per_ip = cfg->rate_limit,
        .rate_burst = cfg->rate_burst,
        .session_ttl = cfg->session_ttl,
        .request_timeout = cfg->request_timeout,
        .webhook_stale_after = cfg->webhook_stale_after,
    };
    char path[PATH_MAX], err[ERRLEN];
    memcpy(w.master_key, d->master_key, sizeof w.master_key);
    snprintf(w.listen_host, sizeof w.listen_host, "%s", cfg->listen.host);
    snprintf(w.ui_dir, sizeof w.ui_dir, "%s", cfg->ui_dir);
    snprintf(w.data_dir, sizeof w.data_dir, "%s", cfg->data_dir);
    snprintf(w.tls_cert, sizeof w.tls_cert, "%s", cfg->tls_cert);
    snprintf(w.tls_key, sizeof w.tls_key, "%s", cfg->tls_key);
    if (depot_datadir_path(cfg->data_dir, "depot.db", path, sizeof path, err,
                           sizeof err) != 0 ||
        !(d->web = depot_web_start(&w, path, err, sizeof err))) {
        explicit_bzero(w.master_key, sizeof w.master_key);
        depot_log(DEPOT_LOG_ERROR, "depotd", "%s", err);
        return -1;
    }
    explicit_bzero(w.master_key, sizeof w.master_key);
    return 0;
}

static void publish_sync_event(void *user, const char *type, cJSON *data);

/* The inbox worker: webhook deliveries to orders, on its own thread and connection. */
static int start_inbox(struct depotd *d)
{
    struct depot_inbox_config ic;
    char path[PATH_MAX], err[ERRLEN];
    depot_inbox_config_defaults(&ic);
    ic.max_attempts = d->cfg.inbox_max_attempts;
    ic.retention_days = d->cfg.inbox_retention_days;
    ic.publish = publish_sync_event;
    ic.publish_user = d;
    if (depot_datadir_path(d->cfg.data_dir, "depot.db", path, sizeof path, err,
                           sizeof err) != 0 ||
        !(d->inbox = depot_inbox_worker_start(&ic, path, err, sizeof err))) {
        depot_log(DEPOT_LOG_ERROR, "depotd", "%s", err);
        return -1;
    }
    return 0;
}

/* The outbound sync worker: its own thread and store connection; its events go to the
 * WebSocket clients, its state to the API and /metrics. */
static void publish_sync_event(void *user, const char *type, cJSON *data)
{
    struct depotd *d = user;
    depot_web_publish(d->web, type, data);
}

static cJSON *sync_status(void *user)
{
    return depot_sync_status_json(user);
}

static char *sync_metrics(void *user)
{
    return depot_sync_metrics_text(user);
}

static int start_sync(struct depotd *d)
{
    const struct depot_config *cfg = &d->cfg;
    struct depot_sync_config sc = {
        .max_attempts = cfg->sync_max_attempts,
        .concurrency = cfg->sync_concurrency,
        .retry_base_ms = cfg->sync_retry_base_ms,
        .retry_max_ms = cfg->sync_retry_max_ms,
        .http_timeout_ms = cfg->sync_http_timeout_ms,
        .breaker_threshold = cfg->sync_breaker_threshold,
        .breaker_cooldown_ms = cfg->sync_breaker_cooldown_ms,
        .shutdown_grace_ms = cfg->sync_http_timeout_ms,
        .poll_ms = 200,
        .backstop_interval_s = cfg->sync_backstop_interval,
        .publish = publish_sync_event,
        .publish_user = d,
    };
    char path[PATH_MAX], err[ERRLEN];
    if (depot_datadir_path(cfg->data_dir, "depot.db", path, sizeof path, err,
                           sizeof err) != 0 ||
        !(d->sync = depot_sync_start(&sc, path, d->master_key, err, sizeof err))) {
        depot_log(DEPOT_LOG_ERROR, "depotd", "%s", err);
        return -1;
    }
    struct depot_web_sync_source src = {sync_status, sync_metrics, d->sync};
    depot_web_set_sync_source(&src);
    return 0;
}

/* In-flight calls finish (bounded by the HTTP timeout); the rest stays due. */
static void stop_sync(struct depotd *d)
{
    if (!d->sync)
        return;
    depot_web_set_sync_source(NULL);
    depot_sync_stop(d->sync);
    d->sync = NULL;
}

/* The print worker: one thread per enabled printer, each with its own store connection;
 * printer state changes become "device" events. */
static void publish_device_event(void *user, cJSON *data)
{
    struct depotd *d = user;
    depot_web_publish(d->web, "device", data);
}

static int start_print(struct depotd *d)
{
    char path[PATH_MAX], err[ERRLEN];
    if (depot_datadir_path(d->cfg.data_dir, "depot.db", path, sizeof path, err,
                           sizeof err) != 0 ||
        !(d->print = depot_print_worker_start(path, d->cfg.busy_timeout_ms,
                                              publish_device_event, d, err, sizeof err))) {
        depot_log(DEPOT_LOG_ERROR, "depotd", "%s", err);
        return -1;
    }
    depot_devices_provide("printers", web_printers_provider, d->store);
    return 0;
}

/* The token keeper (OAuth tokens refreshed ahead of expiry) and the carrier worker
 * (label requests, tracking polls, one circuit breaker per carrier). */
static int start_tokens(struct depotd *d)
{
    char path[PATH_MAX], err[ERRLEN];
    if (depot_datadir_path(d->cfg.data_dir, "depot.db", path, sizeof path, err,
                           sizeof err) != 0 ||
        !(d->tokens = depot_token_keeper_start(path, d->master_key, err, sizeof err))) {
        depot_log(DEPOT_LOG_ERROR, "depotd", "%s", err);
        return -1;
    }
    struct depot_carrier_worker_config cc = {
        .poll_ms = 1000,
        .track_interval_s = 1800,
        .track_batch = 10,
        .breaker_threshold = d->cfg.sync_breaker_threshold,
        .breaker_cooldown_ms = d->cfg.sync_breaker_cooldown_ms,
        .publish = publish_sync_event,
        .publish_user = d,
    };
    if (!(d->carriers = depot_carrier_worker_start(&cc, path, d->master_key, err, sizeof err))) {
        depot_log(DEPOT_LOG_ERROR, "depotd", "%s", err);
        return -1;
    }
    return 0;
}

static void on_signal(void *user);
static void on_signal_fd_closed(void *user);
static void expiry_tick(struct depot_timer *t);
static void watchdog_tick(struct depot_timer *t);

/* Signals and timers join the loop. */
static int attach_to_loop(struct depotd *d)
{
    static const struct depot_loop_fd_ops signal_ops = {on_signal, on_signal_fd_closed};
    if (depot_loop_adopt_fd(d->web, d->sig_fd, &signal_ops, d) != 0) {
        depot_log(DEPOT_LOG_ERROR, "depotd", "cannot watch signals on the event loop");
        return -1;
    }
    d->expiry_timer.fn = expiry_tick;
    d->expiry_timer.user = d;
    depot_loop_timer(d->web, &d->expiry_timer, 0); /* a first pass at start-up */
    if (depot_notify_watchdog_interval_ms() > 0) {
        d->watchdog_timer.fn = watchdog_tick;
        d->watchdog_timer.user = d;
        depot_loop_timer(d->web, &d->watchdog_timer, 0);
    }
    return 0;
}

/* Data dir, lock, store, master key, web server; then ready. Returns -1 if a step failed. */
static int start(struct depotd *d)
{
    char source[PATH_MAX + 64], listen[300], schema[16];
    const struct depot_config *cfg = &d->cfg;
    if (prepare_data_dir(d) != 0 || open_store(d) != 0 ||
        load_master_key(d, source, sizeof source) != 0 || start_web(d) != 0 ||
        attach_to_loop(d) != 0 || !(d->scanners = depot_scanners_start(d->web, d->store)))
        return -1;
    if (start_sync(d) != 0 || start_inbox(d) != 0 || start_print(d) != 0 ||
        start_tokens(d) != 0)
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
    depot_scanners_reload(d->scanners);
    depot_notify_ready("running");
}

static void on_signal(void *user)
{
    struct depotd *d = user;
    for (int sig; (sig = depot_signals_next(d->sig_fd)) != 0;) {
        if (sig == SIGHUP)
            reload(d);
        else
            d->stop_signal = sig;
    }
}

static void on_signal_fd_closed(void *user)
{
    struct depotd *d = user;
    d->sig_fd = -1; /* the loop closed it */
    if (!d->stop_signal) {
        depot_log(DEPOT_LOG_ERROR, "depotd", "signal descriptor closed; stopping");
        d->stop_signal = SIGTERM;
    }
}

/* Expires overdue reservations and login sessions; runs again at once while a pass finds
 * reservations to expire. */
static void expiry_tick(struct depot_timer *t)
{
    struct depotd *d = t->user;
    if (depot_sessions_purge(d->store, (int64_t)time(NULL), NULL) != DEPOT_OK)
        depot_log(DEPOT_LOG_WARN, "expiry", "session purge failed, will retry: %s",
                  depot_store_errmsg(d->store));
    int64_t next = expire_reservations(d) > 0 ? 0 : (int64_t)d->cfg.expiry_interval * 1000;
    depot_loop_timer(d->web, t, next);
}

/* A stuck loop stops pinging, and systemd restarts us. */
static void watchdog_tick(struct depot_timer *t)
{
    struct depotd *d = t->user;
    depot_notify_watchdog();
    depot_loop_timer(d->web, t, depot_notify_watchdog_interval_ms());
}

static void run(struct depotd *d)
{
    while (!d->stop_signal) {
        if (depot_web_service(d->web) < 0) {
            depot_log(DEPOT_LOG_ERROR, "depotd", "event loop failed; stopping");
            d->stop_signal = SIGTERM;
        }
    }
    const char *sig = sigabbrev_np(d->stop_signal);
    depot_log_kv(DEPOT_LOG_INFO, "depotd", DEPOT_KV({"signal", sig}), "SIG%s: stopping", sig);
}

static void shutdown_daemon(struct depotd *d)
{
    depot_notify_stopping();
    depot_inbox_worker_stop(d->inbox); /* finishes the delivery in hand */
    stop_sync(d); /* before the web server: it publishes to WebSocket clients */
    depot_token_keeper_stop(d->tokens);
    depot_carrier_worker_stop(d->carriers); /* publishes */
    depot_scanners_stop(d->scanners);
    depot_devices_provide("printers", NULL, NULL);
    depot_print_worker_stop(d->print); /* finishes the job being written; publishes */
    if (d->web) {
        depot_loop_timer_cancel(d->web, &d->expiry_timer);
        depot_loop_timer_cancel(d->web, &d->watchdog_timer);
        depot_web_stop(d->web); /* closes the adopted signal descriptor too */
    } else if (d->sig_fd >= 0) {
        close(d->sig_fd);
    }
    depot_store_close(d->store);
    explicit_bzero(d->master_key, sizeof d->master_key);
    if (d->lock_fd >= 0)
        close(d->lock_fd);
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
    if (depot_http_trust_file(d.cfg.upstream_ca_file, err, sizeof err) != 0) {
        depot_log(DEPOT_LOG_ERROR, "depotd", "%s", err);
        return 2;
    }

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
