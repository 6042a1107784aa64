/* Shopify install start: shop domain check and authorize URL (see token_install.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "carriers.h"
#include "token_install.h"

#define SHOP_SUFFIX ".myshopify.com"

int shopify_shop_valid(const char *in, char out[SHOPIFY_SHOP_MAX + 1])
{
    size_t n = in ? strlen(in) : 0, sl = strlen(SHOP_SUFFIX);
    if (n <= sl || n > SHOPIFY_SHOP_MAX)
        return 0;
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    if (strcmp(out + n - sl, SHOP_SUFFIX) != 0 || !isalnum((unsigned char)out[0]))
        return 0;
    for (size_t i = 0; i < n - sl; i++)
        if (!isalnum((unsigned char)out[i]) && out[i] != '-')
            return 0;
    return 1;
}

/* 1 if s is an http(s) URL without user info or fragment, at most 200 bytes. */
static int valid_url(const char *s)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *extra = NULL;
    int ok = 0;
    if (u && s && strlen(s) <= 200 && curl_url_set(u, CURLUPART_URL, s, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0))
        ok = curl_url_get(u, CURLUPART_USER, &extra, 0) != CURLUE_OK &&
             curl_url_get(u, CURLUPART_FRAGMENT, &extra, 0) != CURLUE_OK;
    curl_free(scheme);
    curl_free(extra);
    curl_url_cleanup(u);
    return ok;
}

/* Appends "?key=<escaped>" / "&key=<escaped>"; -1 if it does not fit. */
static int append_param(char *out, size_t cap, int first, const char *key, const char *value)
{
    char *v = curl_easy_escape(NULL, value, 0);
    size_t len = strlen(out);
    int n = v && len < cap ? snprintf(out + len, cap - len, "%s%s=%s", first ? "?" : "&", key, v)
                           : -1;
    curl_free(v);
    return n >= 0 && (size_t)n < cap - len ? 0 : -1;
}

depot_err shopify_install_start(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                                const char *shop_in, const char *api_base,
                                const char *redirect_uri, const char *actor, char *url,
                                size_t cap, char shop[SHOPIFY_SHOP_MAX + 1], char *err,
                                size_t errlen)
{
    char scopes[256], nonce[DEPOT_OAUTH_NONCE_LEN + 1];
    char *cid = NULL, *csec = NULL, *subject_text = NULL;
    depot_err e = DEPOT_E_INVALID;
    url[0] = '\0';
    if (!shopify_shop_valid(shop_in, shop)) {
        snprintf(err, errlen, "shop must be a <name>.myshopify.com domain");
        return e;
    }
    if (api_base && !valid_url(api_base)) {
        snprintf(err, errlen, "api_base must be an http(s) URL");
        return e;
    }
    if (!valid_url(redirect_uri)) {
        snprintf(err, errlen, "redirect_uri must be an http(s) URL");
        return e;
    }
    e = depot_oauth_app_get(st, key, "shopify", &cid, &csec, scopes);
    if (e != DEPOT_OK) {
        snprintf(err, errlen, "%s", e == DEPOT_E_NOT_FOUND
                                        ? "set the Shopify app first: depotctl app set shopify ..."
                                        : depot_store_errmsg(st));
        goto out;
    }
    cJSON *subject = cJSON_CreateObject();
    cJSON_AddStringToObject(subject, "shop", shop);
    if (api_base)
        cJSON_AddStringToObject(subject, "api_base", api_base);
    subject_text = cJSON_PrintUnformatted(subject);
    cJSON_Delete(subject);
    if (!subject_text) {
        snprintf(err, errlen, "out of memory");
        e = DEPOT_E_NOMEM;
        goto out;
    }
    e = depot_oauth_nonce_create(st, "shopify_install", subject_text, SHOPIFY_STATE_TTL_S,
                                 actor, nonce);
    if (e != DEPOT_OK) {
        snprintf(err, errlen, "%s", depot_store_errmsg(st));
        goto out;
    }
    if (api_base)
        snprintf(url, cap, "%.*s/admin/oauth/authorize",
                 (int)(strlen(api_base) - (api_base[strlen(api_base) - 1] == '/')), api_base);
    else
        snprintf(url, cap, "https://%s/admin/oauth/authorize", shop);
    if (append_param(url, cap, 1, "client_id", cid) ||
        append_param(url, cap, 0, "scope", scopes) ||
        append_param(url, cap, 0, "redirect_uri", redirect_uri) ||
        append_param(url, cap, 0, "state", nonce)) {
        snprintf(err, errlen, "authorize URL too long");
        e = DEPOT_E_INVALID;
    }
out:
    if (cid)
        explicit_bzero(cid, strlen(cid));
    if (csec)
        explicit_bzero(csec, strlen(csec));
    free(cid);
    free(csec);
    cJSON_free(subject_text);
    explicit_bzero(nonce, sizeof nonce);
    return e;
}
