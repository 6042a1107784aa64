/* One HTTP request and its response, for handlers: header, query and body accessors with
 * validation, and the builders for JSON, error and raw responses. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "web_int.h"

#define MAX_JSON_DEPTH 32

const char *web_method_name(enum web_method m)
{
    switch (m) {
    case WEB_GET: return "GET";
    case WEB_POST: return "POST";
    case WEB_PUT: return "PUT";
    case WEB_PATCH: return "PATCH";
    case WEB_DELETE: return "DELETE";
    case WEB_OPTIONS: return "OPTIONS";
    case WEB_HEAD: return "HEAD";
    }
    return "OTHER";
}

double web_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* libwebsockets' names of its header tokens ("content-length:") and their lengths, read
 * once: looking a header up compares lengths before bytes. */
static const char *token_names[WSI_TOKEN_COUNT];
static size_t token_lens[WSI_TOKEN_COUNT];
static pthread_once_t token_names_once = PTHREAD_ONCE_INIT;

static void read_token_names(void)
{
    for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
        token_names[t] = (const char *)lws_token_to_string((enum lws_token_indexes)t);
        token_lens[t] = token_names[t] ? strlen(token_names[t]) : 0;
    }
}

/* Rationale: libwebsockets parses well-known headers into tokens and keeps the rest as
 * "custom" headers; a caller should not need to know which is which. */
const char *web_header(struct web_request *req, const char *name, char *buf, size_t len)
{
    size_t n = strlen(name);
    char lname[96];
    if (!req->wsi || n == 0 || n + 2 > sizeof lname || len == 0)
        return NULL;
    for (size_t i = 0; i < n; i++)
        lname[i] = (char)tolower((unsigned char)name[i]);
    lname[n] = ':';
    lname[n + 1] = '\0';
    pthread_once(&token_names_once, read_token_names);
    for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
        if (token_lens[t] != n + 1 || memcmp(token_names[t], lname, n + 1) != 0)
            continue;
        int total = lws_hdr_total_length(req->wsi, (enum lws_token_indexes)t);
        if (total <= 0 || (size_t)total >= len)
            return NULL;
        return lws_hdr_copy(req->wsi, buf, (int)len, (enum lws_token_indexes)t) < 0 ? NULL
                                                                                    : buf;
    }
    int total = lws_hdr_custom_length(req->wsi, lname, (int)n + 1);
    if (total < 0 || (size_t)total >= len)
        return NULL;
    if (lws_hdr_custom_copy(req->wsi, buf, (int)len, lname, (int)n + 1) < 0)
        return NULL;
    return buf;
}

const char *web_query(struct web_request *req, const char *name, char *buf, size_t len)
{
    char key[64];
    if (!req->wsi || snprintf(key, sizeof key, "%s=", name) >= (int)sizeof key)
        return NULL;
    return lws_get_urlarg_by_name(req->wsi, key, buf, (int)len);
}

