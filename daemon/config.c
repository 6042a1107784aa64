/* depotd's option table, and resolving it from flags, environment, config file, defaults. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"

/* Rationale: every option is declared once, in options[] below (as Redis's config.c
 * does): its config-file key, type, bounds, default, whether SIGHUP may change it, its
 * environment variable and flag, and its help line. Loading, --help, reloading and the
 * debug dump all walk this table. Defaults are text parsed like file values, so a bad
 * default cannot slip in. A config file is `key = value` lines; `#` starts a comment line;
 * anything unexpected is an error naming FILE:LINE. */

enum opt_type { OPT_STRING, OPT_INT, OPT_BOOL, OPT_ENUM, OPT_HOSTPORT };

struct option_def {
    const char *name;         /* key in the config file */
    enum opt_type type;
    size_t offset;            /* of the value in struct depot_config */
    size_t size;              /* of the value (the buffer size for OPT_STRING) */
    const char *def;          /* default, as config-file text; NULL: def_fn decides */
    const char *(*def_fn)(int in_checkout);
    long min, max;            /* OPT_INT bounds */
    const char *const *names; /* OPT_ENUM values, NULL-terminated */
    int reloadable;           /* SIGHUP applies a change without a restart */
    int may_be_empty;         /* OPT_STRING: "" is a valid value (means "none") */
    const char *env;          /* environment variable, or NULL */
    const char *flag;         /* long flag, or NULL */
    const char *metavar;      /* the flag's argument in --help (NULL: takes none) */
    const char *help;
};

#define FIELD(f) .offset = offsetof(struct depot_config, f), \
                 .size = sizeof(((struct depot_config *)0)->f)

static const char *default_data_dir(int in_checkout)
{
    return in_checkout ? "./var" : "/var/lib/depot";
}

static const char *default_ui_dir(int in_checkout)
{
    return in_checkout ? DEPOT_SOURCE_DIR "/web/ui" : "/usr/share/depot/ui";
}

