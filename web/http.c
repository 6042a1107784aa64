/* The libwebsockets protocol callback for HTTP and WebSocket connections: builds a
 * web_request from headers, collects the body under its size cap, runs the router, and
 * writes the response without blocking the loop -- at once, or later for a handler that
 * deferred it (webhooks answer after their commit). WebSocket reasons go to ws.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "vault.h"
#include "web_int.h"
#include "webhooks.h"

#define WRITE_CHUNK 16384
/* A body over the cap but under this is read and thrown away before the 413 is sent:
 * closing with unread bytes in the socket makes the kernel send a reset, which can destroy
 * the response before the client reads it. Anything larger is answered and closed. */
#define DISCARD_LIMIT (16u * 1024 * 1024)

/* Per-connection state (libwebsockets allocates it as the protocol's session data). */
struct web_conn {
    struct web_request req;
    struct web_response res;
    size_t body_cap;      /* allocated size of req.body */
    size_t body_limit;
    int body_expected;    /* waiting for HTTP_BODY callbacks */
    int discard_body;     /* the answer (413) is ready; the body is read and dropped */
    int responding;       /* a response is queued */
    int headers_sent;
    size_t sent;          /* body bytes written */
    int close_after;      /* close instead of keep-alive (unread body, protocol error) */
    double started;
    struct web_ws_client *ws;
    char peer[64];        /* the client's address, looked up once per connection */
};

static const char *const security_headers[][2] = {
    {"Content-Security-Policy",
     "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
     "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"},
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
};

static struct web_server *server_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

static void conn_reset(struct web_conn *c)
{
    free(c->req.body);
    free(c->res.body);
    struct web_ws_client *ws = c->ws;
    char peer[sizeof c->peer];
    memcpy(peer, c->peer, sizeof peer);
    memset(c, 0, sizeof *c);
    c->ws = ws;
    memcpy(c->peer, peer, sizeof peer);
}

static enum web_method request_method(struct lws *wsi)
{
    static const struct { enum lws_token_indexes tok; enum web_method m; } map[] = {
        {WSI_TOKEN_GET_URI, WEB_GET},       {WSI_TOKEN_POST_URI, WEB_POST},
        {WSI_TOKEN_PUT_URI, WEB_PUT},       {WSI_TOKEN_PATCH_URI, WEB_PATCH},
        {WSI_TOKEN_DELETE_URI, WEB_DELETE}, {WSI_TOKEN_OPTIONS_URI, WEB_OPTIONS},
        {WSI_TOKEN_HEAD_URI, WEB_HEAD},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (lws_hdr_total_length(wsi, map[i].tok) > 0)
            return map[i].m;
    return 0;
}

/* A new request id (16 hex digits) for logs and X-Request-Id -- unique, not a secret:
 * splitmix64 (a bijection) over a counter seeded from getrandom once, rather than a
 * system call per request. Only the loop thread calls it. */
static void request_id(char out[17])
{
    static uint64_t state;
    static int seeded;
    if (!seeded) {
        depot_random_bytes(&state, sizeof state);
        seeded = 1;
    }
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++)
        out[i] = hex[(z >> (60 - 4 * i)) & 0xf];
    out[16] = '\0';
}

/* Headers every response carries, then metrics; the response is then queued. */
static void respond(struct lws *wsi, struct web_conn *c)
{
    struct web_server *srv = server_of(wsi);
    for (size_t i = 0; i < sizeof security_headers / sizeof security_headers[0]; i++)
        web_add_header(&c->res, security_headers[i][0], security_headers[i][1]);
    web_add_header(&c->res, "X-Request-Id", c->req.request_id);
    if (c->req.route)
        web_add_header(&c->res, "Cache-Control", "no-store");
    web_metrics_observe(srv->metrics,
                        c->req.route ? c->req.route->name
                                     : (c->res.status == 404 ? "not_found" : "static"),
                        c->req.method, c->res.status, web_now() - c->started);
    if (c->res.status >= 500)
        depot_log_kv(DEPOT_LOG_WARN, "web",
                     DEPOT_KV({"request_id", c->req.request_id}, {"path", c->req.path}),
                     "%s %s -> %d", web_method_name(c->req.method), c->req.path,
                     c->res.status);
    c->responding = 1;
    lws_callback_on_writable(wsi);
}

