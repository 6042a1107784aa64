/* The event loop and the server on it: creates the libwebsockets context and listener,
 * the web thread's store connection, rate limiters, metrics and event hub; runs the loop;
 * lets the rest of the daemon attach file descriptors and timers to it. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "web_int.h"
#include "webhooks.h"

struct depot_web {
    struct web_server srv;
    struct lws_protocols protocols[3];
};

/* An adopted descriptor's owner, kept as the wsi's opaque user data. */
struct depot_loop_fd {
    struct depot_loop_fd_ops ops;
    void *user;
    struct lws *wsi;
    int in_readable; /* readable() is running: a stop waits for it to return */
    int stop;        /* close once readable() returns */
};

static int raw_fd_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                           void *in, size_t len)
{
    struct depot_loop_fd *f = lws_get_opaque_user_data(wsi);
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
        if (f && f->ops.readable) {
            f->in_readable = 1;
            f->ops.readable(f->user);
            f->in_readable = 0;
        }
        return f && f->stop ? -1 : 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        if (f) {
            lws_set_opaque_user_data(wsi, NULL);
            if (f->ops.closed)
                f->ops.closed(f->user);
            free(f);
        }
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

/* First: HTTP requests and WebSocket upgrades that name no subprotocol land there. */
static void fill_protocols(struct lws_protocols p[3])
{
    memset(p, 0, 3 * sizeof *p);
    p[0].name = "http";
    p[0].callback = web_http_callback;
    p[0].per_session_data_size = web_http_conn_size();
    p[0].rx_buffer_size = 16384; /* also the most one send hands the kernel */
    p[1].name = "depot-raw-fd";
    p[1].callback = raw_fd_callback;
}

/* libwebsockets' own log lines, into ours (errors and warnings only). */
static void lws_log_emit(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    depot_log(level == LLL_ERR ? DEPOT_LOG_ERROR : DEPOT_LOG_WARN, "lws", "%.*s", (int)n,
              line);
}

static int open_parts(struct web_server *srv, const char *db_path, char *err, size_t errlen)
{
    char e[512];
    struct depot_store_options opt = {.busy_timeout_ms = 2000};
    if (depot_store_open(db_path, &opt, &srv->st, e, sizeof e) != DEPOT_OK) {
        snprintf(err, errlen, "web: cannot open database %s: %s", db_path, e);
        return -1;
    }
    srv->rl_ip = web_ratelimit_new(srv->cfg.rate_per_ip, srv->cfg.rate_burst, 4096);
    srv->rl_login_ip = web_ratelimit_new(20.0 / 60, 20, 4096);
    srv->rl_login_user = web_ratelimit_new(5.0 / 60, 5, 4096);
    srv->metrics = web_metrics_new();
    srv->events = web_events_new();
    srv->webhook_channels = web_webhook_channels_new();
    srv->webhooks = web_webhooks_new(srv, db_path, err, errlen);
    if (!srv->webhooks)
        return -1;
    if (!srv->rl_ip || !srv->rl_login_ip || !srv->rl_login_user || !srv->metrics ||
        !srv->events || !srv->webhook_channels) {
        snprintf(err, errlen, "web: out of memory");
        return -1;
    }
    if (srv->cfg.ui_dir[0] && !realpath(srv->cfg.ui_dir, srv->ui_root)) {
        depot_log(DEPOT_LOG_WARN, "web", "UI directory %s not found; serving no UI files",
                  srv->cfg.ui_dir);
        srv->ui_root[0] = '\0';
    }
    return 0;
}

struct depot_web *depot_web_start(const struct depot_web_config *cfg, const char *db_path,
                                  char *err, size_t errlen)
{
    struct depot_web *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "web: out of memory");
        return NULL;
    }
    struct web_server *srv = &w->srv;
    srv->cfg = *cfg;
    if (open_parts(srv, db_path, err, errlen) != 0)
        goto fail;

    char cert[PATH_MAX], key[PATH_MAX];
    int generated = 0;
    if (cfg->tls && web_tls_prepare(cfg, cert, sizeof cert, key, sizeof key, &generated, err,
                                    errlen) != 0)
        goto fail;
    if (generated)
        depot_log_kv(DEPOT_LOG_WARN, "web", DEPOT_KV({"tls_cert", cert}),
                     "generated a self-signed TLS certificate at %s; browsers will warn "
                     "until you install a real one (tls_cert, tls_key)", cert);

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = cfg->listen_port;
    info.iface = cfg->listen_host;
    fill_protocols(w->protocols);
    info.protocols = w->protocols;
    info.vhost_name = "depot";
    info.user = srv;
    info.gid = (gid_t)-1;
    info.uid = (uid_t)-1;
    info.max_http_header_data = 8192;
    info.pt_serv_buf_size = 16384; /* the read buffer: a typical webhook in one recv */
    info.timeout_secs = (unsigned int)cfg->request_timeout;
    info.timeout_secs_ah_idle = (unsigned int)cfg->request_timeout;
    info.keepalive_timeout = 30;
    info.alpn = "http/1.1";
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (cfg->tls) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = cert;
        info.ssl_private_key_filepath = key;
    }
    srv->ctx = lws_create_context(&info);
    if (!srv->ctx) {
        snprintf(err, errlen, "web: cannot listen on %s:%d (address in use, or not an "
                              "address of this machine?)", cfg->listen_host, cfg->listen_port);
        goto fail;
    }
    srv->vhost = lws_get_vhost_by_name(srv->ctx, "depot");
    srv->ready = 1;
    return w;