static const struct option_def options[] = {
    {.name = "data_dir", .type = OPT_STRING, FIELD(data_dir), .def_fn = default_data_dir,
     .env = "DEPOT_DATA_DIR", .flag = "data-dir", .metavar = "DIR",
     .help = "Directory for depot.db, the lock file and (dev only) the master key"},
    {.name = "listen", .type = OPT_HOSTPORT, FIELD(listen), .def = "127.0.0.1:8080",
     .env = "DEPOT_LISTEN", .flag = "listen", .metavar = "HOST:PORT",
     .help = "Address the HTTP/WebSocket server listens on (HOST:PORT, [IPv6]:PORT)"},
    {.name = "log_level", .type = OPT_ENUM, FIELD(log_level), .def = "info",
     .names = depot_log_level_names, .reloadable = 1,
     .help = "Lowest level logged: debug, info, warn or error"},
    {.name = "log_format", .type = OPT_ENUM, FIELD(log_format), .def = "auto",
     .names = depot_log_format_names, .reloadable = 1,
     .help = "Log output: json lines on stderr, journal, or auto (journal under systemd)"},
    {.name = "reservation_ttl", .type = OPT_INT, FIELD(reservation_ttl), .def = "1800",
     .min = 0, .max = 30 * 24 * 3600, .reloadable = 1,
     .help = "Seconds a stock reservation is held before it expires (0 = never)"},
    {.name = "expiry_interval", .type = OPT_INT, FIELD(expiry_interval), .def = "30",
     .min = 1, .max = 3600, .reloadable = 1,
     .help = "Seconds between passes that expire overdue reservations"},
    {.name = "busy_timeout_ms", .type = OPT_INT, FIELD(busy_timeout_ms), .def = "5000",
     .min = 100, .max = 600000,
     .help = "Milliseconds to wait for a database lock before an operation fails"},
    {.name = "demo", .type = OPT_BOOL, FIELD(demo), .def = "false", .flag = "demo",
     .help = "Demo/development mode: allow a master key generated in the data dir"},
    {.name = "ui_dir", .type = OPT_STRING, FIELD(ui_dir), .def_fn = default_ui_dir,
     .help = "Directory of the web UI's static files"},
    {.name = "tls", .type = OPT_BOOL, FIELD(tls), .def = "false",
     .help = "Serve HTTPS; without tls_cert/tls_key a self-signed certificate is generated"},
    {.name = "tls_cert", .type = OPT_STRING, FIELD(tls_cert), .def = "", .may_be_empty = 1,
     .help = "PEM certificate file for HTTPS (empty: generated into DATA_DIR/tls/)"},
    {.name = "tls_key", .type = OPT_STRING, FIELD(tls_key), .def = "", .may_be_empty = 1,
     .help = "PEM private key file for HTTPS (empty: generated into DATA_DIR/tls/)"},
    {.name = "upstream_ca_file", .type = OPT_STRING, FIELD(upstream_ca_file), .def = "",
     .may_be_empty = 1, .env = "DEPOT_UPSTREAM_CA_FILE",
     .help = "PEM bundle of the CAs outbound HTTPS (channels, carriers) trusts (empty: the "
             "system's)"},
    {.name = "max_body_bytes", .type = OPT_INT, FIELD(max_body_bytes), .def = "1048576",
     .min = 1024, .max = 64 * 1024 * 1024,
     .help = "Largest API or webhook request body accepted (413 above)"},
    {.name = "max_upload_bytes", .type = OPT_INT, FIELD(max_upload_bytes),
     .def = "33554432", .min = 1024, .max = 256 * 1024 * 1024,
     .help = "Largest CSV upload accepted (413 above)"},
    {.name = "rate_limit", .type = OPT_INT, FIELD(rate_limit), .def = "50", .min = 1,
     .max = 1000000, .help = "Requests per second allowed per client IP (429 above)"},
    {.name = "rate_burst", .type = OPT_INT, FIELD(rate_burst), .def = "200", .min = 1,
     .max = 1000000, .help = "Requests a client IP may make in a burst above rate_limit"},
    {.name = "session_ttl", .type = OPT_INT, FIELD(session_ttl), .def = "43200", .min = 60,
     .max = 30 * 24 * 3600, .help = "Seconds a login session lasts"},
    {.name = "request_timeout", .type = OPT_INT, FIELD(request_timeout), .def = "10",
     .min = 1, .max = 300,
     .help = "Seconds a client has to send its request headers and body (slow clients)"},
    {.name = "sync_max_attempts", .type = OPT_INT, FIELD(sync_max_attempts), .def = "10",
     .min = 1, .max = 1000,
     .help = "Failed deliveries of an outbox event before it becomes a dead letter"},
    {.name = "sync_concurrency", .type = OPT_INT, FIELD(sync_concurrency), .def = "4",
     .min = 1, .max = 16, .help = "HTTP calls in flight per sales channel"},
    {.name = "sync_retry_base_ms", .type = OPT_INT, FIELD(sync_retry_base_ms), .def = "2000",
     .min = 100, .max = 600000,
     .help = "First retry delay of a failed delivery; doubles per attempt, with jitter"},
    {.name = "sync_retry_max_ms", .type = OPT_INT, FIELD(sync_retry_max_ms),
     .def = "600000", .min = 1000, .max = 86400000, .help = "Longest retry delay"},
    {.name = "sync_http_timeout_ms", .type = OPT_INT, FIELD(sync_http_timeout_ms),
     .def = "15000", .min = 500, .max = 120000,
     .help = "One call to a sales channel, connect to last byte; also how long SIGTERM "
             "lets calls in flight finish"},
    {.name = "sync_breaker_threshold", .type = OPT_INT, FIELD(sync_breaker_threshold),
     .def = "5", .min = 1, .max = 1000,
     .help = "Consecutive failures (5xx, timeouts, resets) that open an endpoint's circuit"},
    {.name = "sync_breaker_cooldown_ms", .type = OPT_INT, FIELD(sync_breaker_cooldown_ms),
     .def = "30000", .min = 100, .max = 3600000,
     .help = "How long an open circuit waits before one probe call (half-open)"},
    {.name = "sync_backstop_interval", .type = OPT_INT, FIELD(sync_backstop_interval),
     .def = "300", .min = 0, .max = 86400,
     .help = "Seconds between pulls of each channel's recently updated orders, which "
             "catch what webhooks missed (0 = never)"},
    {.name = "webhook_stale_after", .type = OPT_INT, FIELD(webhook_stale_after),
     .def = "900", .min = 1, .max = 30 * 24 * 3600,
     .help = "Seconds after which a Shopify delivery (X-Shopify-Triggered-At) is flagged "
             "stale; it never overwrites newer order state either way"},
    {.name = "inbox_max_attempts", .type = OPT_INT, FIELD(inbox_max_attempts), .def = "8",
     .min = 1, .max = 1000,
     .help = "Failed processing attempts of a webhook delivery before it becomes a dead "
             "letter (malformed payloads are dead at once)"},
    {.name = "inbox_retention_days", .type = OPT_INT, FIELD(inbox_retention_days),
     .def = "30", .min = 0, .max = 3650,
     .help = "Days a processed webhook delivery is kept in the inbox before it is pruned "
             "(failed and dead ones stay until replayed; 0 = keep all)"},
};

