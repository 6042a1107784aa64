/* The login endpoints: password and badge login (rate limited per IP and per user name),
 * logout, "who am I", and issuing a user's badge. */
#include <stdio.h>
#include <string.h>
#include <mbedtls/platform_util.h>
#include "log.h"
#include "web_int.h"

/* Rationale: a failed login says only "invalid_credentials", whether the user does not
 * exist, has no password or gave the wrong one (the store spends the same time hashing
 * in each case). Only a caller who proved the password or holds the badge learns that
 * the account is disabled. Every attempt takes a token from the client IP's bucket and,
 * for a password login, from the user name's; a badge carries 120 random bits, so the
 * IP limit alone makes guessing hopeless. */

static void set_cookie(struct web_request *req, struct web_response *res,
                       const char *value, int max_age)
{
    char cookie[256];
    snprintf(cookie, sizeof cookie, "%s=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Strict%s",
             WEB_SESSION_COOKIE, value, max_age, req->srv->cfg.tls ? "; Secure" : "");
    web_add_header(res, "Set-Cookie", cookie);
    mbedtls_platform_zeroize(cookie, sizeof cookie);
}

/* Takes a token for key; when none is left fills res with 429 and returns 1. */
static int rate_limited(struct web_ratelimit *rl, const char *key,
                        struct web_response *res)
{
    int retry_after;
    char v[16];
    if (web_ratelimit_take(rl, key, web_now(), &retry_after) == 0)
        return 0;
    snprintf(v, sizeof v, "%d", retry_after);
    web_add_header(res, "Retry-After", v);
    web_respond_error(res, 429, "rate_limited",
                      "too many login attempts; retry in %d s", retry_after);
    return 1;
}

/* Checks the body's credentials; fills user and role, or res with the refusal. */
static int check_credentials(struct web_request *req, struct web_response *res,
                             const cJSON *body, char user[DEPOT_USER_NAME_MAX + 1],
                             char role[16], const char **via)
{
    depot_store *st = req->srv->st;
    const char *name = web_json_string(body, "name");
    const char *password = web_json_string(body, "password");
    const char *badge = web_json_string(body, "badge");
    depot_err e;
    if (badge && !name && !password) {
        *via = "badge";
        e = depot_user_check_badge(st, badge, user, role);
    } else if (name && password && !badge) {
        *via = "password";
        if (rate_limited(req->srv->rl_login_user, name, res))
            return -1;
        e = depot_user_check_password(st, name, password, role);
        snprintf(user, DEPOT_USER_NAME_MAX + 1, "%s", name);
    } else {
        web_respond_error(res, 400, "invalid_input",
                          "send {\"name\":..,\"password\":..} or {\"badge\":..}");
        return -1;
    }
    if (e == DEPOT_OK)
        return 0;
    if (e == DEPOT_E_NOT_FOUND || e == DEPOT_E_CRYPTO) {
        /* Not the name: people type their password into it. */
        depot_log_kv(DEPOT_LOG_INFO, "web", DEPOT_KV({"peer", req->peer}),
                     "%s login refused", *via);
        web_respond_error(res, 401, "invalid_credentials",
                          "wrong user name, password or badge");
    } else if (e == DEPOT_E_STATE) {
        web_respond_error(res, 403, "account_disabled", "this account is disabled");
    } else {
        web_respond_store_error(res, st, e);
    }
    return -1;
}

static void login(struct web_request *req, struct web_response *res)
{
    struct web_server *srv = req->srv;
    char user[DEPOT_USER_NAME_MAX + 1] = "", role[16] = "";
    char token[DEPOT_SESSION_TOKEN_LEN + 1];
    const char *via = "";
    struct depot_session s;
    if (rate_limited(srv->rl_login_ip, req->peer, res))
        return;
    cJSON *body = web_body_json(req, res);
    if (!body)
        return;
    int ok = check_credentials(req, res, body, user, role, &via) == 0;
    cJSON_Delete(body);
    if (!ok)
        return;
    depot_err e = depot_session_create(srv->st, user, srv->cfg.session_ttl, via, req->peer,
                                       token, &s);
    if (e == DEPOT_E_STATE) {
        web_respond_error(res, 403, "account_disabled", "this account is disabled");
        return;
    }
    if (e != DEPOT_OK) {
        web_respond_store_error(res, srv->st, e);
        return;
    }
    set_cookie(req, res, token, srv->cfg.session_ttl);
    mbedtls_platform_zeroize(token, sizeof token);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "user", s.user);
    cJSON_AddStringToObject(doc, "role", s.role);
    cJSON_AddStringToObject(doc, "csrf_token", s.csrf);
    cJSON_AddNumberToObject(doc, "expires_at", (double)s.expires_at);
    web_respond_json(res, 200, doc);
}

static void logout(struct web_request *req, struct web_response *res)
{
    int ended = 0;
    if (req->auth.via_session) {
        depot_err e = depot_session_delete(req->srv->st, req->auth.session_id,
                                           req->auth.actor);
        if (e != DEPOT_OK && e != DEPOT_E_NOT_FOUND) {
            web_respond_store_error(res, req->srv->st, e);
            return;
        }
        ended = e == DEPOT_OK;
    }
    set_cookie(req, res, "", 0);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddBoolToObject(doc, "logged_out", ended);
    web_respond_json(res, 200, doc);
}

static void whoami(struct web_request *req, struct web_response *res)
{
    const struct web_auth *a = &req->auth;
    cJSON *doc = cJSON_CreateObject();
    if (a->via_session)
        cJSON_AddStringToObject(doc, "user", a->actor + strlen("user:"));
    else
        cJSON_AddNullToObject(doc, "user");
    cJSON_AddStringToObject(doc, "actor", a->actor);
    cJSON_AddStringToObject(doc, "role", web_role_name(a->role));
    cJSON_AddStringToObject(doc, "via", a->via_session ? "session" : "token");
    if (a->via_session) {
        cJSON_AddStringToObject(doc, "csrf_token", a->csrf);
        cJSON_AddNumberToObject(doc, "expires_at", (double)a->expires_at);
    }
    web_respond_json(res, 200, doc);
}

static void badge_issue(struct web_request *req, struct web_response *res)
{
    char badge[DEPOT_BADGE_LEN + 1];
    const char *name = req->params[0];
    depot_err e = depot_user_badge_issue(req->srv->st, name, req->auth.actor, badge);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, req->srv->st, e);
        return;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "user", name);
    cJSON_AddStringToObject(doc, "badge", badge);
    mbedtls_platform_zeroize(badge, sizeof badge);
    web_respond_json(res, 201, doc);
}

const struct web_route web_routes_auth[] = {
    {WEB_POST, "/api/v1/login", WEB_ROLE_NONE, WEB_ROUTE_PUBLIC | WEB_ROUTE_NO_CSRF, login,
     "login"},
    {WEB_POST, "/api/v1/logout", WEB_ROLE_PACKER, 0, logout, "logout"},
    {WEB_GET, "/api/v1/session", WEB_ROLE_PACKER, 0, whoami, "session"},
    {WEB_POST, "/api/v1/users/{name}/badge", WEB_ROLE_ADMIN, 0, badge_issue, "users_badge"},
    {0},
};
