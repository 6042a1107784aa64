/* Public interface of the web server for the daemon: start it on the event loop, run the
 * loop, publish events to WebSocket clients, stop it. The loop is libwebsockets' own:
 * other parts of the daemon attach file descriptors and timers through depot_loop_*. */
#ifndef DEPOT_WEB_H
#define DEPOT_WEB_H

#include <libwebsockets.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "store.h"

struct depot_web_config {
    char listen_host[254];
    int listen_port;
    char ui_dir[4096];        /* static UI files; "" serves none */
    char data_dir[4096];      /* where a generated TLS certificate is kept */
    int tls;                  /* serve HTTPS */
    char tls_cert[4096];      /* PEM paths; both "" with tls on: self-signed, generated */
    char tls_key[4096];
    size_t max_body_bytes;    /* API and webhook bodies (413 above) */
    size_t max_upload_bytes;  /* CSV upload bodies */
    double rate_per_ip;       /* requests per second per client IP */
    double rate_burst;
    int session_ttl;          /* seconds a login session lasts */
    int request_timeout;      /* seconds to receive headers and body (slow clients) */
    uint8_t master_key[DEPOT_MASTER_KEY_LEN]; /* decrypts channel webhook secrets */
    int webhook_stale_after;  /* seconds: older Shopify deliveries are flagged stale */
};

struct depot_web;

/* Creates the libwebsockets context, listens, and opens the web thread's own store
 * connection at db_path. Returns NULL with a one-line reason in err. */
struct depot_web *depot_web_start(const struct depot_web_config *cfg, const char *db_path,
                                  char *err, size_t errlen);

/* Services the loop once (blocks until there is something to do or a timer is due).
 * Returns < 0 when the loop is broken. */
int depot_web_service(struct depot_web *w);

/* Thread-safe: queue an event for every WebSocket client; takes ownership of data. */
void depot_web_publish(struct depot_web *w, const char *type, cJSON *data);

/* Wakes the loop from another thread. */
void depot_web_wake(struct depot_web *w);

/* Closes listeners and connections and frees everything. */
void depot_web_stop(struct depot_web *w);

/* ---- The event loop, for the rest of the daemon ---------------------------------- */

/* Calls readable(user) on the loop thread whenever fd is readable; closed(user) when the
 * descriptor hangs up or errors, after which the loop closes it. Returns 0 or -1. */
struct depot_loop_fd_ops {
    void (*readable)(void *user);
    void (*closed)(void *user);
};
int depot_loop_adopt_fd(struct depot_web *w, int fd, const struct depot_loop_fd_ops *ops,
                        void *user);

/* depot_loop_adopt_fd for a descriptor its owner may stop watching (a serial device that
 * can be unplugged): returns a handle, or NULL. The loop owns fd from then on and closes
 * it when the watch ends (adopt a dup() if the descriptor has another owner). */
struct depot_loop_fd;
struct depot_loop_fd *depot_loop_watch_fd(struct depot_web *w, int fd,
                                          const struct depot_loop_fd_ops *ops, void *user);
/* Ends the watch: the loop closes the descriptor and calls closed(user); the handle is
 * gone after that. Called from readable(user), this happens right after readable
 * returns; called elsewhere on the loop thread, before this returns. */
void depot_loop_fd_stop(struct depot_loop_fd *h);

/* A one-shot timer on the loop thread; re-arm from its callback for periodic work. The
 * struct must stay alive while scheduled. */
struct depot_timer {
    lws_sorted_usec_list_t sul; /* libwebsockets' timer node; first member */
    struct depot_web *web;
    void (*fn)(struct depot_timer *t);
    void *user;
};
void depot_loop_timer(struct depot_web *w, struct depot_timer *t, int64_t delay_ms);
void depot_loop_timer_cancel(struct depot_web *w, struct depot_timer *t);

#endif