#define N_OPTIONS (sizeof options / sizeof options[0])
_Static_assert(N_OPTIONS <= DEPOT_CONFIG_MAX_OPTIONS, "raise DEPOT_CONFIG_MAX_OPTIONS");

static const char *const source_names[] = {"default", "config file", "environment", "flag"};

/* getopt_long codes of the flags that are not options. */
enum { FLAG_CONFIG = 1, FLAG_HELP, FLAG_VERSION, FLAG_OPTION_BASE = 256 };

/* What the command line asked for; values point into argv. */
struct cmdline {
    const char *value[N_OPTIONS];
    const char *config;
    int help, version;
};

static void *field_of(const struct option_def *o, struct depot_config *cfg)
{
    return (char *)cfg + o->offset;
}

static const void *cfield_of(const struct option_def *o, const struct depot_config *cfg)
{
    return (const char *)cfg + o->offset;
}

/* A binary inside a CMake build tree (build/bin/depotd beside build/CMakeCache.txt) is
 * running from a checkout; anywhere else it is installed. */
int depot_config_in_checkout(void)
{
    char dir[PATH_MAX], probe[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n <= 0)
        return 0;
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    static const char *const probes[] = {"CMakeCache.txt", "../CMakeCache.txt"};
    for (size_t i = 0; i < 2; i++) {
        int len = snprintf(probe, sizeof probe, "%s/%s", dir, probes[i]);
        if (len > 0 && (size_t)len < sizeof probe && access(probe, F_OK) == 0)
            return 1;
    }
    return 0;
}

/* ---- Parsing one value --------------------------------------------------------- */

static int parse_string(const char *text, char *out, size_t size, int may_be_empty,
                        char *why, size_t len)
{
    size_t n = strlen(text);
    if (n == 0 && !may_be_empty) {
        snprintf(why, len, "empty value");
        return -1;
    }
    if (n >= size) {
        snprintf(why, len, "value is too long (at most %zu bytes)", size - 1);
        return -1;
    }
    for (const char *p = text; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            snprintf(why, len, "value contains a control character");
            return -1;
        }
    }
    memcpy(out, text, n + 1);
    return 0;
}

static int parse_int(const char *text, long min, long max, int *out, char *why, size_t len)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || (*text != '-' && (*text < '0' || *text > '9'))) {
        snprintf(why, len, "invalid value '%s' (expected an integer)", text);
        return -1;
    }
    if (errno == ERANGE || v < min || v > max) {
        snprintf(why, len, "%s is out of range %ld..%ld", text, min, max);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int parse_bool(const char *text, int *out, char *why, size_t len)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(text, yes[i]) == 0 || strcmp(text, no[i]) == 0) {
            *out = strcmp(text, yes[i]) == 0;
            return 0;
        }
    }
    snprintf(why, len, "invalid value '%s' (expected true or false)", text);
    return -1;
}

