/* The daemon's serial scanners on the event loop: open with backoff, read, frame, parse,
 * resolve, publish; hot-plug and reload (see scanners.h).
 *
 * Rationale: libserialport owns the port's descriptor (sp_close closes it); the loop is
 * given a dup() of it, which the loop closes when the watch ends, so neither closes the
 * other's descriptor and a reused descriptor number can never be closed twice. A
 * scanner goes offline (never opened) or unplugged (was online) -> online -> unplugged;
 * the watch ending (EOF, EIO, hang-up) is the only way out of online, so the port is
 * released exactly once, in on_closed(). */
#include "scanners.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "devices.h"
#include "gs1.h"
#include "log.h"
#include "scan_framer.h"
#include "scan_resolve.h"
#include "serial_port.h"
#include "devices_hook.h"

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 2000
#define READ_CHUNK 4096
#define READS_PER_WAKEUP 16 /* then let other descriptors have the loop */

enum scanner_state { SCANNER_OFFLINE, SCANNER_ONLINE, SCANNER_UNPLUGGED };

static const char *const state_names[] = {"offline", "online", "unplugged"};

struct scanner {
    struct depot_scanners *mgr;
    struct scanner *next;
    struct depot_scanner_conf conf;
    struct depot_serial_config serial;
    struct depot_scan_framer framer;
    struct depot_serial_port port;
    struct depot_loop_fd *watch;       /* non-NULL while online */
    struct depot_timer reopen_timer;
    struct depot_timer gap_timer;      /* timeout-mode framing */
    enum scanner_state state;
    int backoff_ms;
    int64_t since_ms;                  /* when the state last changed */
    char error[256];                   /* why it is not online ("" if it is) */
    uint64_t scans;                    /* frames published */
    uint64_t invalid_scans;            /* frames refused by the AIM/GS1 parser */
    uint64_t reconnects;
    int removing;                      /* being closed for good (reload, shutdown) */
};

struct depot_scanners {
    struct depot_web *web;
    depot_store *st;
    struct scanner *list;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static cJSON *counters_json(const struct scanner *s)
{
    const struct depot_scan_framer_stats *f = &s->framer.stats;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "scans", (double)s->scans);
    cJSON_AddNumberToObject(o, "noise_bytes", (double)f->noise_bytes);
    cJSON_AddNumberToObject(o, "dropped_garbage", (double)f->dropped_garbage);
    cJSON_AddNumberToObject(o, "dropped_overlong", (double)f->dropped_overlong);
    cJSON_AddNumberToObject(o, "dropped_prefix", (double)f->dropped_prefix);
    cJSON_AddNumberToObject(o, "invalid_scans", (double)s->invalid_scans);
    cJSON_AddNumberToObject(o, "reconnects", (double)s->reconnects);
    return o;
}

/* The live state of one scanner: the "device" event's data and the API's fields. */
static cJSON *state_json(const struct scanner *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "kind", "scanner");
    cJSON_AddStringToObject(o, "name", s->conf.name);
    cJSON_AddStringToObject(o, "station", s->conf.station);
    cJSON_AddStringToObject(o, "port", s->conf.port);
    cJSON_AddStringToObject(o, "state", state_names[s->state]);
    cJSON_AddNumberToObject(o, "since", (double)s->since_ms);
    if (s->state == SCANNER_ONLINE)
        cJSON_AddStringToObject(o, "device", s->port.device);
    if (s->error[0])
        cJSON_AddStringToObject(o, "error", s->error);
    else
        cJSON_AddNullToObject(o, "error");
    cJSON *c = counters_json(s);
    if (!c) {
        cJSON_Delete(o);
        return NULL;
    }
    cJSON_AddItemToObject(o, "counters", c);
    return o;
}

static void publish_state(struct scanner *s)
{
    cJSON *data = state_json(s);
    if (data)
        depot_web_publish(s->mgr->web, "device", data);
}

