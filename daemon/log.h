/* Structured logging for depotd and depotctl: one JSON object per line on stderr, or
 * native journald entries when running under systemd. Thread-safe. */
#ifndef DEPOT_LOG_H
#define DEPOT_LOG_H

enum depot_log_level {
    DEPOT_LOG_DEBUG,
    DEPOT_LOG_INFO,
    DEPOT_LOG_WARN,
    DEPOT_LOG_ERROR,
};

enum depot_log_format {
    DEPOT_LOG_FORMAT_AUTO,    /* journal if stderr is connected to journald, else json */
    DEPOT_LOG_FORMAT_JSON,    /* one JSON object per line on stderr */
    DEPOT_LOG_FORMAT_JOURNAL, /* sd_journal_send (falls back to json if unavailable) */
};

/* Names of the levels and formats, indexed by the enums above, NULL-terminated
 * ("debug", "info", "warn", "error"; "auto", "json", "journal"). */
extern const char *const depot_log_level_names[];
extern const char *const depot_log_format_names[];

/* One extra field of a log entry. In JSON it becomes "key":"value"; in the journal the
 * key is upper-cased (order_id -> ORDER_ID). Keys must not be ts, level, module or msg. */
struct depot_kv {
    const char *key;
    const char *value; /* NULL is logged as "" */
};

/* A terminated field list for depot_log_kv, e.g.
 *   depot_log_kv(DEPOT_LOG_INFO, "store", DEPOT_KV({"order_id", id}), "reserved %s", id); */
#define DEPOT_KV(...) ((const struct depot_kv[]){__VA_ARGS__, {0, 0}})

/* Sets the program name (SYSLOG_IDENTIFIER, e.g. "depotd"), the lowest level written and
 * the output format. May be called again at any time (SIGHUP); "auto" is re-detected
 * from JOURNAL_STREAM each time. Before the first call: "depot", info, json. */
void depot_log_setup(const char *ident, enum depot_log_level min_level,
                     enum depot_log_format format);

/* Logs a printf-style message from module (a short word: "depotd", "store", ...).
 * Messages longer than about 2 KiB are truncated. */
void depot_log(enum depot_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like depot_log, with extra fields: an array ending with {NULL, NULL} (see DEPOT_KV). */
void depot_log_kv(enum depot_log_level level, const char *module,
                  const struct depot_kv *fields, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
