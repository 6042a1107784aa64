/* Shopify OAuth install (authorization code grant) for non-embedded apps:
 *   POST /api/v1/oauth/shopify/start (admin) -> the shop's authorize URL with our client
 *        id, scopes, redirect URI and a single-use `state` nonce (stored hashed, 10 min);
 *   GET  /oauth/shopify/callback (public)    -> verifies the query `hmac` (hex
 *        HMAC-SHA256 with the app secret over the other parameters sorted by key,
 *        compared in constant time), the shop domain format, and consumes the `state`
 *        (unknown, expired or replayed states are refused); then a short-lived thread
 *        exchanges the code for an offline token (asking for an expiring one, with
 *        refresh token), stores it sealed through depot_channel_add and the token cache,
 *        and queues the shop's webhook subscriptions to our /webhooks/shopify in the
 *        outbox (the outbound worker sends webhookSubscriptionCreate) -- all there, so
 *        the event loop never waits on Shopify. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <mbedtls/md.h>
#include "carriers.h"
#include "channel_sync.h"
#include "oauth.h"
#include "token_install.h"
#include "token_service.h"

#define SHOP_MAX SHOPIFY_SHOP_MAX
#define MAX_ARGS 24
#define ARG_MAX 1024

/* ---- start ------------------------------------------------------------------------ */

static void start(struct web_request *req, struct web_response *res)
{
    char shop[SHOP_MAX + 1], redirect[512], url[2048], err[256];
    cJSON *body = web_body_json(req, res);
    if (!body)
        return;
    const char *shop_in = web_json_string(body, "shop");
    const char *api_base = web_json_string(body, "api_base");
    const char *redirect_in = web_json_string(body, "redirect_uri");
    if (!shopify_shop_valid(shop_in, shop)) {
        web_respond_error(res, 400, "invalid_shop", "shop must be a <name>.myshopify.com domain");
        goto out;
    }
    if (redirect_in)
        snprintf(redirect, sizeof redirect, "%s", redirect_in);
    else if (oauth_self_url(req, "/oauth/shopify/callback", redirect, sizeof redirect) != 0) {
        web_respond_error(res, 400, "invalid_parameter", "no Host header: give redirect_uri");
        goto out;
    }
    depot_err e = shopify_install_start(req->srv->st, req->srv->cfg.master_key, shop_in,
                                        api_base, redirect, req->auth.actor, url, sizeof url,
                                        shop, err, sizeof err);
    if (e == DEPOT_E_INVALID) {
        web_respond_error(res, 400, "invalid_parameter", "%s", err);
        goto out;
    }
    if (e == DEPOT_E_NOT_FOUND) {
        web_respond_error(res, 409, "app_not_configured", "%s", err);
        goto out;
    }
    if (e != DEPOT_OK) {
        web_respond_store_error(res, req->srv->st, e);
        goto out;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "authorize_url", url);
    cJSON_AddStringToObject(doc, "shop", shop);
    cJSON_AddNumberToObject(doc, "state_expires_in", SHOPIFY_STATE_TTL_S);
    web_respond_json(res, 200, doc);
out:
    cJSON_Delete(body);
}

/* ---- callback: verification ------------------------------------------------------- */

struct arg {
    char *key, *value; /* split in place in buf */
    char buf[ARG_MAX];
};

static int arg_cmp(const void *a, const void *b)
{
    const struct arg *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

/* Appends s with Shopify's escaping for the HMAC message: % and & always, = in keys. */
static int put_escaped(char *out, size_t cap, size_t *n, const char *s, int is_key)
{
    for (; *s; s++) {
        const char *rep = *s == '%'               ? "%25"
                          : *s == '&'             ? "%26"
                          : (*s == '=' && is_key) ? "%3D"
                                                  : NULL;
        size_t k = rep ? 3 : 1;
        if (*n + k >= cap)
            return -1;
        if (rep)
            memcpy(out + *n, rep, 3);
        else
            out[*n] = *s;
        *n += k;
    }
    out[*n] = '\0';
    return 0;
}

static int put_char(char *out, size_t cap, size_t *n, char c)
{
    if (*n + 1 >= cap)
        return -1;
    out[(*n)++] = c;
    out[*n] = '\0';
    return 0;
}

/* Constant-time comparison of the expected and given lowercase hex digests. */
static int hmac_matches(const char *secret, const char *message, const char *given)
{
    unsigned char mac[32];
    char hex[65];
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    if (!given || strlen(given) != 64 ||
        mbedtls_md_hmac(md, (const unsigned char *)secret, strlen(secret),
                        (const unsigned char *)message, strlen(message), mac) != 0)
        return 0;
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    unsigned diff = 0;
    for (int i = 0; i < 64; i++)
        diff |= (unsigned)(hex[i] ^ (char)tolower((unsigned char)given[i]));
    explicit_bzero(mac, sizeof mac);
    return diff == 0;
}

static const char *arg_value(struct arg *args, int n, const char *key)
{
    for (int i = 0; i < n; i++)
        if (strcmp(args[i].key, key) == 0)
            return args[i].value;
    return NULL;
}

/* ---- callback: the code exchange, off the loop ------------------------------------ */

struct install_job {
    char db_path[4200];
    uint8_t key[DEPOT_MASTER_KEY_LEN];
    char shop[SHOP_MAX + 1];
    char api_base[256];
    char code[256];
    char webhook_url[512]; /* where Shopify should send the shop's webhooks */
};

static void audit_failure(depot_store *st, const char *action, const char *shop,
                          const char *reason)
{
    char entity[SHOP_MAX + 8];
    snprintf(entity, sizeof entity, "shop:%s", shop);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "reason", reason);
    char *json = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    if (json)
        depot_audit_append(st, "oauth:shopify", action, entity, json);
    cJSON_free(json);
}