static void set_state(struct scanner *s, enum scanner_state st, const char *error)
{
    int changed = s->state != st || strcmp(s->error, error) != 0;
    s->state = st;
    snprintf(s->error, sizeof s->error, "%s", error);
    if (!changed)
        return;
    s->since_ms = now_ms();
    if (st == SCANNER_ONLINE)
        depot_log_kv(DEPOT_LOG_INFO, "scanner",
                     DEPOT_KV({"scanner", s->conf.name}, {"station", s->conf.station},
                              {"device", s->port.device}, {"state", state_names[st]}),
                     "scanner %s online on %s", s->conf.name, s->port.device);
    else
        depot_log_kv(DEPOT_LOG_WARN, "scanner",
                     DEPOT_KV({"scanner", s->conf.name}, {"station", s->conf.station},
                              {"port", s->conf.port}, {"state", state_names[st]}),
                     "scanner %s %s: %s", s->conf.name, state_names[st], error);
    publish_state(s);
}

/* The GS1 field (01) of a parsed scan: the GTIN-14, or NULL. */
static const char *scan_gtin(const struct depot_gs1_scan *p)
{
    for (size_t i = 0; i < p->n_fields; i++)
        if (!strcmp(p->fields[i].ai, "01"))
            return p->fields[i].value;
    return NULL;
}

/* What a frame means, resolved through the store; kind "unknown" if it cannot be. */
static cJSON *resolve(struct scanner *s, const char *text, const char *gtin)
{
    cJSON *r = NULL;
    depot_err e = depot_scan_resolve(s->mgr->st, text, gtin, &r);
    if (e == DEPOT_OK)
        return r;
    depot_log_kv(DEPOT_LOG_WARN, "scanner", DEPOT_KV({"scanner", s->conf.name}),
                 "cannot resolve a scan: %s", depot_store_errmsg(s->mgr->st));
    r = cJSON_CreateObject();
    if (r) {
        cJSON_AddStringToObject(r, "kind", "unknown");
        cJSON_AddStringToObject(r, "reason", "store_error");
    }
    return r;
}

static void on_frame(void *user, const char *frame, size_t len)
{
    struct scanner *s = user;
    static struct depot_gs1_scan parsed; /* loop thread only; too big for the stack */
    depot_gs1_err ge = depot_gs1_parse(frame, len, &parsed);
    /* The data after a well-formed AIM identifier (always 3 bytes: ']', letter, digit). */
    const char *text = parsed.aim[0] ? frame + strlen(parsed.aim) : frame;
    int secret = depot_scan_is_secret(text);
    cJSON *data;
    if (ge != DEPOT_GS1_OK) {
        s->invalid_scans++;
        data = cJSON_CreateObject();
        if (data) {
            cJSON_AddStringToObject(data, "kind", "unknown");
            cJSON_AddStringToObject(data, "reason", "invalid_scan");
            cJSON_AddStringToObject(data, "error", parsed.error);
        }
    } else {
        data = resolve(s, parsed.plain ? parsed.data : text, scan_gtin(&parsed));
    }
    if (!data)
        return;
    cJSON_AddStringToObject(data, "station", s->conf.station);
    cJSON_AddStringToObject(data, "scanner", s->conf.name);
    if (secret) {
        cJSON_AddNullToObject(data, "raw");
    } else {
        cJSON_AddStringToObject(data, "raw", frame);
        cJSON_AddStringToObject(data, "data", text);
    }
    cJSON_AddStringToObject(data, "symbology", depot_gs1_symbology_name(parsed.symbology));
    cJSON_AddStringToObject(data, "aim", parsed.aim);
    cJSON *ais = cJSON_AddArrayToObject(data, "ais");
    for (size_t i = 0; ge == DEPOT_GS1_OK && ais && i < parsed.n_fields; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "ai", parsed.fields[i].ai);
        cJSON_AddStringToObject(f, "value", parsed.fields[i].value);
        cJSON_AddItemToArray(ais, f);
    }
    cJSON_AddNumberToObject(data, "at", (double)now_ms());
    s->scans++;
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, "kind"));
    depot_log_kv(DEPOT_LOG_DEBUG, "scanner",
                 DEPOT_KV({"scanner", s->conf.name}, {"station", s->conf.station},
                          {"kind", kind ? kind : "?"}),
                 "scan at %s: %s", s->conf.station, kind ? kind : "?");
    depot_web_publish(s->mgr->web, "scan", data);
}

