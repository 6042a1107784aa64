/* Private interface shared by the files of web/: the server state, one HTTP request and
 * its response, routes, authentication results, and the hooks (events, metrics, rate
 * limits) the request path calls. Nothing outside web/ includes this; daemon/ uses web.h.
 *
 * Everything here runs on the event-loop thread (libwebsockets' service thread), except
 * web_events_publish(), which any thread may call. Handlers are synchronous: they read the
 * request, call the store (short SQLite transactions on the web thread's own connection)
 * and fill the response; the glue in http.c writes it out without blocking. */
#ifndef DEPOT_WEB_INT_H
#define DEPOT_WEB_INT_H

#include <libwebsockets.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "store.h"
#include "web.h"

/* ---- Roles and authentication ----------------------------------------------------- */

enum web_role {
    WEB_ROLE_NONE = 0, /* anonymous: only public routes */
    WEB_ROLE_PACKER = 1,
    WEB_ROLE_SUPERVISOR = 2,
    WEB_ROLE_ADMIN = 3,
};

/* "packer" -> WEB_ROLE_PACKER ...; WEB_ROLE_NONE for anything else. */
enum web_role web_role_parse(const char *name);
const char *web_role_name(enum web_role r);

struct web_auth {
    enum web_role role;  /* WEB_ROLE_NONE when not authenticated */
    char actor[96];      /* audit actor: "user:alice" or "token:ci-bot" */
    int via_session;     /* 1 = session cookie (CSRF applies), 0 = bearer token */
    int64_t user_id;     /* session user, 0 for tokens */
    int64_t session_id;  /* 0 for tokens */
    char csrf[65];       /* the session's CSRF token (hex), "" for tokens */
    int64_t expires_at;  /* the session's expiry (unix seconds), 0 for tokens */
};

/* ---- Requests and responses ------------------------------------------------------- */

enum web_method {
    WEB_GET = 1,
    WEB_POST,
    WEB_PUT,
    WEB_PATCH,
    WEB_DELETE,
    WEB_OPTIONS,
    WEB_HEAD,
};

const char *web_method_name(enum web_method m);

#define WEB_MAX_PARAMS 4

struct web_response;
struct web_route;

struct web_request {
    struct web_server *srv;
    struct lws *wsi;
    enum web_method method;
    char path[1024];           /* URL-decoded path, no query ("/api/v1/orders/12") */
    char peer[64];             /* client IP address */
    char request_id[17];       /* 16 hex chars, also sent as X-Request-Id */
    char *body;                /* NUL-terminated copy of the body (may be NULL) */
    size_t body_len;
    const char *params[WEB_MAX_PARAMS]; /* {name} segments of the matched route, in order */
    char param_buf[512];       /* storage for params */
    struct web_auth auth;
    const struct web_route *route; /* NULL for static files */
};

/* A request header by name, case-insensitive ("x-csrf-token", "cookie", "authorization",
 * "content-type", or any custom header). Copies into buf (NUL-terminated) and returns
 * buf, or NULL if absent or longer than len-1. */
const char *web_header(struct web_request *req, const char *name, char *buf, size_t len);

/* A query-string argument by name, URL-decoded, into buf; returns buf or NULL if absent. */
const char *web_query(struct web_request *req, const char *name, char *buf, size_t len);

/* Query helpers for lists: an integer argument within [min, max], or def when absent.
 * On a bad value fills res with 400 invalid_parameter and returns -1. */
int web_query_int(struct web_request *req, struct web_response *res, const char *name,
                  int64_t min, int64_t max, int64_t def, int64_t *out);

/* Route parameter i as a positive integer id; on failure fills res with 400 and returns
 * -1. */
int web_param_id(struct web_request *req, struct web_response *res, int i, int64_t *out);

/* Parses the body as a JSON object (at most 32 levels deep). On failure fills res with
 * 400 invalid_json (or 415 if Content-Type is not application/json) and returns NULL.
 * Caller frees with cJSON_Delete. */