static int parse_enum(const char *text, const char *const *names, int *out, char *why,
                      size_t len)
{
    for (int i = 0; names[i]; i++) {
        if (strcmp(text, names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    size_t n = (size_t)snprintf(why, len, "invalid value '%s' (expected ", text);
    for (int i = 0; names[i] && n < len; i++)
        n += (size_t)snprintf(why + n, len - n, "%s%s", i ? "|" : "", names[i]);
    if (n < len)
        snprintf(why + n, len - n, ")");
    return -1;
}

/* RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens. */
static int valid_hostname(const char *h)
{
    size_t label = 0, total = strlen(h);
    if (total == 0 || total > 253)
        return 0;
    for (const char *p = h;; p++) {
        if (*p == '.' || *p == '\0') {
            if (label == 0 || label > 63 || p[-1] == '-')
                return 0;
            if (*p == '\0')
                return 1;
            label = 0;
        } else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                   (*p >= '0' && *p <= '9') || (*p == '-' && label > 0)) {
            label++;
        } else {
            return 0;
        }
    }
}

static int parse_hostport(const char *text, struct depot_hostport *out, char *why,
                          size_t len)
{
    const char *host = text, *colon;
    size_t hostlen;
    unsigned char addr[16];
    char buf[sizeof out->host];

    if (*text == '[') {
        const char *close = strchr(text, ']');
        host = text + 1;
        hostlen = close ? (size_t)(close - host) : 0;
        colon = close ? close + 1 : NULL;
        if (!colon || *colon != ':') {
            snprintf(why, len, "invalid address '%s' (expected [IPv6]:PORT)", text);
            return -1;
        }
    } else {
        colon = strrchr(text, ':');
        if (!colon) {
            snprintf(why, len, "invalid address '%s' (expected HOST:PORT)", text);
            return -1;
        }
        hostlen = (size_t)(colon - text);
    }
    if (hostlen == 0 || hostlen >= sizeof buf) {
        snprintf(why, len, "invalid host in '%s'", text);
        return -1;
    }
    memcpy(buf, host, hostlen);
    buf[hostlen] = '\0';
    int v6 = *text == '[';
    int ok = v6 ? inet_pton(AF_INET6, buf, addr) == 1
                : inet_pton(AF_INET, buf, addr) == 1 ||
                      (strspn(buf, "0123456789.") != hostlen && valid_hostname(buf));
    if (!ok) {
        snprintf(why, len, "invalid host '%s'%s", buf,
                 !v6 && strchr(buf, ':') ? " (put IPv6 addresses in brackets)" : "");
        return -1;
    }
    const char *port = colon + 1;
    char *end;
    errno = 0;
    long p = strtol(port, &end, 10);
    if (*port < '0' || *port > '9' || *end != '\0' || errno || p < 1 || p > 65535) {
        snprintf(why, len, "invalid port '%s' (expected 1..65535)", port);
        return -1;
    }
    memcpy(out->host, buf, hostlen + 1);
    out->port = (int)p;
    return 0;
}

/* Parses text into the option's field; on error why holds the problem. */
static int parse_value(const struct option_def *o, const char *text,
                       struct depot_config *cfg, char *why, size_t len)
{
    void *f = field_of(o, cfg);
    switch (o->type) {
    case OPT_STRING: return parse_string(text, f, o->size, o->may_be_empty, why, len);
    case OPT_INT: return parse_int(text, o->min, o->max, f, why, len);
    case OPT_BOOL: return parse_bool(text, f, why, len);
    case OPT_ENUM: return parse_enum(text, o->names, f, why, len);
    case OPT_HOSTPORT: return parse_hostport(text, f, why, len);
    }
    return -1;
}

/* Sets option i from text; on error err is "<where>: <problem>". */
static int set_option(struct depot_config *cfg, size_t i, const char *text,
                      enum depot_config_source src, const char *where, char *err,
                      size_t errlen)
{
    char why[512];
    if (parse_value(&options[i], text, cfg, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", where, why);
        return -1;
    }
    cfg->source[i] = (unsigned char)src;
    return 0;
}

/* ---- Sources ------------------------------------------------------------------- */

static int find_option(const char *name)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (strcmp(options[i].name, name) == 0)
            return (int)i;
    return -1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' ||
                       end[-1] == '\n'))
        *--end = '\0';
    return s;
}

/* One `key = value` line (already known not to be blank or a comment). */
static int read_line(struct depot_config *cfg, char *line, int lineno, int seen[],
                     char *err, size_t errlen)
{
    char where[PATH_MAX + 64];
    snprintf(where, sizeof where, "config %s:%d", cfg->file, lineno);
    char *eq = strchr(line, '=');
    char *key = eq ? (*eq = '\0', trim(line)) : NULL;
    if (!key || !*key) {
        snprintf(err, errlen, "%s: expected 'key = value'", where);
        return -1;
    }
    int i = find_option(key);
    if (i < 0) {
        snprintf(err, errlen, "%s: unknown option '%s'", where, key);
        return -1;
    }
    if (seen[i]) {
        snprintf(err, errlen, "%s: duplicate option '%s' (first set on line %d)", where,
                 key, seen[i]);
        return -1;
    }
    seen[i] = lineno;
    size_t n = strlen(where);
    snprintf(where + n, sizeof where - n, ": %s", key);
    return set_option(cfg, (size_t)i, trim(eq + 1), DEPOT_SRC_FILE, where, err, errlen);
}