static void gap_elapsed(struct depot_timer *t)
{
    struct scanner *s = t->user;
    depot_scan_framer_flush(&s->framer, on_frame, s);
}

static void schedule_reopen(struct scanner *s)
{
    depot_loop_timer(s->mgr->web, &s->reopen_timer, s->backoff_ms);
    s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
}

/* The port is gone (EOF, EIO, hang-up) or is being closed: end the watch; on_closed()
 * releases the port. */
static void lose(struct scanner *s, const char *why)
{
    snprintf(s->error, sizeof s->error, "%s", why);
    if (s->watch)
        depot_loop_fd_stop(s->watch);
}

/* 1 if the device behind fd is gone: with VMIN 0 a read of 0 bytes means either "no
 * data" or "hung up", and only poll() tells which. */
static int hung_up(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL));
}

static void on_readable(void *user)
{
    struct scanner *s = user;
    char buf[READ_CHUNK];
    if (!s->watch)
        return;
    for (int i = 0; i < READS_PER_WAKEUP; i++) {
        ssize_t n = read(s->port.fd, buf, sizeof buf);
        if (n > 0) {
            depot_scan_framer_feed(&s->framer, buf, (size_t)n, on_frame, s);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n == 0 && !hung_up(s->port.fd))
            break; /* no data: libserialport's raw mode (VMIN 0) reads 0, not EAGAIN */
        lose(s, n == 0 ? "device hung up" : strerror(errno));
        return;
    }
    if (s->framer.cfg.suffix == DEPOT_SCAN_SUFFIX_TIMEOUT) {
        if (depot_scan_framer_pending(&s->framer))
            depot_loop_timer(s->mgr->web, &s->gap_timer, s->framer.cfg.timeout_ms);
        else
            depot_loop_timer_cancel(s->mgr->web, &s->gap_timer);
    }
}

/* The loop ended the watch and closed its descriptor: release the port. */
static void on_closed(void *user)
{
    struct scanner *s = user;
    s->watch = NULL;
    depot_loop_timer_cancel(s->mgr->web, &s->gap_timer);
    depot_scan_framer_flush(&s->framer, on_frame, s); /* a partial frame is dropped */
    depot_serial_close(&s->port);
    if (s->removing)
        return;
    char why[sizeof s->error];
    snprintf(why, sizeof why, "%s", s->error[0] ? s->error : "device hung up");
    s->backoff_ms = BACKOFF_MIN_MS;
    set_state(s, SCANNER_UNPLUGGED, why);
    schedule_reopen(s);
}

static void try_open(struct scanner *s)
{
    static const struct depot_loop_fd_ops ops = {on_readable, on_closed};
    char err[512];
    enum depot_serial_result r = depot_serial_open(s->conf.port, &s->serial,
                                                   DEPOT_SERIAL_READ, &s->port, err,
                                                   sizeof err);
    if (r == DEPOT_SERIAL_OK) {
        int dup_fd = fcntl(s->port.fd, F_DUPFD_CLOEXEC, 0);
        s->watch = dup_fd >= 0 ? depot_loop_watch_fd(s->mgr->web, dup_fd, &ops, s) : NULL;
        if (!s->watch) {
            snprintf(err, sizeof err, "%s: cannot watch the port on the event loop",
                     s->conf.port);
            if (dup_fd >= 0)
                close(dup_fd);
            depot_serial_close(&s->port);
            r = DEPOT_SERIAL_FAILED;
        }
    }
    if (r == DEPOT_SERIAL_OK) {
        struct depot_scan_framer_stats kept = s->framer.stats;
        struct depot_scan_framer_config cfg = s->framer.cfg;
        depot_scan_framer_init(&s->framer, &cfg);
        s->framer.stats = kept;
        if (s->state == SCANNER_UNPLUGGED)
            s->reconnects++;
        s->backoff_ms = BACKOFF_MIN_MS;
        set_state(s, SCANNER_ONLINE, "");
        return;
    }
    set_state(s, s->state == SCANNER_ONLINE ? SCANNER_UNPLUGGED : s->state, err);
    schedule_reopen(s);
}

