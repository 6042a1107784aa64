/* The WebSocket endpoint GET /ws: authenticates the upgrade, greets the client with a
 * "hello" naming its role, and writes its queued events one message per writeable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "web_int.h"

#define WS_PATH "/ws"

/* Rationale: Linux grows a socket's send buffer to megabytes on its own, which would let
 * a client that stops reading park that much kernel memory and hide behind it for a long
 * time. Events are small and few, so a fixed 32 KiB (the kernel doubles it) is plenty for
 * a client that reads, and a stalled one reaches its bounded queue, and its resync,
 * quickly. */
#define WS_SNDBUF (32 * 1024)

static const char *status_text(int status)
{
    switch (status) {
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    }
    return "Error";
}

/* Answers the upgrade request with a JSON error and returns -1 (refuse): left alone,
 * libwebsockets would only close the socket. res holds the error and any extra headers. */
static int refuse(struct lws *wsi, struct web_response *res)
{
    unsigned char buf[LWS_PRE + 4096];
    char *p = (char *)buf + LWS_PRE;
    size_t room = sizeof buf - LWS_PRE;
    int n = snprintf(p, room,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\nCache-Control: no-store\r\n"
                     "X-Content-Type-Options: nosniff\r\n%s\r\n%.*s",
                     res->status, status_text(res->status), res->body_len, res->headers,
                     (int)res->body_len, res->body ? res->body : "");
    if (n > 0 && (size_t)n < room)
        lws_write(wsi, (unsigned char *)p, (size_t)n, LWS_WRITE_HTTP_HEADERS);
    free(res->body);
    return -1;
}

/* The upgrade request as a web_request, for authentication. */
static void upgrade_request(struct web_server *srv, struct lws *wsi, struct web_request *req)
{
    memset(req, 0, sizeof *req);
    req->srv = srv;
    req->wsi = wsi;
    req->method = WEB_GET;
    lws_get_peer_simple(wsi, req->peer, sizeof req->peer);
    if (lws_hdr_copy(wsi, req->path, sizeof req->path, WSI_TOKEN_GET_URI) < 0)
        req->path[0] = '\0';
}

/* A session cookie rides along with any page's request, so a cookie-authenticated
 * upgrade must come from our own origin (cross-site WebSocket hijacking). Browsers
 * always send Origin on WebSocket upgrades; other clients use bearer tokens. */
static int same_origin(struct web_request *req)
{
    char origin[300], host[256];
    const char *o = web_header(req, "origin", origin, sizeof origin);
    if (!o)
        return 1;
    if (!web_header(req, "host", host, sizeof host))
        return 0;
    const char *rest = strncmp(o, "https://", 8) == 0  ? o + 8
                       : strncmp(o, "http://", 7) == 0 ? o + 7
                                                       : NULL;
    return rest && strcasecmp(rest, host) == 0;
}

int web_ws_filter(struct web_server *srv, struct lws *wsi)
{
    struct web_request req;
    struct web_response res;
    int retry_after = 0;
    upgrade_request(srv, wsi, &req);
    memset(&res, 0, sizeof res);
    if (strcmp(req.path, WS_PATH) != 0) {
        web_respond_error(&res, 404, "not_found", "WebSocket upgrades go to %s", WS_PATH);
        return refuse(wsi, &res);
    }
    if (web_ratelimit_take(srv->rl_ip, req.peer, web_now(), &retry_after) != 0) {
        char v[16];
        snprintf(v, sizeof v, "%d", retry_after);
        web_add_header(&res, "Retry-After", v);
        web_respond_error(&res, 429, "rate_limited", "too many requests; retry in %d s",
                          retry_after);
        return refuse(wsi, &res);
    }
    if (web_authenticate(&req) != 0) {
        web_add_header(&res, "WWW-Authenticate", "Bearer realm=\"depot\"");
        web_respond_error(&res, 401, "unauthenticated",
                          "log in or send Authorization: Bearer <token>");
        return refuse(wsi, &res);
    }
    if (req.auth.via_session && !same_origin(&req)) {
        web_respond_error(&res, 403, "forbidden", "cross-origin WebSocket refused");
        return refuse(wsi, &res);
    }
    return 0;
}

/* Rationale: the filter and ESTABLISHED run in the same libwebsockets call with the
 * request headers still attached, so the credentials are simply checked again here to
 * learn the role (a cached token check does not write). Should that fail, or memory
 * run out, *client stays NULL and the first writeable drops the connection. */
void web_ws_established(struct web_server *srv, struct lws *wsi,
                        struct web_ws_client **client)
{
    struct web_request req;
    int sndbuf = WS_SNDBUF;
    upgrade_request(srv, wsi, &req);
    *client = NULL;
    setsockopt(lws_get_socket_fd(wsi), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    if (web_authenticate(&req) == 0 && (*client = web_events_join(srv->events, wsi))) {
        cJSON *hello = cJSON_CreateObject();
        cJSON_AddStringToObject(hello, "role", web_role_name(req.auth.role));
        cJSON_AddStringToObject(hello, "actor", req.auth.actor);
        web_events_send(srv->events, *client, "hello", hello);
    }
    lws_callback_on_writable(wsi);
}

void web_ws_closed(struct web_server *srv, struct web_ws_client **client)
{
    web_events_leave(srv->events, *client);
    *client = NULL;
}

int web_ws_writeable(struct web_server *srv, struct lws *wsi, struct web_ws_client *client)
{
    unsigned char *msg;
    size_t len;
    if (!client)
        return -1;
    int r = web_events_next(client, &msg, &len);
    if (r <= 0)
        return r;
    if (lws_write(wsi, msg, len, LWS_WRITE_TEXT) < (int)len)
        return -1;
    if (web_events_pop(client))
        lws_callback_on_writable(wsi);
    return 0;
}

void web_ws_cancel(struct web_server *srv)
{
    web_events_deliver(srv->events);
}
