/* One blocking HTTP call on its own libcurl easy handle, for the token service and the
 * carrier adapters (rare, user-paced calls that run on a worker or CLI thread, never on
 * the event loop): bounded answer, connect and total timeouts, no redirects, http/https
 * only. */
#ifndef DEPOT_SYNC_HTTP_CALL_H
#define DEPOT_SYNC_HTTP_CALL_H

#include <stddef.h>
#include <curl/curl.h>

#define HTTP_CALL_RESPONSE_MAX (8 * 1024 * 1024) /* labels are the largest answers */

struct http_call {
    const char *method;          /* "GET", "POST", "PUT", "DELETE" */
    const char *url;
    const char *body;            /* NUL-terminated, or NULL */
    struct curl_slist *headers;  /* owned by the caller */
    const char *user, *password; /* HTTP Basic, or NULL */
    int timeout_ms;              /* connect to last byte; 0 = 20000 */
};

struct http_result {
    long status;       /* 0 when no HTTP answer arrived */
    char *body;        /* malloc'd, NUL-terminated ("" when empty) */
    size_t len;
    char error[CURL_ERROR_SIZE + 8]; /* transport failure, when status is 0 */
};

/* Runs the call. Returns 0 when an HTTP answer (any status) arrived, -1 on a transport
 * failure (r->error says which: timeout, refused, too large). Free r with
 * http_result_free in both cases. */
int http_call_run(const struct http_call *c, struct http_result *r);
/* Points a libcurl handle at the trusted certificates (http_trust.c). */
void http_trust(CURL *h);
void http_result_free(struct http_result *r);

/* Appends "Name: value" to *list; -1 when out of memory (the list is kept). */
int http_header_add(struct curl_slist **list, const char *name, const char *value);
/* Frees a header list after wiping it (it may hold a bearer token). */
void http_headers_free(struct curl_slist *list);

#endif