static void *install_run(void *arg)
{
    struct install_job *j = arg;
    char err[TOKEN_ERROR_MAX + 64], scopes[256], url[512], owner[DEPOT_TOKEN_OWNER_MAX];
    char *cid = NULL, *csec = NULL, *body = NULL;
    struct token_answer a = {0};
    depot_store *st = NULL;
    int64_t id = 0;

    if (depot_store_open(j->db_path, NULL, &st, err, sizeof err) != DEPOT_OK)
        goto out;
    if (depot_oauth_app_get(st, j->key, "shopify", &cid, &csec, scopes) != DEPOT_OK) {
        audit_failure(st, "oauth.install_failed", j->shop, depot_store_errmsg(st));
        goto out;
    }
    if (j->api_base[0])
        snprintf(url, sizeof url, "%s/admin/oauth/access_token", j->api_base);
    else
        snprintf(url, sizeof url, "https://%s/admin/oauth/access_token", j->shop);
    char *e_id = curl_easy_escape(NULL, cid, 0), *e_sec = curl_easy_escape(NULL, csec, 0);
    char *e_code = curl_easy_escape(NULL, j->code, 0);
    size_t len = (e_id && e_sec && e_code) ? strlen(e_id) + strlen(e_sec) + strlen(e_code) + 80 : 0;
    if (len && (body = malloc(len)))
        snprintf(body, len, "client_id=%s&client_secret=%s&code=%s&expiring=1", e_id, e_sec,
                 e_code);
    if (e_sec)
        explicit_bzero(e_sec, strlen(e_sec));
    curl_free(e_id);
    curl_free(e_sec);
    curl_free(e_code);
    if (!body) {
        audit_failure(st, "oauth.install_failed", j->shop, "out of memory");
        goto out;
    }
    if (token_request(url, body, 0, NULL, NULL, 15000, csec, &a, err, sizeof err) != DEPOT_OK) {
        audit_failure(st, "oauth.install_failed", j->shop, err);
        goto out;
    }
    /* Shopify signs an app's webhooks with the app's client secret. */
    struct depot_channel_credentials cred = {.token = a.access_token, .webhook_secret = csec};
    depot_err e = depot_channel_add(st, j->key, "shopify", j->shop,
                                    j->api_base[0] ? j->api_base : NULL, NULL, &cred,
                                    "oauth:shopify", &id);
    if (e == DEPOT_OK) {
        snprintf(owner, sizeof owner, "channel:%lld", (long long)id);
        e = depot_token_store(st, j->key, owner, a.access_token,
                              a.expires_in ? (int64_t)time(NULL) + a.expires_in : 0,
                              a.refresh_token, "oauth:shopify");
    }
    /* The subscriptions go through the outbox: durable, retried, and "already taken"
     * (a re-install) counts as done. */
    if (e == DEPOT_OK)
        e = depot_channel_webhooks_queue(st, id, j->webhook_url, "oauth:shopify", NULL);
    if (e != DEPOT_OK)
        audit_failure(st, "oauth.install_failed", j->shop, depot_store_errmsg(st));
out:
    token_answer_free(&a);
    token_secret_free(body);
    token_secret_free(cid);
    token_secret_free(csec);
    depot_store_close(st);
    explicit_bzero(j, sizeof *j);
    free(j);
    return NULL;
}

static int spawn_install(struct web_request *req, const char *shop, const char *api_base,
                         const char *code)
{
    struct install_job *j = calloc(1, sizeof *j);
    pthread_t t;
    if (!j)
        return -1;
    if (oauth_self_url(req, "/webhooks/shopify", j->webhook_url, sizeof j->webhook_url) != 0) {
        free(j);
        return -1;
    }
    snprintf(j->db_path, sizeof j->db_path, "%s/depot.db", req->srv->cfg.data_dir);
    memcpy(j->key, req->srv->cfg.master_key, sizeof j->key);
    snprintf(j->shop, sizeof j->shop, "%s", shop);
    if (api_base) {
        size_t n = strlen(api_base);
        while (n > 0 && api_base[n - 1] == '/')
            n--;
        snprintf(j->api_base, sizeof j->api_base, "%.*s", (int)n, api_base);
    }
    snprintf(j->code, sizeof j->code, "%s", code);
    if (pthread_create(&t, NULL, install_run, j) != 0) {
        explicit_bzero(j, sizeof *j);
        free(j);
        return -1;
    }
    pthread_detach(t);
    return 0;
}

