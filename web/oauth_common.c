/* Helper shared by the OAuth install endpoints: our own URL as the client reached it
 * (URL checks are sqlite/http_url.c's, query building sync/token_install.c's). */
#include <stdio.h>
#include <string.h>
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
