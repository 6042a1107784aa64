/* Helpers shared by the OAuth install endpoints: our own URL as the client reached it,
 * URL validation and query building (libcurl does the parsing and escaping). */
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>
#include "oauth.h"

int oauth_self_url(struct web_request *req, const char *path, char *out, size_t cap)
{
    char host[256];
    if (!web_header(req, "host", host, sizeof host) || !host[0] ||
        strpbrk(host, "/?#@\\ \t") != NULL)
        return -1;
    int n = snprintf(out, cap, "%s://%s%s", req->srv->cfg.tls ? "https" : "http", host, path);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int oauth_valid_url(const char *s, size_t max)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *extra = NULL;
    int ok = 0;
    if (u && s && strlen(s) <= max && curl_url_set(u, CURLUPART_URL, s, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0))
        ok = curl_url_get(u, CURLUPART_USER, &extra, 0) != CURLUE_OK &&
             curl_url_get(u, CURLUPART_FRAGMENT, &extra, 0) != CURLUE_OK;
    curl_free(scheme);
    curl_free(extra);
    curl_url_cleanup(u);
    return ok;
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