static void callback(struct web_request *req, struct web_response *res)
{
    struct arg *args = calloc(MAX_ARGS, sizeof *args);
    char message[8192], shop[SHOP_MAX + 1], scopes[256], subject[513];
    char *cid = NULL, *csec = NULL;
    cJSON *sub = NULL;
    int n = 0;
    size_t mlen = 0;

    if (!args) {
        web_respond_error(res, 500, "out_of_memory", "out of memory");
        return;
    }
    for (int i = 0;; i++) {
        int len = lws_hdr_copy_fragment(req->wsi, args[n].buf, ARG_MAX, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (len < 0)
            break;
        if (n == MAX_ARGS) {
            web_respond_error(res, 400, "invalid_parameter", "too many query parameters");
            goto out;
        }
        char *eq = strchr(args[n].buf, '=');
        args[n].key = args[n].buf;
        args[n].value = eq ? eq + 1 : args[n].buf + len;
        if (eq)
            *eq = '\0';
        n++;
    }
    const char *given = arg_value(args, n, "hmac"), *shop_in = arg_value(args, n, "shop");
    const char *state = arg_value(args, n, "state"), *code = arg_value(args, n, "code");
    if (!given || !shop_in || !state || !code || !code[0] || strlen(code) > 255) {
        web_respond_error(res, 400, "invalid_parameter",
                          "the callback needs code, hmac, shop and state");
        goto out;
    }
    depot_err e = depot_oauth_app_get(req->srv->st, req->srv->cfg.master_key, "shopify", &cid,
                                      &csec, scopes);
    if (e != DEPOT_OK) {
        web_respond_error(res, 409, "app_not_configured", "the Shopify app is not configured");
        goto out;
    }
    /* The message: every parameter but hmac (and the legacy signature), sorted. */
    struct arg *signed_args = calloc((size_t)n + 1, sizeof *signed_args);
    int m = 0;
    for (int i = 0; signed_args && i < n; i++)
        if (strcmp(args[i].key, "hmac") != 0 && strcmp(args[i].key, "signature") != 0)
            signed_args[m++] = args[i];
    if (!signed_args) {
        web_respond_error(res, 500, "out_of_memory", "out of memory");
        goto out;
    }
    qsort(signed_args, (size_t)m, sizeof *signed_args, arg_cmp);
    message[0] = '\0';
    int fail = 0;
    for (int i = 0; i < m; i++) {
        if (i)
            fail |= put_char(message, sizeof message, &mlen, '&');
        fail |= put_escaped(message, sizeof message, &mlen, signed_args[i].key, 1);
        fail |= put_char(message, sizeof message, &mlen, '=');
        fail |= put_escaped(message, sizeof message, &mlen, signed_args[i].value, 0);
    }
    free(signed_args);
    if (fail || !hmac_matches(csec, message, given)) {
        web_respond_error(res, 401, "invalid_hmac", "the callback's hmac does not verify");
        goto out;
    }
    if (!shopify_shop_valid(shop_in, shop)) {
        web_respond_error(res, 400, "invalid_shop", "shop is not a <name>.myshopify.com domain");
        goto out;
    }
    e = depot_oauth_nonce_consume(req->srv->st, "shopify_install", state, subject);
    if (e == DEPOT_E_STATE) {
        web_respond_error(res, 403, "state_reused", "this install link was already used");
        goto out;
    }
    if (e != DEPOT_OK) {
        web_respond_error(res, 403, "invalid_state", "unknown or expired state");
        goto out;
    }
    sub = cJSON_Parse(subject);
    const char *want_shop = web_json_string(sub, "shop");
    if (!want_shop || strcmp(want_shop, shop) != 0) {
        web_respond_error(res, 403, "invalid_state", "the state was issued for another shop");
        goto out;
    }
    if (spawn_install(req, shop, web_json_string(sub, "api_base"), code) != 0) {
        web_respond_error(res, 503, "unavailable", "cannot start the installation");
        goto out;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "status", "installing");
    cJSON_AddStringToObject(doc, "shop", shop);
    web_respond_json(res, 202, doc);
out:
    cJSON_Delete(sub);
    token_secret_free(cid);
    token_secret_free(csec);
    explicit_bzero(args, MAX_ARGS * sizeof *args);
    free(args);
}

const struct web_route web_routes_oauth_shopify[] = {
    {WEB_POST, "/api/v1/oauth/shopify/start", WEB_ROLE_ADMIN, 0, start, "oauth_shopify_start"},
    {WEB_GET, "/oauth/shopify/callback", WEB_ROLE_NONE, WEB_ROUTE_PUBLIC, callback,
     "oauth_shopify_callback"},
    {0},
};