static int read_file(struct depot_config *cfg, char *err, size_t errlen)
{
    FILE *f = fopen(cfg->file, "re");
    if (!f) {
        snprintf(err, errlen, "config %s: %s", cfg->file, strerror(errno));
        return -1;
    }
    int seen[N_OPTIONS] = {0}, lineno = 0, rc = 0;
    char *line = NULL;
    size_t cap = 0;
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        char *s = trim(line);
        lineno++;
        if (*s && *s != '#')
            rc = read_line(cfg, s, lineno, seen, err, errlen);
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "config %s: %s", cfg->file, strerror(errno));
        rc = -1;
    }
    free(line);
    fclose(f);
    return rc;
}

static int read_env(struct depot_config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const char *v = options[i].env ? getenv(options[i].env) : NULL;
        if (!v || !*v)
            continue; /* unset or empty: not given */
        char where[64];
        snprintf(where, sizeof where, "environment %s", options[i].env);
        if (set_option(cfg, i, v, DEPOT_SRC_ENV, where, err, errlen) != 0)
            return -1;
    }
    return 0;
}

static int parse_cmdline(struct cmdline *cl, int argc, char *const argv[], char *err,
                         size_t errlen)
{
    struct option longopts[N_OPTIONS + 4];
    size_t n = 0;
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (options[i].flag)
            longopts[n++] = (struct option){options[i].flag,
                                            options[i].metavar ? required_argument
                                                               : no_argument,
                                            NULL, FLAG_OPTION_BASE + (int)i};
    longopts[n++] = (struct option){"config", required_argument, NULL, FLAG_CONFIG};
    longopts[n++] = (struct option){"help", no_argument, NULL, FLAG_HELP};
    longopts[n++] = (struct option){"version", no_argument, NULL, FLAG_VERSION};
    longopts[n] = (struct option){0};

    memset(cl, 0, sizeof *cl);
    optind = 0; /* full re-initialisation: this runs again on reload */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+:", longopts, NULL)) != -1) {
        switch (c) {
        case FLAG_CONFIG: cl->config = optarg; break;
        case FLAG_HELP: cl->help = 1; break;
        case FLAG_VERSION: cl->version = 1; break;
        case ':':
            snprintf(err, errlen, "flag '%s' needs a value (see --help)", argv[optind - 1]);
            return -1;
        case '?':
            if (optopt > ' ' && optopt < 0x7f) /* a short flag: there are none */
                snprintf(err, errlen, "unknown flag '-%c' (see --help)", optopt);
            else if (optopt) /* a known long flag given a value */
                snprintf(err, errlen, "flag '%s' takes no value", argv[optind - 1]);
            else
                snprintf(err, errlen, "unknown flag '%s' (see --help)", argv[optind - 1]);
            return -1;
        default:
            cl->value[c - FLAG_OPTION_BASE] = optarg ? optarg : "true";
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
        return -1;
    }
    return 0;
}

static int apply_cmdline(struct depot_config *cfg, const struct cmdline *cl, char *err,
                         size_t errlen)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (!cl->value[i])
            continue;
        char where[64];
        snprintf(where, sizeof where, "--%s", options[i].flag);
        if (set_option(cfg, i, cl->value[i], DEPOT_SRC_FLAG, where, err, errlen) != 0)
            return -1;
    }
    return 0;
}

static int apply_defaults(struct depot_config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct option_def *o = &options[i];
        const char *def = o->def ? o->def : o->def_fn(cfg->in_checkout);
        if (set_option(cfg, i, def, DEPOT_SRC_DEFAULT, "default", err, errlen) != 0)
            return -1;
    }
    return 0;
}

enum depot_config_status depot_config_load(struct depot_config *cfg, int argc,
                                           char *const argv[], char *err, size_t errlen)
{
    struct cmdline cl;
    memset(cfg, 0, sizeof *cfg);
    if (parse_cmdline(&cl, argc, argv, err, errlen) != 0)
        return DEPOT_CONFIG_ERROR;
    if (cl.help)
        return DEPOT_CONFIG_HELP;
    if (cl.version)
        return DEPOT_CONFIG_VERSION;

    cfg->in_checkout = depot_config_in_checkout();
    const char *file = cl.config ? cl.config : getenv("DEPOT_CONFIG");
    if (file && *file && snprintf(cfg->file, sizeof cfg->file, "%s", file) >= PATH_MAX) {
        snprintf(err, errlen, "config file name is too long");
        return DEPOT_CONFIG_ERROR;
    }
    if (apply_defaults(cfg, err, errlen) != 0 ||
        (cfg->file[0] && read_file(cfg, err, errlen) != 0) ||
        read_env(cfg, err, errlen) != 0 || apply_cmdline(cfg, &cl, err, errlen) != 0)
        return DEPOT_CONFIG_ERROR;
    return DEPOT_CONFIG_RUN;
}

