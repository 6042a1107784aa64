/* depotd's configuration: the option values, and how they are resolved (defaults < config
 * file < environment < command line) at start-up and again on SIGHUP. */
#ifndef DEPOT_CONFIG_H
#define DEPOT_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include "log.h"

#define DEPOT_CONFIG_MAX_OPTIONS 32

struct depot_hostport {
    char host[254]; /* IPv4 or IPv6 literal (no brackets), or a DNS name */
    int port;       /* 1..65535 */
};

/* Where an option's value came from. */
enum depot_config_source {
    DEPOT_SRC_DEFAULT,
    DEPOT_SRC_FILE,
    DEPOT_SRC_ENV,
    DEPOT_SRC_FLAG,
};

struct depot_config {
    char data_dir[PATH_MAX];
    struct depot_hostport listen;
    int log_level;       /* enum depot_log_level */
    int log_format;      /* enum depot_log_format */
    int reservation_ttl; /* seconds a reservation is held; 0 = never expires */
    int expiry_interval; /* seconds between passes that expire reservations */
    int busy_timeout_ms; /* how long SQLite waits for a lock */
    int demo;            /* allow a development master key in the data dir */
    char ui_dir[PATH_MAX];   /* static UI files */
    int tls;                 /* serve HTTPS */
    char tls_cert[PATH_MAX]; /* "" = generate a self-signed pair in the data dir */
    char tls_key[PATH_MAX];
    char upstream_ca_file[PATH_MAX]; /* outbound HTTPS trusts these CAs ("": the system's) */
    int max_body_bytes;      /* API and webhook bodies */
    int max_upload_bytes;    /* CSV uploads */
    int rate_limit;          /* requests per second per client IP */
    int rate_burst;
    int session_ttl;         /* seconds */
    int request_timeout;     /* seconds for headers and body */
    int sync_max_attempts;       /* outbound: failed attempts before a dead letter */
    int sync_concurrency;        /* outbound: calls in flight per channel */
    int sync_retry_base_ms;      /* outbound: backoff start and cap */
    int sync_retry_max_ms;
    int sync_http_timeout_ms;    /* outbound: one call; also the SIGTERM grace */
    int sync_breaker_threshold;  /* outbound: consecutive failures that open a circuit */
    int sync_breaker_cooldown_ms;
    int sync_backstop_interval;  /* outbound: seconds between pulls of recent orders */
    int webhook_stale_after;     /* inbound: seconds before a delivery is flagged stale */
    int inbox_max_attempts;      /* inbound: failed attempts before a dead letter */
    int inbox_retention_days;    /* inbound: days processed deliveries are kept (0 = all) */

    char file[PATH_MAX]; /* the config file read ("" if none) */
    int in_checkout;     /* the binary runs from a build tree, not an installation */
    unsigned char source[DEPOT_CONFIG_MAX_OPTIONS]; /* enum depot_config_source per option */
};

enum depot_config_status {
    DEPOT_CONFIG_RUN,     /* cfg is complete: start */
    DEPOT_CONFIG_HELP,    /* --help was given: print depot_config_usage(), exit 0 */
    DEPOT_CONFIG_VERSION, /* --version was given: print the version, exit 0 */
    DEPOT_CONFIG_ERROR,   /* err holds a one-line reason, e.g. "config FILE:LINE: ..." */
};

/* Resolves every option from argv (--data-dir, --listen, --config, --demo, --help,
 * --version), the environment (DEPOT_DATA_DIR, DEPOT_LISTEN, DEPOT_CONFIG), the config
 * file and the defaults. Does not print; argv is not modified. */
enum depot_config_status depot_config_load(struct depot_config *cfg, int argc,
                                           char *const argv[], char *err, size_t errlen);

/* Resolves the configuration again (same argv and environment, config file re-read).
 * Changed reloadable options are copied into cfg and logged; other changes are logged as
 * needing a restart. On an error cfg is unchanged, the reason is logged and -1 returned. */
int depot_config_reload(struct depot_config *cfg, int argc, char *const argv[]);

/* Logs every option with its value and source at debug level. */
void depot_config_log(const struct depot_config *cfg);

/* Prints --help: the flags and every option with its default and help line. */
void depot_config_usage(FILE *out, const char *prog);

/* The default data dir: ./var for a binary inside a build tree, /var/lib/depot when
 * installed. depotctl uses it so both programs find the same database. */
const char *depot_config_default_data_dir(void);
/* 1 if this binary runs from a CMake build tree (a checkout), else 0 (installed). */
int depot_config_in_checkout(void);

/* "host:port", or "[v6addr]:port" for an IPv6 literal. */
void depot_hostport_format(const struct depot_hostport *hp, char *buf, size_t len);

#endif
