/* Structured logging: level filter, JSON lines on stderr, journald entries under systemd. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#ifdef DEPOT_WITH_SYSTEMD
#define SD_JOURNAL_SUPPRESS_LOCATION /* log.c:NNN would be noise */
#include <systemd/sd-journal.h>
#endif
#include "log.h"
#include "log_redact.h"

/* Rationale: a message is formatted by the calling thread without any lock; only the
 * output (one writev of a complete line, or one sd_journal_sendv) happens under the mutex,
 * so lines from different threads never interleave. The level is atomic so the filter is
 * lock-free and can change on SIGHUP while other threads log. */

#define LOG_MSG_MAX 2048
#define LOG_FIELDS_MAX 16
#define LOG_VALUE_MAX 512 /* longer field values are cut */

const char *const depot_log_level_names[] = {"debug", "info", "warn", "error", NULL};
const char *const depot_log_format_names[] = {"auto", "json", "journal", NULL};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int log_min_level = DEPOT_LOG_INFO;
static char log_ident[32] = "depot"; /* under log_lock */
static int log_to_journal;           /* under log_lock */

#ifdef DEPOT_WITH_SYSTEMD
/* systemd sets JOURNAL_STREAM=dev:ino when stderr is a stream to journald. */
static int stderr_is_journal(void)
{
    const char *env = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2)
        return 0;
    if (fstat(STDERR_FILENO, &st) != 0)
        return 0;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* sd_journal_send drops entries silently when journald is absent: check first. */
static int use_journal(enum depot_log_format format)
{
    return (format == DEPOT_LOG_FORMAT_JOURNAL ||
            (format == DEPOT_LOG_FORMAT_AUTO && stderr_is_journal())) &&
           access("/run/systemd/journal/socket", W_OK) == 0;
}
#else
static int use_journal(enum depot_log_format format)
{
    return 0;
}
#endif

void depot_log_setup(const char *ident, enum depot_log_level min_level,
                     enum depot_log_format format)
{
    int journal = use_journal(format);
    pthread_mutex_lock(&log_lock);
    snprintf(log_ident, sizeof log_ident, "%s", ident);
    log_to_journal = journal;
    pthread_mutex_unlock(&log_lock);
    atomic_store(&log_min_level, (int)min_level);
}

