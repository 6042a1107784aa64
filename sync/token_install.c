/* Shopify install start: shop domain check and authorize URL, and the query building
 * and nonce subject every install flow uses (see token_install.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "carriers.h"
#include "http_url.h"
#include "token_install.h"
#include "token_service.h"

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

int oauth_append_param(char *out, size_t cap, int first, const char *key, const char *value)
{
    char *v = curl_easy_escape(NULL, value, 0);
    size_t len = strlen(out);
    int n = v && len < cap ? snprintf(out + len, cap - len, "%s%s=%s", first ? "?" : "&", key, v)
                           : -1;
    curl_free(v);
    return n >= 0 && (size_t)n < cap - len ? 0 : -1;
}

char *oauth_nonce_subject(const char *name, const char *value, const char *api_base)
{
    cJSON *subject = cJSON_CreateObject();
    cJSON_AddStringToObject(subject, name, value);
    if (api_base)
        cJSON_AddStringToObject(subject, "api_base", api_base);
    char *text = cJSON_PrintUnformatted(subject);
    cJSON_Delete(subject);
    return text;
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
    if (api_base && !depot_http_url_valid(api_base, INSTALL_URL_MAX)) {
        snprintf(err, errlen, "api_base must be an http(s) URL");
        return e;
    }
    if (!depot_http_url_valid(redirect_uri, INSTALL_URL_MAX)) {
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
    if (!(subject_text = oauth_nonce_subject("shop", shop, api_base))) {
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
    if (oauth_append_param(url, cap, 1, "client_id", cid) ||
        oauth_append_param(url, cap, 0, "scope", scopes) ||
        oauth_append_param(url, cap, 0, "redirect_uri", redirect_uri) ||
        oauth_append_param(url, cap, 0, "state", nonce)) {
        snprintf(err, errlen, "authorize URL too long");
        e = DEPOT_E_INVALID;
    }
out:
    token_secret_free(cid);
    token_secret_free(csec);
    cJSON_free(subject_text);
    explicit_bzero(nonce, sizeof nonce);
    return e;
}