static int parse_int64(const char *s, int64_t *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

int web_query_int(struct web_request *req, struct web_response *res, const char *name,
                  int64_t min, int64_t max, int64_t def, int64_t *out)
{
    char buf[32];
    const char *v = web_query(req, name, buf, sizeof buf);
    if (!v) {
        *out = def;
        return 0;
    }
    if (parse_int64(v, out) != 0 || *out < min || *out > max) {
        web_respond_error(res, 400, "invalid_parameter",
                          "query parameter '%s' must be an integer in %lld..%lld", name,
                          (long long)min, (long long)max);
        return -1;
    }
    return 0;
}

int web_param_id(struct web_request *req, struct web_response *res, int i, int64_t *out)
{
    if (i < 0 || i >= WEB_MAX_PARAMS || !req->params[i] ||
        parse_int64(req->params[i], out) != 0 || *out <= 0) {
        web_respond_error(res, 400, "invalid_parameter", "'%s' is not a valid id",
                          i >= 0 && i < WEB_MAX_PARAMS && req->params[i] ? req->params[i]
                                                                         : "");
        return -1;
    }
    return 0;
}

static int json_depth(const cJSON *item)
{
    int deepest = 0;
    for (const cJSON *c = item ? item->child : NULL; c; c = c->next) {
        int d = json_depth(c);
        if (d > deepest)
            deepest = d;
    }
    return deepest + 1;
}

cJSON *web_body_json(struct web_request *req, struct web_response *res)
{
    char ctype[128];
    if (!web_header(req, "content-type", ctype, sizeof ctype) ||
        strncasecmp(ctype, "application/json", 16) != 0) {
        web_respond_error(res, 415, "unsupported_media_type",
                          "the body must be JSON (Content-Type: application/json)");
        return NULL;
    }
    if (!req->body || req->body_len == 0) {
        web_respond_error(res, 400, "invalid_json", "the request needs a JSON body");
        return NULL;
    }
    if (strlen(req->body) != req->body_len) {
        web_respond_error(res, 400, "invalid_json", "the body contains a NUL byte");
        return NULL;
    }
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithOpts(req->body, &end, 1);
    if (!doc) {
        web_respond_error(res, 400, "invalid_json", "malformed JSON at byte %zu",
                          end ? (size_t)(end - req->body) : (size_t)0);
        return NULL;
    }
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        web_respond_error(res, 400, "invalid_json", "the body must be a JSON object");
        return NULL;
    }
    if (json_depth(doc) > MAX_JSON_DEPTH) {
        cJSON_Delete(doc);
        web_respond_error(res, 400, "invalid_json", "JSON nested deeper than %d levels",
                          MAX_JSON_DEPTH);
        return NULL;
    }
    return doc;
}

const char *web_json_string(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void set_body(struct web_response *res, int status, const char *type, char *body,
                     size_t len)
{
    free(res->body);
    res->status = status;
    res->content_type = type;
    res->body = body;
    res->body_len = len;
}

void web_respond_raw(struct web_response *res, int status, const char *content_type,
                     const void *body, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy) {
        web_respond_error(res, 500, "out_of_memory", "out of memory");
        return;
    }
    if (len)
        memcpy(copy, body, len);
    copy[len] = '\0';
    set_body(res, status, content_type, copy, len);
}

void web_respond_json(struct web_response *res, int status, cJSON *doc)
{
    char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (!text) {
        static const char oom[] =
            "{\"error\":{\"code\":\"out_of_memory\",\"message\":\"out of memory\"}}";
        web_respond_raw(res, 500, "application/json", oom, sizeof oom - 1);
        return;
    }
    set_body(res, status, "application/json", text, strlen(text));
}

void web_respond_error(struct web_response *res, int status, const char *code,
                       const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *doc = cJSON_CreateObject();
    cJSON *err = cJSON_AddObjectToObject(doc, "error");
    cJSON_AddStringToObject(err, "code", code);
    cJSON_AddStringToObject(err, "message", msg);
    web_respond_json(res, status, doc);
}

void web_respond_store_error(struct web_response *res, depot_store *st, depot_err e)
{
    int status;
    switch (e) {
    case DEPOT_E_NOT_FOUND: status = 404; break;
    case DEPOT_E_INVALID: status = 400; break;
    case DEPOT_E_CONFLICT:
    case DEPOT_E_INSUFFICIENT:
    case DEPOT_E_STATE: status = 409; break;
    case DEPOT_E_BUSY: status = 503; break;
    default: status = 500; break;
    }
    const char *msg = depot_store_errmsg(st);
    web_respond_error(res, status, depot_err_code(e), "%s",
                      msg && *msg ? msg : depot_err_code(e));
}

int web_add_header(struct web_response *res, const char *name, const char *value)
{
    size_t room = sizeof res->headers - res->headers_len;
    int n = snprintf(res->headers + res->headers_len, room, "%s: %s\r\n", name, value);
    if (n < 0 || (size_t)n >= room) {
        res->headers[res->headers_len] = '\0';
        return -1;
    }
    res->headers_len += (size_t)n;
    return 0;
}