static void iso8601_now(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

static void write_line(const char *line)
{
    struct iovec iov[2] = {
        {.iov_base = (void *)line, .iov_len = strlen(line)},
        {.iov_base = "\n", .iov_len = 1},
    };
    int i = 0;
    while (i < 2) {
        ssize_t w = writev(STDERR_FILENO, iov + i, 2 - i);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return; /* nowhere left to report it */
        while (i < 2 && (size_t)w >= iov[i].iov_len)
            w -= (ssize_t)iov[i++].iov_len;
        if (i < 2) {
            iov[i].iov_base = (char *)iov[i].iov_base + w;
            iov[i].iov_len -= (size_t)w;
        }
    }
}

/* Called with log_lock held. */
static void emit_json(enum depot_log_level level, const char *module, const char *msg,
                      const struct depot_kv *fields)
{
    char ts[40];
    iso8601_now(ts, sizeof ts);
    cJSON *o = cJSON_CreateObject();
    int ok = o && cJSON_AddStringToObject(o, "ts", ts) &&
             cJSON_AddStringToObject(o, "level", depot_log_level_names[level]) &&
             cJSON_AddStringToObject(o, "module", module) &&
             cJSON_AddStringToObject(o, "msg", msg);
    for (size_t i = 0; ok && fields && fields[i].key; i++)
        ok = cJSON_AddStringToObject(o, fields[i].key,
                                     fields[i].value ? fields[i].value : "") != NULL;
    char *line = ok ? cJSON_PrintUnformatted(o) : NULL;
    write_line(line ? line : "{\"level\":\"error\",\"module\":\"log\",\"msg\":\"out of memory\"}");
    cJSON_free(line);
    cJSON_Delete(o);
}

#ifdef DEPOT_WITH_SYSTEMD
/* Appends "KEY=value" to the arena as one iovec; keys are upper-cased for journald. */
static int add_field(struct iovec *iov, int *n, char **arena, char *end, const char *key,
                     int upcase, const char *value)
{
    char *p = *arena;
    int len = snprintf(p, (size_t)(end - p), "%s=%s", key, value ? value : "");
    if (len < 0 || len >= end - p)
        return -1;
    for (char *k = p; upcase && *k != '='; k++) {
        if (*k >= 'a' && *k <= 'z')
            *k = (char)(*k - 'a' + 'A');
        else if (!((*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9')))
            *k = '_';
    }
    iov[*n].iov_base = p;
    iov[*n].iov_len = (size_t)len;
    (*n)++;
    *arena = p + len + 1;
    return 0;
}

/* Called with log_lock held. Returns 0 if journald took the entry. */
static int emit_journal(enum depot_log_level level, const char *module, const char *msg,
                        const struct depot_kv *fields)
{
    static const char *const priority[] = {"7", "6", "4", "3"};
    char arena[LOG_MSG_MAX + 1024];
    char *a = arena, *end = arena + sizeof arena;
    struct iovec iov[4 + LOG_FIELDS_MAX];
    int n = 0;
    if (add_field(iov, &n, &a, end, "PRIORITY", 0, priority[level]) ||
        add_field(iov, &n, &a, end, "SYSLOG_IDENTIFIER", 0, log_ident) ||
        add_field(iov, &n, &a, end, "DEPOT_MODULE", 0, module) ||
        add_field(iov, &n, &a, end, "MESSAGE", 0, msg))
        return -1;
    for (size_t i = 0; fields && fields[i].key && n < (int)(sizeof iov / sizeof iov[0]); i++)
        if (add_field(iov, &n, &a, end, fields[i].key, 1, fields[i].value))
            break; /* arena full: keep the fields that fit */
    return sd_journal_sendv(iov, n) < 0 ? -1 : 0;
}
#endif

__attribute__((format(printf, 4, 0)))
static void vlog(enum depot_log_level level, const char *module,
                 const struct depot_kv *fields, const char *fmt, va_list ap)
{
    if (level > DEPOT_LOG_ERROR)
        level = DEPOT_LOG_ERROR;
    if ((int)level < atomic_load(&log_min_level))
        return;
    char raw[LOG_MSG_MAX], msg[LOG_MSG_MAX];
    vsnprintf(raw, sizeof raw, fmt, ap);
    depot_log_redact_text(raw, msg, sizeof msg);
    /* Field values are redacted by key, or scrubbed like the message. */
    struct depot_kv safe[LOG_FIELDS_MAX + 1];
    char values[LOG_FIELDS_MAX][LOG_VALUE_MAX];
    size_t nf = 0;
    for (; fields && fields[nf].key && nf < LOG_FIELDS_MAX; nf++) {
        safe[nf].key = fields[nf].key;
        if (depot_log_key_is_sensitive(fields[nf].key)) {
            safe[nf].value = DEPOT_LOG_REDACTED;
        } else {
            depot_log_redact_text(fields[nf].value, values[nf], sizeof values[nf]);
            safe[nf].value = values[nf];
        }
    }
    safe[nf].key = safe[nf].value = NULL;
    fields = safe;
    pthread_mutex_lock(&log_lock);
#ifdef DEPOT_WITH_SYSTEMD
    if (!log_to_journal || emit_journal(level, module, msg, fields) != 0)
        emit_json(level, module, msg, fields);
#else
    emit_json(level, module, msg, fields);
#endif
    pthread_mutex_unlock(&log_lock);
}

void depot_log(enum depot_log_level level, const char *module, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, module, NULL, fmt, ap);
    va_end(ap);
}

void depot_log_kv(enum depot_log_level level, const char *module,
                  const struct depot_kv *fields, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, module, fields, fmt, ap);
    va_end(ap);
}