static void reopen_due(struct depot_timer *t)
{
    try_open(t->user);
}

/* A scanner from its stored configuration; NULL (logged) if the settings are unusable,
 * which the store's checks make unlikely. */
static struct scanner *scanner_new(struct depot_scanners *m,
                                   const struct depot_scanner_conf *conf)
{
    struct scanner *s = calloc(1, sizeof *s);
    char err[200], parity[2] = {conf->parity, '\0'};
    if (!s)
        return NULL;
    s->mgr = m;
    s->conf = *conf;
    s->port.fd = -1;
    s->state = SCANNER_OFFLINE;
    s->since_ms = now_ms();
    s->backoff_ms = BACKOFF_MIN_MS;
    s->reopen_timer.fn = reopen_due;
    s->reopen_timer.user = s;
    s->gap_timer.fn = gap_elapsed;
    s->gap_timer.user = s;
    depot_serial_config_default(&s->serial);
    s->serial.baud = conf->baud;
    s->serial.data_bits = conf->data_bits;
    s->serial.stop_bits = conf->stop_bits;
    struct depot_scan_framer_config fc;
    depot_scan_framer_config_default(&fc);
    fc.max_len = DEPOT_GS1_INPUT_MAX;
    snprintf(fc.prefix, sizeof fc.prefix, "%s", conf->prefix);
    if (depot_serial_parity_parse(parity, &s->serial.parity) != 0 ||
        depot_serial_flow_parse(conf->flow, &s->serial.flow) != 0 ||
        depot_serial_config_validate(&s->serial, err, sizeof err) != 0 ||
        depot_scan_suffix_parse(conf->suffix, &fc) != 0 ||
        depot_scan_framer_config_valid(&fc) != 0) {
        depot_log_kv(DEPOT_LOG_ERROR, "scanner", DEPOT_KV({"scanner", conf->name}),
                     "scanner %s has unusable settings; skipped", conf->name);
        free(s);
        return NULL;
    }
    depot_scan_framer_init(&s->framer, &fc);
    return s;
}

/* Closes a scanner for good and frees it. Not from the scanner's own callbacks. */
static void scanner_free(struct scanner *s)
{
    s->removing = 1;
    depot_loop_timer_cancel(s->mgr->web, &s->reopen_timer);
    depot_loop_timer_cancel(s->mgr->web, &s->gap_timer);
    if (s->watch)
        depot_loop_fd_stop(s->watch); /* synchronous here: on_closed releases the port */
    depot_serial_close(&s->port);
    free(s);
}