/* A request whose headers have arrived: build it, precheck, then either answer now or
 * wait for the body. Returns -1 to drop the connection. */
static int on_request(struct lws *wsi, struct web_conn *c, const char *uri)
{
    struct web_server *srv = server_of(wsi);
    conn_reset(c);
    c->started = web_now();
    c->req.srv = srv;
    c->req.wsi = wsi;
    c->req.method = request_method(wsi);
    request_id(c->req.request_id);
    if (!c->peer[0])
        lws_get_peer_simple(wsi, c->peer, sizeof c->peer);
    memcpy(c->req.peer, c->peer, sizeof c->req.peer);
    if (!c->req.method) {
        c->close_after = 1;
        web_respond_error(&c->res, 405, "method_not_allowed", "unsupported method");
        respond(wsi, c);
        return 0;
    }
    if (!uri || strlen(uri) >= sizeof c->req.path || uri[0] != '/') {
        c->close_after = 1;
        web_respond_error(&c->res, 414, "uri_too_long", "the request path is too long");
        respond(wsi, c);
        return 0;
    }
    snprintf(c->req.path, sizeof c->req.path, "%s", uri);

    if (web_precheck(&c->req, &c->res)) {
        c->close_after = c->req.method != WEB_GET && c->req.method != WEB_HEAD;
        respond(wsi, c);
        return 0;
    }
    c->body_limit = web_body_limit(srv, c->req.route);
    char len_buf[32];
    const char *len_hdr = web_header(&c->req, "content-length", len_buf, sizeof len_buf);
    char te[32];
    int chunked = web_header(&c->req, "transfer-encoding", te, sizeof te) != NULL;
    unsigned long long declared = len_hdr ? strtoull(len_hdr, NULL, 10) : 0;
    if (chunked) { /* libwebsockets 4.1 cannot read chunked request bodies */
        c->close_after = 1;
        web_respond_error(&c->res, 411, "length_required",
                          "send the body with Content-Length, not chunked");
        respond(wsi, c);
        return 0;
    }
    if (declared > c->body_limit) {
        web_respond_error(&c->res, 413, "body_too_large",
                          "the body is %llu bytes; the limit is %zu", declared, c->body_limit);
        if (declared <= DISCARD_LIMIT) {
            c->discard_body = 1;
            c->body_expected = 1;
            lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, srv->cfg.request_timeout);
            return 0;
        }
        c->close_after = 1;
        respond(wsi, c);
        return 0;
    }
    int has_body_method = c->req.method == WEB_POST || c->req.method == WEB_PUT ||
                          c->req.method == WEB_PATCH;
    if (has_body_method && declared > 0) {
        c->req.body = malloc((size_t)declared + 1); /* at most body_limit: checked above */
        if (!c->req.body)
            return -1;
        c->body_cap = (size_t)declared + 1;
        c->body_expected = 1;
        lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, srv->cfg.request_timeout);
        return 0;
    }
    web_dispatch(&c->req, &c->res);
    if (!c->res.deferred)
        respond(wsi, c);
    return 0;
}

static int on_body(struct lws *wsi, struct web_conn *c, const void *in, size_t len)
{
    if (!c->body_expected || c->responding || c->discard_body)
        return 0;
    if (c->req.body_len + len > c->body_limit) {
        c->body_expected = 0;
        c->close_after = 1;
        web_respond_error(&c->res, 413, "body_too_large", "the body exceeds %zu bytes",
                          c->body_limit);
        respond(wsi, c);
        return 0;
    }
    if (c->req.body_len + len + 1 > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 4096;
        while (cap < c->req.body_len + len + 1)
            cap *= 2;
        char *p = realloc(c->req.body, cap);
        if (!p)
            return -1;
        c->req.body = p;
        c->body_cap = cap;
    }
    memcpy(c->req.body + c->req.body_len, in, len);
    c->req.body_len += len;
    c->req.body[c->req.body_len] = '\0';
    return 0;
}

static int on_body_complete(struct lws *wsi, struct web_conn *c)
{
    if (!c->body_expected || c->responding)
        return 0;
    c->body_expected = 0;
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    if (!c->discard_body)
        web_dispatch(&c->req, &c->res);
    if (!c->res.deferred)
        respond(wsi, c);
    return 0;
}

