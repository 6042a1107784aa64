/* The HTTP side of a delivery, shared by the adapters and the worker: building requests
 * (JSON bodies, headers), putting a job's call on a libcurl easy handle with bounded
 * response size and timeouts, and collecting the answer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "http_call.h"
#include "sync_int.h"

#define RESPONSE_MAX (4 * 1024 * 1024) /* larger answers are refused as broken */

void sync_request_reset(struct sync_request *r)
{
    free(r->body);
    curl_slist_free_all(r->headers);
    memset(r, 0, sizeof *r);
}

int sync_request_header(struct sync_request *r, const char *name, const char *value)
{
    char line[1024];
    int n = snprintf(line, sizeof line, "%s: %s", name, value);
    struct curl_slist *l = n >= 0 && (size_t)n < sizeof line
                               ? curl_slist_append(r->headers, line) : NULL;
    explicit_bzero(line, sizeof line);
    if (!l)
        return -1; /* out of memory, or a value too long to send whole */
    r->headers = l;
    return 0;
}

int sync_request_json(struct sync_request *r, cJSON *doc)
{
    char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (!text)
        return -1;
    free(r->body);
    r->body = text; /* cJSON's allocator is malloc */
    return sync_request_header(r, "Content-Type", "application/json");
}

void sync_job_error(struct sync_job *job, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(job->error, sizeof job->error, fmt, ap);
    va_end(ap);
}

const char *sync_json_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

void sync_shopify_gid(char *out, size_t cap, const char *type, const char *id)
{
    if (strncmp(id, "gid://", 6) == 0)
        snprintf(out, cap, "%s", id);
    else
        snprintf(out, cap, "gid://shopify/%s/%s", type, id);
}

/* ---- Transport ---------------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    struct sync_job *job = user;
    size_t n = size * nmemb;
    if (job->resp_len + n + 1 > RESPONSE_MAX)
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    if (job->resp_len + n + 1 > job->resp_cap) {
        size_t cap = job->resp_cap ? job->resp_cap : 4096;
        while (cap < job->resp_len + n + 1)
            cap *= 2;
        char *p = realloc(job->resp, cap);
        if (!p)
            return 0;
        job->resp = p;
        job->resp_cap = cap;
    }
    memcpy(job->resp + job->resp_len, data, n);
    job->resp_len += n;
    job->resp[job->resp_len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *user)
{
    struct sync_job *job = user;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n > sizeof name && n < 256 && strncasecmp(data, name, sizeof name - 1) == 0) {
        char value[256];
        memcpy(value, data + sizeof name - 1, n - (sizeof name - 1));
        value[n - (sizeof name - 1)] = '\0';
        job->resp_retry_after = sync_parse_retry_after(value, (int64_t)time(NULL));
    }
    return n;
}

int sync_http_prepare(struct sync_job *job, CURL *easy, int timeout_ms)
{
    struct sync_request *r = &job->req;
    job->resp_len = 0;
    job->resp_retry_after = -1;
    job->curl_error[0] = '\0';
    curl_easy_reset(easy);
    curl_easy_setopt(easy, CURLOPT_URL, r->url);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    http_trust(easy);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(timeout_ms < 5000 ? timeout_ms : 5000));
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "depot/" DEPOT_VERSION);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, job);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, job);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, job->curl_error);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, job);
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
    if (r->user) {
        curl_easy_setopt(easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(easy, CURLOPT_USERNAME, r->user);
        curl_easy_setopt(easy, CURLOPT_PASSWORD, r->password ? r->password : "");
    }
    if (strcmp(r->method, "GET") != 0) {
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, r->method);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, r->body ? r->body : "");
    }
    return 0;
}

/* Rationale: these checks are the same for every platform. No answer, a timeout, a
 * reset or a 5xx is the endpoint's fault (the breaker counts it); 429 (and 503 with
 * Retry-After, WooCommerce's overload answer) is a rate signal, not a failure; any
 * other 4xx but 401 and 408 will not get better by retrying the same request. */
enum sync_step sync_http_classify(struct sync_job *job, CURLcode rc, long status)
{
    job->retry_after = job->resp_retry_after;
    if (rc != CURLE_OK) {
        job->upstream_fault = 1;
        sync_job_error(job, "%s %s: %s", job->req.method, job->req.endpoint,
                       job->curl_error[0] ? job->curl_error : curl_easy_strerror(rc));
        return SYNC_RETRY;
    }
    if (status == 429 || (status == 503 && job->retry_after >= 0)) {
        sync_job_error(job, "%s: HTTP %ld, retry after %d s", job->req.endpoint, status,
                       job->retry_after);
        return SYNC_THROTTLED;
    }
    if (status >= 500 || status < 200) {
        job->upstream_fault = 1;
        sync_job_error(job, "%s: HTTP %ld", job->req.endpoint, status);
        return SYNC_RETRY;
    }
    if (status >= 300) {
        const char *body = job->resp ? job->resp : "";
        sync_job_error(job, "%s: HTTP %ld: %.120s", job->req.endpoint, status, body);
        /* 401 is retried: credentials can be rotated (channel add), and an OAuth 1.0a
         * request that libcurl re-sent on a fresh connection after a reset is refused
         * as a nonce replay; the next attempt is signed anew. */
        return status == 408 || status == 401 ? SYNC_RETRY : SYNC_FAIL;
    }
    return SYNC_SEND; /* 2xx: the adapter reads it */
}
