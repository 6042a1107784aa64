/* A blocking HTTP call with bounded answer size and timeouts (see http_call.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http_call.h"

struct sink {
    char *buf;
    size_t len, cap;
    int too_large;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *user)
{
    struct sink *s = user;
    size_t n = size * nmemb;
    if (s->len + n + 1 > HTTP_CALL_RESPONSE_MAX) {
        s->too_large = 1;
        return 0;
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *p = realloc(s->buf, cap);
        if (!p)
            return 0;
        s->buf = p;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return n;
}

int http_call_run(const struct http_call *c, struct http_result *r)
{
    char curl_err[CURL_ERROR_SIZE] = "";
    struct sink sink = {0};
    int timeout = c->timeout_ms > 0 ? c->timeout_ms : 20000;
    int rc = -1;

    memset(r, 0, sizeof *r);
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(r->error, sizeof r->error, "out of memory");
        return -1;
    }
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
    if (strcmp(c->method, "GET") == 0)
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    if (c->body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(c->body));
    }
    if (c->headers)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
    if (c->user) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, c->password ? c->password : "");
    }
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    http_trust(h);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout < 10000 ? timeout : 10000));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "depot/1");
    CURLcode cc = curl_easy_perform(h);
    if (cc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
        rc = 0;
    } else if (sink.too_large) {
        snprintf(r->error, sizeof r->error, "answer larger than %d bytes",
                 HTTP_CALL_RESPONSE_MAX);
    } else {
        snprintf(r->error, sizeof r->error, "%s",
                 cc == CURLE_OPERATION_TIMEDOUT ? "timed out"
                 : curl_err[0]                  ? curl_err
                                                : curl_easy_strerror(cc));
    }
    curl_easy_cleanup(h);
    if (!sink.buf)
        sink.buf = calloc(1, 1);
    r->body = sink.buf;
    r->len = sink.len;
    if (!r->body) {
        snprintf(r->error, sizeof r->error, "out of memory");
        return -1;
    }
    return rc;
}

void http_result_free(struct http_result *r)
{
    if (r->body)
        explicit_bzero(r->body, r->len);
    free(r->body);
    memset(r, 0, sizeof *r);
}

int http_header_add(struct curl_slist **list, const char *name, const char *value)
{
    char line[8300];
    int n = snprintf(line, sizeof line, "%s: %s", name, value);
    struct curl_slist *l = n > 0 && (size_t)n < sizeof line ? curl_slist_append(*list, line)
                                                            : NULL;
    explicit_bzero(line, sizeof line);
    if (!l)
        return -1;
    *list = l;
    return 0;
}

void http_headers_free(struct curl_slist *list)
{
    for (struct curl_slist *l = list; l; l = l->next)
        explicit_bzero(l->data, strlen(l->data));
    curl_slist_free_all(list);
}