fail:
    depot_web_stop(w);
    return NULL;
}

int depot_web_service(struct depot_web *w)
{
    int n = lws_service(w->srv.ctx, 0);
    web_webhooks_flush(&w->srv);
    return n;
}

void depot_web_publish(struct depot_web *w, const char *type, cJSON *data)
{
    web_events_publish(&w->srv, type, data);
}

void depot_web_wake(struct depot_web *w)
{
    lws_cancel_service(w->srv.ctx);
}

void depot_web_stop(struct depot_web *w)
{
    if (!w)
        return;
    struct web_server *srv = &w->srv;
    web_webhooks_stop(srv->webhooks); /* it wakes the loop: before the context goes */
    if (srv->ctx)
        lws_context_destroy(srv->ctx);
    web_webhooks_free(srv->webhooks);
    web_webhook_channels_free(srv->webhook_channels);
    explicit_bzero(srv->cfg.master_key, sizeof srv->cfg.master_key);
    web_events_free(srv->events);
    web_metrics_free(srv->metrics);
    web_ratelimit_free(srv->rl_ip);
    web_ratelimit_free(srv->rl_login_ip);
    web_ratelimit_free(srv->rl_login_user);
    depot_store_close(srv->st);
    free(w);
}

int depot_loop_adopt_fd(struct depot_web *w, int fd, const struct depot_loop_fd_ops *ops,
                        void *user)
{
    return depot_loop_watch_fd(w, fd, ops, user) ? 0 : -1;
}

struct depot_loop_fd *depot_loop_watch_fd(struct depot_web *w, int fd,
                                          const struct depot_loop_fd_ops *ops, void *user)
{
    struct depot_loop_fd *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->ops = *ops;
    f->user = user;
    lws_sock_file_fd_type u;
    u.filefd = fd;
    struct lws *wsi = lws_adopt_descriptor_vhost(w->srv.vhost, LWS_ADOPT_RAW_FILE_DESC, u,
                                                 "depot-raw-fd", NULL);
    if (!wsi) {
        free(f);
        return NULL;
    }
    f->wsi = wsi;
    lws_set_opaque_user_data(wsi, f);
    return f;
}

void depot_loop_fd_stop(struct depot_loop_fd *h)
{
    if (h->in_readable)
        h->stop = 1;
    else
        lws_set_timeout(h->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_SYNC);
}

static void timer_fired(lws_sorted_usec_list_t *sul)
{
    struct depot_timer *t = lws_container_of(sul, struct depot_timer, sul);
    t->fn(t);
}

void depot_loop_timer(struct depot_web *w, struct depot_timer *t, int64_t delay_ms)
{
    t->web = w;
    lws_sul_schedule(w->srv.ctx, 0, &t->sul, timer_fired,
                     (lws_usec_t)(delay_ms < 0 ? 0 : delay_ms) * LWS_US_PER_MS);
}

void depot_loop_timer_cancel(struct depot_web *w, struct depot_timer *t)
{
    (void)w;
    lws_sul_cancel(&t->sul);
}