static cJSON *provide_scanners(void *user)
{
    struct depot_scanners *m = user;
    cJSON *arr = cJSON_CreateArray();
    for (struct scanner *s = m->list; arr && s; s = s->next) {
        cJSON *o = state_json(s);
        if (!o) {
            cJSON_Delete(arr);
            return NULL;
        }
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* Reads the enabled scanners; 0 or -1 (logged). */
static int load(struct depot_scanners *m, struct depot_scanner_conf **confs, size_t *n)
{
    depot_err e = depot_scanner_list(m->st, 1, confs, n);
    if (e != DEPOT_OK) {
        depot_log(DEPOT_LOG_ERROR, "scanner", "cannot read the scanner configuration: %s",
                  depot_store_errmsg(m->st));
        return -1;
    }
    return 0;
}

static void add_scanner(struct depot_scanners *m, const struct depot_scanner_conf *conf,
                        struct scanner ***tail)
{
    struct scanner *s = scanner_new(m, conf);
    if (!s)
        return;
    **tail = s;
    *tail = &s->next;
    try_open(s);
}

/* 1 if a and b differ at most in their station. Field by field: padding and the bytes
 * after a string's terminator carry no meaning. */
static int same_but_station(const struct depot_scanner_conf *a,
                            const struct depot_scanner_conf *b)
{
    return a->id == b->id && !strcmp(a->name, b->name) && !strcmp(a->port, b->port) &&
           a->baud == b->baud && a->data_bits == b->data_bits && a->parity == b->parity &&
           a->stop_bits == b->stop_bits && !strcmp(a->flow, b->flow) &&
           !strcmp(a->suffix, b->suffix) && !strcmp(a->prefix, b->prefix) &&
           a->enabled == b->enabled;
}

static void reload_on_change(void *user)
{
    depot_scanners_reload(user);
}

struct depot_scanners *depot_scanners_start(struct depot_web *web, depot_store *st)
{
    struct depot_scanners *m = calloc(1, sizeof *m);
    struct depot_scanner_conf *confs = NULL;
    size_t n = 0;
    if (!m) {
        depot_log(DEPOT_LOG_ERROR, "scanner", "out of memory");
        return NULL;
    }
    m->web = web;
    m->st = st;
    if (load(m, &confs, &n) != 0) {
        free(m);
        return NULL;
    }
    struct scanner **tail = &m->list;
    for (size_t i = 0; i < n; i++)
        add_scanner(m, &confs[i], &tail);
    free(confs);
    depot_devices_provide("scanners", provide_scanners, m);
    depot_devices_watch(reload_on_change, m);
    depot_log(DEPOT_LOG_INFO, "scanner", "%zu scanner(s) configured", n);
    return m;
}

int depot_scanners_reload(struct depot_scanners *m)
{
    struct depot_scanner_conf *confs = NULL;
    size_t n = 0;
    if (load(m, &confs, &n) != 0)
        return -1;
    /* Keep the scanners whose configuration is unchanged (a scanner moved to another
     * station keeps its open port and publishes its new station); close the rest. */
    struct scanner *kept = NULL, **kept_tail = &kept;
    char *reused = calloc(n ? n : 1, 1);
    if (!reused) {
        free(confs);
        depot_log(DEPOT_LOG_ERROR, "scanner", "out of memory");
        return -1;
    }
    for (struct scanner *s = m->list, *next; s; s = next) {
        next = s->next;
        s->next = NULL;
        size_t i = 0;
        while (i < n && (reused[i] || !same_but_station(&confs[i], &s->conf)))
            i++;
        if (i < n) {
            reused[i] = 1;
            if (strcmp(confs[i].station, s->conf.station) != 0) {
                depot_log_kv(DEPOT_LOG_INFO, "scanner",
                             DEPOT_KV({"scanner", s->conf.name}, {"station", confs[i].station}),
                             "scanner %s moved from station %s to %s", s->conf.name,
                             s->conf.station, confs[i].station);
                memcpy(s->conf.station, confs[i].station, sizeof s->conf.station);
                publish_state(s);
            }
            *kept_tail = s;
            kept_tail = &s->next;
        } else {
            depot_log_kv(DEPOT_LOG_INFO, "scanner", DEPOT_KV({"scanner", s->conf.name}),
                         "scanner %s removed or changed: closing it", s->conf.name);
            scanner_free(s);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!reused[i])
            add_scanner(m, &confs[i], &kept_tail);
    m->list = kept; /* after the adds: with nothing kept, kept_tail points at kept */
    free(reused);
    free(confs);
    depot_log(DEPOT_LOG_INFO, "scanner", "scanner configuration reloaded: %zu scanner(s)", n);
    return 0;
}

void depot_scanners_stop(struct depot_scanners *m)
{
    if (!m)
        return;
    depot_devices_provide("scanners", NULL, NULL);
    depot_devices_watch(NULL, NULL);
    for (struct scanner *s = m->list, *next; s; s = next) {
        next = s->next;
        scanner_free(s);
    }
    free(m);
}