/* ---- Reload, dump, help -------------------------------------------------------- */

static void format_value(const struct option_def *o, const struct depot_config *cfg,
                         char *buf, size_t len)
{
    const void *f = cfield_of(o, cfg);
    switch (o->type) {
    case OPT_STRING: snprintf(buf, len, "%s", (const char *)f); break;
    case OPT_INT: snprintf(buf, len, "%d", *(const int *)f); break;
    case OPT_BOOL: snprintf(buf, len, "%s", *(const int *)f ? "true" : "false"); break;
    case OPT_ENUM: snprintf(buf, len, "%s", o->names[*(const int *)f]); break;
    case OPT_HOSTPORT: depot_hostport_format(f, buf, len); break;
    }
}

int depot_config_reload(struct depot_config *cfg, int argc, char *const argv[])
{
    struct depot_config next;
    char err[PATH_MAX + 256];
    if (depot_config_load(&next, argc, argv, err, sizeof err) != DEPOT_CONFIG_RUN) {
        depot_log(DEPOT_LOG_ERROR, "config", "reload failed, configuration unchanged: %s",
                  err);
        return -1;
    }
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct option_def *o = &options[i];
        char was[PATH_MAX], now[PATH_MAX];
        format_value(o, cfg, was, sizeof was);
        format_value(o, &next, now, sizeof now);
        if (strcmp(was, now) == 0)
            continue;
        if (o->reloadable) {
            memcpy(field_of(o, cfg), cfield_of(o, &next), o->size);
            cfg->source[i] = next.source[i];
        }
        depot_log_kv(o->reloadable ? DEPOT_LOG_INFO : DEPOT_LOG_WARN, "config",
                     DEPOT_KV({"option", o->name}, {"old", was}, {"new", now}),
                     o->reloadable ? "%s changed from %s to %s"
                                   : "%s changed from %s to %s: needs restart, ignored",
                     o->name, was, now);
    }
    return 0;
}

void depot_config_log(const struct depot_config *cfg)
{
    depot_log_kv(DEPOT_LOG_DEBUG, "config", DEPOT_KV({"file", cfg->file}),
                 "config file: %s", cfg->file[0] ? cfg->file : "(none)");
    for (size_t i = 0; i < N_OPTIONS; i++) {
        char v[PATH_MAX];
        format_value(&options[i], cfg, v, sizeof v);
        const char *src = source_names[cfg->source[i]];
        depot_log_kv(DEPOT_LOG_DEBUG, "config",
                     DEPOT_KV({"option", options[i].name}, {"value", v}, {"source", src}),
                     "%s = %s (%s)", options[i].name, v, src);
    }
}

void depot_config_usage(FILE *out, const char *prog)
{
    int in_checkout = depot_config_in_checkout();
    fprintf(out,
            "Usage: %s [--data-dir DIR] [--listen HOST:PORT] [--config FILE] [--demo]\n"
            "       %s --version | --help\n\n"
            "Depot's warehouse daemon. Flags beat environment variables, which beat the\n"
            "config file, which beats the defaults.\n\nFlags:\n",
            prog, prog);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct option_def *o = &options[i];
        char flag[64];
        if (!o->flag)
            continue;
        snprintf(flag, sizeof flag, "--%s%s%s", o->flag, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
        fprintf(out, "  %-22s sets %s%s%s%s%s\n", flag, o->name, o->metavar ? "" : " = true",
                o->env ? " (or $" : "", o->env ? o->env : "", o->env ? ")" : "");
    }
    fprintf(out, "  %-22s config file of `key = value` lines (or $DEPOT_CONFIG)\n"
                 "  %-22s print the version and exit\n"
                 "  %-22s print this help and exit\n\n"
                 "Config file options (key = default):\n",
            "--config FILE", "--version", "--help");
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct option_def *o = &options[i];
        fprintf(out, "  %s = %s%s\n      %s\n", o->name,
                o->def ? o->def : o->def_fn(in_checkout),
                o->reloadable ? "   (reloaded on SIGHUP)" : "", o->help);
    }
}

void depot_hostport_format(const struct depot_hostport *hp, char *buf, size_t len)
{
    int v6 = strchr(hp->host, ':') != NULL;
    snprintf(buf, len, "%s%s%s:%d", v6 ? "[" : "", hp->host, v6 ? "]" : "", hp->port);
}

const char *depot_config_default_data_dir(void)
{
    return default_data_dir(depot_config_in_checkout());
}
