/* Who is calling: the bearer token or session cookie of a request turned into a role and
 * an audit actor, the CSRF check for cookie requests, and role names. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <mbedtls/constant_time.h>
#include "log.h"
#include "web_int.h"

/* Rationale: an Authorization header, when present, is the only credential considered:
 * a wrong token is refused even if a valid cookie came along, so a client never acts
 * with an identity it did not mean to use. Browsers send every cookie of the host,
 * including other applications' on other ports of the same host, and may send two
 * depot_session cookies (another path, a stale one); each well-formed candidate is tried,
 * up to a few. The CSRF token is compared in constant time, all 64 characters. */
#define MAX_SESSION_CANDIDATES 4
#define COOKIE_BUF 8192
#define MAX_COOKIE_HEADERS 32

enum web_role web_role_parse(const char *name)
{
    if (!name)
        return WEB_ROLE_NONE;
    if (strcmp(name, "packer") == 0)
        return WEB_ROLE_PACKER;
    if (strcmp(name, "supervisor") == 0)
        return WEB_ROLE_SUPERVISOR;
    if (strcmp(name, "admin") == 0)
        return WEB_ROLE_ADMIN;
    return WEB_ROLE_NONE;
}

const char *web_role_name(enum web_role r)
{
    switch (r) {
    case WEB_ROLE_PACKER: return "packer";
    case WEB_ROLE_SUPERVISOR: return "supervisor";
    case WEB_ROLE_ADMIN: return "admin";
    case WEB_ROLE_NONE: break;
    }
    return "anonymous";
}

/* Logs a store failure that is not simply a wrong credential (locked or broken DB). */
static void log_store_trouble(struct web_request *req, depot_err e)
{
    if (e != DEPOT_E_NOT_FOUND)
        depot_log_kv(DEPOT_LOG_WARN, "web", DEPOT_KV({"request_id", req->request_id}),
                     "cannot check credentials: %s", depot_store_errmsg(req->srv->st));
}

static int auth_bearer(struct web_request *req, const char *header)
{
    char role[16], name[65];
    if (strncasecmp(header, "Bearer", 6) != 0 || (header[6] != ' ' && header[6] != '\t'))
        return -1;
    const char *token = header + 6;
    while (*token == ' ' || *token == '\t')
        token++;
    depot_err e = depot_token_check(req->srv->st, token, role, name);
    if (e != DEPOT_OK) {
        log_store_trouble(req, e);
        return -1;
    }
    req->auth.role = web_role_parse(role);
    req->auth.via_session = 0;
    snprintf(req->auth.actor, sizeof req->auth.actor, "token:%s", name);
    return req->auth.role == WEB_ROLE_NONE ? -1 : 0;
}

static int auth_session(struct web_request *req, const char *token)
{
    struct depot_session s;
    depot_err e = depot_session_lookup(req->srv->st, token, &s);
    if (e != DEPOT_OK) {
        log_store_trouble(req, e);
        return -1;
    }
    req->auth.role = web_role_parse(s.role);
    if (req->auth.role == WEB_ROLE_NONE)
        return -1;
    req->auth.via_session = 1;
    req->auth.user_id = s.user_id;
    req->auth.session_id = s.id;
    req->auth.expires_at = s.expires_at;
    snprintf(req->auth.actor, sizeof req->auth.actor, "user:%s", s.user);
    memcpy(req->auth.csrf, s.csrf, sizeof req->auth.csrf);
    return 0;
}

/* Splits one Cookie header ("a=1; depot_session=...; b=2") in place and tries each
 * well-formed depot_session value, counting them in *tried. */
static int auth_cookie_line(struct web_request *req, char *line, int *tried)
{
    for (char *save = NULL, *pair = strtok_r(line, ";", &save);
         pair && *tried < MAX_SESSION_CANDIDATES; pair = strtok_r(NULL, ";", &save)) {
        while (*pair == ' ' || *pair == '\t')
            pair++;
        char *eq = strchr(pair, '=');
        if (!eq || (size_t)(eq - pair) != strlen(WEB_SESSION_COOKIE) ||
            strncmp(pair, WEB_SESSION_COOKIE, (size_t)(eq - pair)) != 0)
            continue;
        char *value = eq + 1, *end = value + strlen(value);
        while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (end - value >= 2 && value[0] == '"' && end[-1] == '"') {
            end[-1] = '\0';
            value++;
        }
        if (strlen(value) != DEPOT_SESSION_TOKEN_LEN)
            continue;
        ++*tried;
        if (auth_session(req, value) == 0)
            return 0;
    }
    return -1;
}

/* Every Cookie header separately: HTTP/2 clients split cookies over several, and
 * libwebsockets' joined copy has no reliable separator between them. */
static int auth_cookies(struct web_request *req)
{
    char line[COOKIE_BUF];
    int tried = 0;
    for (int f = 0; f < MAX_COOKIE_HEADERS && tried < MAX_SESSION_CANDIDATES; f++) {
        int n = lws_hdr_copy_fragment(req->wsi, line, sizeof line, WSI_TOKEN_HTTP_COOKIE, f);
        if (n == -1)
            break; /* no more */
        if (n >= 0 && auth_cookie_line(req, line, &tried) == 0)
            return 0;
    }
    return -1;
}

int web_authenticate(struct web_request *req)
{
    char header[256];
    int rc = -1;
    memset(&req->auth, 0, sizeof req->auth);
    if (!req->wsi)
        return -1;
    if (lws_hdr_total_length(req->wsi, WSI_TOKEN_HTTP_AUTHORIZATION) > 0)
        rc = web_header(req, "authorization", header, sizeof header)
                 ? auth_bearer(req, header) : -1;
    else
        rc = auth_cookies(req);
    if (rc != 0)
        memset(&req->auth, 0, sizeof req->auth);
    return rc;
}

int web_csrf_check(struct web_request *req)
{
    char got[128];
    if (!req->auth.via_session || req->method == WEB_GET || req->method == WEB_HEAD ||
        req->method == WEB_OPTIONS)
        return 0;
    size_t want_len = strlen(req->auth.csrf);
    if (want_len != DEPOT_CSRF_TOKEN_LEN || !web_header(req, "x-csrf-token", got, sizeof got) ||
        strlen(got) != want_len)
        return -1;
    return mbedtls_ct_memcmp(got, req->auth.csrf, want_len) == 0 ? 0 : -1;
}
