/* WooCommerce key generation flow (/wc-auth/v1/authorize):
 *   POST /api/v1/oauth/woocommerce/start (admin) -> the store's authorize URL with
 *        app_name, scope=read_write, return_url, callback_url and user_id = a single-use
 *        nonce (stored hashed, 10 min);
 *   POST /oauth/woocommerce/callback (public)    -> the store POSTs {key_id, user_id,
 *        consumer_key, consumer_secret, key_permissions}; the nonce is consumed (unknown,
 *        expired and replayed ones refused), the keys checked and stored sealed through
 *        depot_channel_add with a fresh webhook secret. The store needs a 200. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "carriers.h"
#include "http_url.h"
#include "oauth.h"
#include "token_install.h"
#include "vault.h"

#define KEY_MAX 128

static int valid_key(const char *s, const char *prefix)
{
    size_t n = s ? strlen(s) : 0;
    if (n <= strlen(prefix) || n > KEY_MAX || strncmp(s, prefix, strlen(prefix)) != 0)
        return 0;
    for (; *s; s++)
        if (*s <= 0x20 || *s >= 0x7f)
            return 0;
    return 1;
}

static void start(struct web_request *req, struct web_response *res)
{
    char callback[512], ret[512], url[2048], nonce[DEPOT_OAUTH_NONCE_LEN + 1];
    char *subject_text = NULL;
    cJSON *body = web_body_json(req, res);
    if (!body)
        return;
    const char *store = web_json_string(body, "store");
    const char *api_base = web_json_string(body, "api_base");
    const char *ret_in = web_json_string(body, "return_url");
    if (!store || !depot_http_url_valid(store, INSTALL_URL_MAX)) {
        web_respond_error(res, 400, "invalid_store", "store must be the store's http(s) URL");
        goto out;
    }
    if ((api_base && !depot_http_url_valid(api_base, INSTALL_URL_MAX)) ||
        (ret_in && !depot_http_url_valid(ret_in, INSTALL_URL_MAX))) {
        web_respond_error(res, 400, "invalid_parameter",
                          "api_base and return_url must be http(s) URLs");
        goto out;
    }
    if (oauth_self_url(req, "/oauth/woocommerce/callback", callback, sizeof callback) != 0 ||
        (!ret_in && oauth_self_url(req, "/", ret, sizeof ret) != 0)) {
        web_respond_error(res, 400, "invalid_parameter", "the request has no usable Host header");
        goto out;
    }
    if (ret_in)
        snprintf(ret, sizeof ret, "%s", ret_in);
    if (!(subject_text = oauth_nonce_subject("store", store, api_base))) {
        web_respond_error(res, 500, "out_of_memory", "out of memory");
        goto out;
    }
    depot_err e = depot_oauth_nonce_create(req->srv->st, "woocommerce_keys", subject_text,
                                           OAUTH_STATE_TTL, req->auth.actor, nonce);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, req->srv->st, e);
        goto out;
    }
    size_t n = strlen(store);
    snprintf(url, sizeof url, "%.*s/wc-auth/v1/authorize", (int)(n - (store[n - 1] == '/')), store);
    if (oauth_append_param(url, sizeof url, 1, "app_name", "Depot") ||
        oauth_append_param(url, sizeof url, 0, "scope", "read_write") ||
        oauth_append_param(url, sizeof url, 0, "user_id", nonce) ||
        oauth_append_param(url, sizeof url, 0, "return_url", ret) ||
        oauth_append_param(url, sizeof url, 0, "callback_url", callback)) {
        web_respond_error(res, 500, "internal", "authorize URL too long");
        goto out;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "authorize_url", url);
    cJSON_AddNumberToObject(doc, "user_id_expires_in", OAUTH_STATE_TTL);
    web_respond_json(res, 200, doc);
out:
    cJSON_free(subject_text);
    cJSON_Delete(body);
}

static void callback(struct web_request *req, struct web_response *res)
{
    char subject[513], hook[65];
    uint8_t raw[32];
    cJSON *sub = NULL;
    int64_t id = 0;
    cJSON *body = web_body_json(req, res);
    if (!body)
        return;
    const cJSON *uid = cJSON_GetObjectItemCaseSensitive(body, "user_id");
    const char *ck = web_json_string(body, "consumer_key");
    const char *cs = web_json_string(body, "consumer_secret");
    const char *perm = web_json_string(body, "key_permissions");
    if (!cJSON_IsString(uid) || !valid_key(ck, "ck_") || !valid_key(cs, "cs_") || !perm) {
        web_respond_error(res, 400, "invalid_parameter", "the callback needs user_id, "
                          "consumer_key (ck_...), consumer_secret (cs_...) and key_permissions");
        goto out;
    }
    if (strcmp(perm, "read_write") != 0) {
        web_respond_error(res, 400, "invalid_parameter", "Depot needs read_write keys");
        goto out;
    }
    depot_err e = depot_oauth_nonce_consume(req->srv->st, "woocommerce_keys", uid->valuestring,
                                            subject);
    if (e == DEPOT_E_STATE) {
        web_respond_error(res, 403, "state_reused", "these keys were already delivered");
        goto out;
    }
    if (e != DEPOT_OK) {
        web_respond_error(res, 403, "invalid_state", "unknown or expired user_id");
        goto out;
    }
    sub = cJSON_Parse(subject);
    if (depot_random_bytes(raw, sizeof raw) != DEPOT_OK) {
        web_respond_error(res, 500, "internal", "no random bytes");
        goto out;
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(hook + 2 * i, 3, "%02x", raw[i]);
    explicit_bzero(raw, sizeof raw);
    struct depot_channel_credentials cred = {
        .consumer_key = ck, .consumer_secret = cs, .webhook_secret = hook,
    };
    e = depot_channel_add(req->srv->st, req->srv->cfg.master_key, "woocommerce",
                          web_json_string(sub, "store"), web_json_string(sub, "api_base"), NULL,
                          &cred, "oauth:woocommerce", &id);
    explicit_bzero(hook, sizeof hook);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, req->srv->st, e);
        goto out;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "channel_id", (double)id);
    web_respond_json(res, 200, doc);
out:
    cJSON_Delete(sub);
    /* The parsed body holds the consumer secret. */
    const cJSON *secret = cJSON_GetObjectItemCaseSensitive(body, "consumer_secret");
    if (cJSON_IsString(secret))
        explicit_bzero(secret->valuestring, strlen(secret->valuestring));
    cJSON_Delete(body);
    if (req->body)
        explicit_bzero(req->body, req->body_len);
}

const struct web_route web_routes_oauth_woocommerce[] = {
    {WEB_POST, "/api/v1/oauth/woocommerce/start", WEB_ROLE_ADMIN, 0, start,
     "oauth_woocommerce_start"},
    {WEB_POST, "/oauth/woocommerce/callback", WEB_ROLE_NONE,
     WEB_ROUTE_PUBLIC | WEB_ROUTE_NO_CSRF, callback, "oauth_woocommerce_callback"},
    {0},
};
