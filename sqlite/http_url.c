/* Checking an http(s) URL a user gave (see http_url.h). */
#include <string.h>
#include <curl/curl.h>
#include "http_url.h"

int depot_http_url_valid(const char *s, size_t max)
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