cJSON *web_body_json(struct web_request *req, struct web_response *res);

/* A string member of a JSON object, or NULL (also when it is not a string). */
const char *web_json_string(const cJSON *obj, const char *name);

struct web_response {
    int status;                /* 0 until a handler sets it */
    const char *content_type;  /* static string */
    char *body;                /* malloc'd, owned by the response */
    size_t body_len;
    char headers[1536];        /* extra "Name: value\r\n" lines */
    size_t headers_len;
    int deferred;              /* the handler answers later through web_http_resume() */
};

/* Sets a JSON response; takes ownership of doc. */
void web_respond_json(struct web_response *res, int status, cJSON *doc);
/* Sets {"error":{"code":code,"message":...}} with the given status. */
void web_respond_error(struct web_response *res, int status, const char *code,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Maps a store error to a status (not_found 404, invalid_input 400, conflict 409,
 * insufficient_stock 409, invalid_state 409, busy 503, others 500) with the store's
 * message. */
void web_respond_store_error(struct web_response *res, depot_store *st, depot_err e);
/* Sets a raw body (copied) with a content type. */
void web_respond_raw(struct web_response *res, int status, const char *content_type,
                     const void *body, size_t len);
/* Adds a response header line; returns -1 if the header space is full. */
int web_add_header(struct web_response *res, const char *name, const char *value);

/* ---- Routes ----------------------------------------------------------------------- */

typedef void (*web_handler)(struct web_request *req, struct web_response *res);

enum web_route_flags {
    WEB_ROUTE_PUBLIC = 1 << 0,     /* no authentication at all (health, login, webhooks) */
    WEB_ROUTE_BIG_BODY = 1 << 1,   /* body may be up to max_upload_bytes (CSV import) */
    WEB_ROUTE_NO_CSRF = 1 << 2,    /* state-changing but exempt from CSRF (login) */
};

struct web_route {
    enum web_method method;
    const char *pattern;       /* "/api/v1/orders/{id}/reserve": {x} matches one segment */
    enum web_role min_role;    /* ignored for WEB_ROUTE_PUBLIC */
    unsigned flags;
    web_handler handler;
    const char *name;          /* metric label, e.g. "orders_reserve" */
};

/* Each module exports one table, terminated by an entry with handler == NULL. */
extern const struct web_route web_routes_health[];  /* health.c */
extern const struct web_route web_routes_auth[];    /* api_auth.c: login, logout, badges */
extern const struct web_route web_routes_stock[];   /* api_stock.c */
extern const struct web_route web_routes_orders[];  /* api_orders.c */
extern const struct web_route web_routes_sync[];    /* api_sync.c: outbox, inbox */
extern const struct web_route web_routes_admin[];   /* api_admin.c: users, tokens, audit */
extern const struct web_route web_routes_webhooks[]; /* webhook_*.c: Shopify, WooCommerce */

/* ---- Server state ----------------------------------------------------------------- */

struct web_ratelimit;  /* ratelimit.c */
struct web_webhooks;   /* webhooks.c */
struct web_metrics;    /* metrics.c */
struct web_events;     /* events.c: WebSocket clients and their queues */

struct web_server {
    struct depot_web_config cfg;
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    depot_store *st;                 /* the web thread's own connection */
    struct web_ratelimit *rl_ip;     /* all public/API requests, per client IP */
    struct web_ratelimit *rl_login_ip;   /* login attempts per client IP */
    struct web_ratelimit *rl_login_user; /* login attempts per user name */
    struct web_metrics *metrics;
    struct web_events *events;
    char ui_root[4096];              /* realpath of cfg.ui_dir, "" if none */
    int ready;                       /* /readyz: store open and migrated */
    struct web_webhooks *webhooks;   /* webhooks.c: deliveries waiting for their commit */
    struct web_webhook_channels *webhook_channels; /* webhook_channels.c: recent lookups */
};

/* ---- Authentication (auth.c) ------------------------------------------------------ */

/* Fills req->auth from "Authorization: Bearer <token>" or the session cookie. Returns 0
 * when authenticated, -1 when no or invalid credentials (req->auth.role stays NONE). */
int web_authenticate(struct web_request *req);

/* For a session-authenticated state-changing request: 0 if X-CSRF-Token matches the
 * session's token, else -1. Always 0 for bearer tokens and safe methods. */
int web_csrf_check(struct web_request *req);

#define WEB_SESSION_COOKIE "depot_session"

/* ---- Rate limiting (ratelimit.c) -------------------------------------------------- */

/* A token bucket per key (IP address, user name) in a bounded table; the least recently
 * seen key is evicted when it is full. rate = tokens per second, burst = bucket size. */
struct web_ratelimit *web_ratelimit_new(double rate, double burst, size_t max_keys);
void web_ratelimit_free(struct web_ratelimit *rl);
/* Takes one token for key at time now (seconds, monotonic). Returns 0 if allowed; else
 * -1 and *retry_after = whole seconds until a token is available (>= 1). */
int web_ratelimit_take(struct web_ratelimit *rl, const char *key, double now,
                       int *retry_after);

/* ---- Metrics (metrics.c) ---------------------------------------------------------- */

struct web_metrics *web_metrics_new(void);
void web_metrics_free(struct web_metrics *m);
/* Records one finished HTTP request: route name ("static", "not_found" when unrouted),
 * method, status and duration in seconds. */
void web_metrics_observe(struct web_metrics *m, const char *route, enum web_method method,
                         int status, double seconds);

/* The gauges /metrics shows beside the request series, gathered by its handler. */
struct web_metrics_gauges {
    size_t ws_clients;
    uint64_t ws_dropped;
    const cJSON *store; /* depot_store_stats_json()'s document; NULL leaves those out */
};

/* The whole page in Prometheus text format 0.0.4: malloc'd, NUL-terminated, *len bytes
 * (without the NUL); NULL when out of memory. */
char *web_metrics_render(const struct web_metrics *m, const struct web_metrics_gauges *g,
                         size_t *len);

/* ---- Events and WebSocket (events.c, ws.c) ---------------------------------------- */

/* Queues {"type":type, "data":data, "ts":...} for every connected WebSocket client;
 * takes ownership of data (may be NULL). Safe from any thread: events cross to the loop
 * thread through a mutex-protected list and lws_cancel_service(). */
void web_events_publish(struct web_server *srv, const char *type, cJSON *data);

struct web_events *web_events_new(void);
void web_events_free(struct web_events *ev);

/* Per-connection WebSocket state, allocated by libwebsockets as the protocol's
 * per-session data is the HTTP one (struct web_conn in http.c); ws.c keeps its own
 * client record behind this pointer. */
struct web_ws_client;

/* Called by http.c's protocol callback for the WebSocket reasons:
 * - filter: the upgrade request for /ws; authenticate (cookie or bearer); return 0 to
 *   accept, -1 to refuse (libwebsockets then closes with 403).
 * - established/closed: a client joined/left (allocate/free *client).
 * - writeable: send the next queued message; request another writeable if more remain.
 * - cancel: the loop was woken (LWS_CALLBACK_EVENT_WAIT_CANCELLED): move published events
 *   into every client's bounded queue (overflow: drop the queue, queue one
 *   {"type":"resync"}), and ask for writeable where there is something to send. */
int web_ws_filter(struct web_server *srv, struct lws *wsi);
void web_ws_established(struct web_server *srv, struct lws *wsi,
                        struct web_ws_client **client);
void web_ws_closed(struct web_server *srv, struct web_ws_client **client);
int web_ws_writeable(struct web_server *srv, struct lws *wsi, struct web_ws_client *client);
void web_ws_cancel(struct web_server *srv);

/* The hub's side of ws.c (events.c), all on the loop thread: the clients and their
 * bounded queues. A queued message is JSON text with LWS_PRE bytes of headroom before it.
 * join returns NULL when out of memory; send queues one message for c alone (takes
 * ownership of data; 0 or -1); deliver moves published events into every queue and asks
 * for writeable where something was queued; next gives c's oldest message (1), nothing
 * (0), or -1 when the connection must be dropped; pop removes what next gave and returns
 * 1 if more are queued. */
struct web_ws_client *web_events_join(struct web_events *ev, struct lws *wsi);
void web_events_leave(struct web_events *ev, struct web_ws_client *c);
int web_events_send(struct web_events *ev, struct web_ws_client *c, const char *type,
                    cJSON *data);
void web_events_deliver(struct web_events *ev);
int web_events_next(struct web_ws_client *c, unsigned char **msg, size_t *len);
int web_events_pop(struct web_ws_client *c);
/* Connected clients, and messages dropped so far because a queue was full. */
void web_events_counts(const struct web_events *ev, size_t *clients, uint64_t *dropped);

/* ---- Static files (static.c) ------------------------------------------------------ */

/* Serves req->path from the UI root (GET/HEAD only): content type by extension, ETag and
 * Cache-Control, 304 on If-None-Match; 404 for anything missing or outside the root
 * (.., encoded forms, symlinks leading out). */
void web_static_serve(struct web_request *req, struct web_response *res);

/* The file path names under root (a realpath), resolved into out: "/" and a trailing "/"
 * mean index.html. Returns 0, or -1 for a refused path (.., backslash, %, control
 * characters, hidden segments), one that does not exist, or one leading out of root. */
int web_static_resolve(const char *root, const char *path, char *out, size_t outlen);

/* ---- The request path (router.c) -------------------------------------------------- */

/* Everything that can be decided from the headers, before any body is read: rate limit
 * (429 + Retry-After), route match (404/405; unrouted GETs outside /api/ and /webhooks/
 * go to static files), authentication (401), role (403), CSRF (403). Returns 1 when res
 * holds the final answer, 0 when the request may proceed to web_dispatch. */
int web_precheck(struct web_request *req, struct web_response *res);

/* Runs the matched route's handler (or the static file server). Always fills res. */
void web_dispatch(struct web_request *req, struct web_response *res);

/* The route that matches method+path, filling req->params; NULL if none. *path_matched
 * is set when some route has this path with another method (for 405). */
const struct web_route *web_route_find(struct web_request *req, int *path_matched);

/* Largest body accepted for the request's route. */
size_t web_body_limit(struct web_server *srv, const struct web_route *route);

double web_now(void); /* monotonic seconds */

/* ---- Deferred answers (http.c, webhooks.c) ----------------------------------------- */

/* A handler that sets res->deferred leaves the connection waiting; it later fills res
 * and calls web_http_resume(wsi) on the loop thread to send it. If the client goes
 * away first, http.c calls web_deferred_abandon(req) before the request's memory is
 * reset, and the handler must not touch req, res or wsi again. */
void web_http_resume(struct lws *wsi);
void web_deferred_abandon(struct web_request *req);

/* ---- The libwebsockets glue (http.c) and TLS material (tls.c) --------------------- */

/* The protocol callback for HTTP and WebSocket connections, and the size of its
 * per-connection state. */
int web_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                      void *in, size_t len);
size_t web_http_conn_size(void);

/* With TLS on: the certificate and key paths to use (cfg's, or a self-signed pair
 * generated into <data_dir>/tls/ on first start, reused afterwards; *generated says
 * which). Returns 0, or -1 with a one-line reason in err. */
int web_tls_prepare(const struct depot_web_config *cfg, char *cert, size_t certlen,
                    char *key, size_t keylen, int *generated, char *err, size_t errlen);

#endif
