/* The request path: rate limiting, route matching, authentication, roles and CSRF before
 * the body is read; the handler after; security headers and metrics on the way out. */
#include <stdio.h>
#include <string.h>
#include "web_int.h"
#include "api_pack.h"
#include "api_devices.h"
#include "api_print.h"
#include "api_returns.h"
#include "api_sync_status.h"
#include "oauth.h"

static const struct web_route *const route_tables[] = {
    web_routes_health, web_routes_auth,  web_routes_stock,
    web_routes_orders, web_routes_sync,  web_routes_admin,
    web_routes_pack,   web_routes_scan,  web_routes_webhooks,
    web_routes_devices, web_routes_sync_status, web_routes_print,
    web_routes_oauth_shopify, web_routes_oauth_woocommerce, web_routes_labels,
    web_routes_carriers, web_routes_returns,
};

/* Matches "/api/v1/orders/{id}/reserve" against a path, one segment per {x}; captured
 * segments are copied into req->param_buf. Returns 1 on a match. */
static int pattern_match(struct web_request *req, const char *pattern, const char *path)
{
    const char *p = pattern, *s = path;
    int n = 0;
    size_t used = 0;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            size_t len = strcspn(s, "/");
            if (!close || len == 0 || n == WEB_MAX_PARAMS || used + len + 1 > sizeof req->param_buf)
                return 0;
            memcpy(req->param_buf + used, s, len);
            req->param_buf[used + len] = '\0';
            req->params[n++] = req->param_buf + used;
            used += len + 1;
            p = close + 1;
            s += len;
        } else if (*p++ != *s++) {
            return 0;
        }
    }
    return *p == '\0' && *s == '\0';
}

const struct web_route *web_route_find(struct web_request *req, int *path_matched)
{
    *path_matched = 0;
    for (size_t t = 0; t < sizeof route_tables / sizeof route_tables[0]; t++) {
        for (const struct web_route *r = route_tables[t]; r->handler; r++) {
            memset(req->params, 0, sizeof req->params);
            if (!pattern_match(req, r->pattern, req->path))
                continue;
            enum web_method m = req->method == WEB_HEAD ? WEB_GET : req->method;
            if (r->method == m)
                return r;
            *path_matched = 1;
        }
    }
    memset(req->params, 0, sizeof req->params);
    return NULL;
}

size_t web_body_limit(struct web_server *srv, const struct web_route *route)
{
    if (route && (route->flags & WEB_ROUTE_BIG_BODY))
        return srv->cfg.max_upload_bytes;
    return srv->cfg.max_body_bytes;
}

static int is_api_path(const char *path)
{
    return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0 ||
           strncmp(path, "/webhooks/", 10) == 0;
}

int web_precheck(struct web_request *req, struct web_response *res)
{
    struct web_server *srv = req->srv;
    int retry_after = 0;
    if (web_ratelimit_take(srv->rl_ip, req->peer, web_now(), &retry_after) != 0) {
        char v[16];
        snprintf(v, sizeof v, "%d", retry_after);
        web_add_header(res, "Retry-After", v);
        web_respond_error(res, 429, "rate_limited",
                          "too many requests from %s; retry in %d s", req->peer, retry_after);
        return 1;
    }
    int path_matched;
    req->route = web_route_find(req, &path_matched);
    if (!req->route) {
        if (path_matched) {
            web_respond_error(res, 405, "method_not_allowed", "%s is not allowed on %s",
                              web_method_name(req->method), req->path);
            return 1;
        }
        if (is_api_path(req->path)) {
            web_respond_error(res, 404, "not_found", "no such endpoint: %s", req->path);
            return 1;
        }
        if (req->method != WEB_GET && req->method != WEB_HEAD) {
            web_respond_error(res, 405, "method_not_allowed", "%s is not allowed on %s",
                              web_method_name(req->method), req->path);
            return 1;
        }
        return 0; /* a static file */
    }
    if (req->route->flags & WEB_ROUTE_PUBLIC)
        return 0;
    if (web_authenticate(req) != 0) {
        web_add_header(res, "WWW-Authenticate", "Bearer realm=\"depot\"");
        web_respond_error(res, 401, "unauthenticated",
                          "log in or send Authorization: Bearer <token>");
        return 1;
    }
    if (req->auth.role < req->route->min_role) {
        web_respond_error(res, 403, "forbidden", "this needs the %s role; you are %s",
                          web_role_name(req->route->min_role), web_role_name(req->auth.role));
        return 1;
    }
    if (!(req->route->flags & WEB_ROUTE_NO_CSRF) && web_csrf_check(req) != 0) {
        web_respond_error(res, 403, "csrf_failed",
                          "missing or wrong X-CSRF-Token for a session request");
        return 1;
    }
    return 0;
}

void web_dispatch(struct web_request *req, struct web_response *res)
{
    if (req->route)
        req->route->handler(req, res);
    else
        web_static_serve(req, res);
    if (res->status == 0)
        web_respond_error(res, 500, "internal_error", "the handler produced no response");
}