void web_http_resume(struct lws *wsi)
{
    struct web_conn *c = lws_wsi_user(wsi);
    if (!c || !c->res.deferred)
        return;
    c->res.deferred = 0;
    respond(wsi, c);
}

/* Writes the "Name: value\r\n" lines of res->headers through libwebsockets. */
static int add_headers(struct lws *wsi, const struct web_response *res, unsigned char **p,
                       unsigned char *end)
{
    const char *line = res->headers;
    while (*line) {
        const char *colon = strstr(line, ": "), *eol = strstr(line, "\r\n");
        if (!colon || !eol || colon > eol)
            return -1;
        char name[64], value[1024];
        size_t nl = (size_t)(colon - line), vl = (size_t)(eol - colon - 2);
        if (nl + 2 > sizeof name || vl >= sizeof value)
            return -1;
        for (size_t i = 0; i < nl; i++)
            name[i] = (char)(line[i] >= 'A' && line[i] <= 'Z' ? line[i] + 32 : line[i]);
        name[nl] = ':';
        name[nl + 1] = '\0';
        memcpy(value, colon + 2, vl);
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                        (const unsigned char *)value, (int)vl, p, end))
            return -1;
        line = eol + 2;
    }
    return 0;
}

static int on_writeable(struct lws *wsi, struct web_conn *c)
{
    unsigned char buf[LWS_PRE + WRITE_CHUNK];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    if (!c->responding)
        return 0;
    int head = c->req.method == WEB_HEAD;
    if (!c->headers_sent) {
        if (c->close_after)
            web_add_header(&c->res, "Connection", "close");
        if (lws_add_http_common_headers(wsi, (unsigned int)c->res.status,
                                        c->res.content_type ? c->res.content_type
                                                            : "application/octet-stream",
                                        c->res.body_len, &p, end) ||
            add_headers(wsi, &c->res, &p, end) || lws_finalize_http_header(wsi, &p, end))
            return -1;
        c->headers_sent = 1;
        /* A body that fits goes out with the headers: one send, one writeable round. */
        if (!head && c->res.body_len > 0 && c->res.body_len <= (size_t)(end - p)) {
            memcpy(p, c->res.body, c->res.body_len);
            p += c->res.body_len;
            c->sent = c->res.body_len;
        }
        int n = (int)(p - start);
        if (lws_write(wsi, start, (size_t)n, LWS_WRITE_HTTP_HEADERS) != n)
            return -1;
        if (!head && c->sent < c->res.body_len) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    } else if (!head && c->sent < c->res.body_len) {
        size_t n = c->res.body_len - c->sent;
        if (n > WRITE_CHUNK)
            n = WRITE_CHUNK;
        memcpy(start, c->res.body + c->sent, n);
        c->sent += n;
        int final = c->sent == c->res.body_len;
        if (lws_write(wsi, start, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
            return -1;
        if (!final) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    }
    int close_after = c->close_after;
    conn_reset(c);
    if (close_after)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

size_t web_http_conn_size(void)
{
    return sizeof(struct web_conn);
}

int web_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                      void *in, size_t len)
{
    struct web_conn *c = user;
    struct web_server *srv = wsi ? server_of(wsi) : NULL;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_request(wsi, c, in);
    case LWS_CALLBACK_HTTP_BODY:
        return on_body(wsi, c, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return on_body_complete(wsi, c);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return on_writeable(wsi, c);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (c && c->res.deferred) {
            c->res.deferred = 0;
            web_deferred_abandon(&c->req);
        }
        if (c)
            conn_reset(c);
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return web_ws_filter(srv, wsi) == 0 ? 0 : -1;
    case LWS_CALLBACK_ESTABLISHED:
        web_ws_established(srv, wsi, &c->ws);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return web_ws_writeable(srv, wsi, c->ws);
    case LWS_CALLBACK_CLOSED:
        web_ws_closed(srv, &c->ws);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        return 0; /* clients have nothing to say; events flow one way */
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (srv) {
            web_webhooks_completed(srv);
            web_ws_cancel(srv);
        }
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}
