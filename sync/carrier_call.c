/* The call path every carrier adapter shares: bearer token from the token service, one
 * refresh-and-retry after a 401, bounded JSON answers, reasons without secrets; and the
 * generic verbs that dispatch to a carrier's ops. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <mbedtls/base64.h>
#include "carrier.h"
#include "http_call.h"
#include "token_service.h"

void carrier_ctx_init(struct carrier_ctx *cx, depot_store *st, const uint8_t *key,
                      const struct depot_carrier *row, const char *actor)
{
    memset(cx, 0, sizeof *cx);
    cx->st = st;
    cx->key = key;
    cx->row = row;
    cx->actor = actor;
    cx->timeout_ms = 20000;
    cJSON *config = cJSON_Parse(row->config);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(config, "timeout_ms");
    if (cJSON_IsNumber(t) && t->valuedouble >= DEPOT_CARRIER_TIMEOUT_MIN_MS &&
        t->valuedouble <= DEPOT_CARRIER_TIMEOUT_MAX_MS)
        cx->timeout_ms = (int)t->valuedouble;
    cJSON_Delete(config);
    snprintf(cx->owner, sizeof cx->owner, "carrier:%lld", (long long)row->id);
}

depot_err carrier_fail(struct carrier_ctx *cx, depot_err e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cx->error, sizeof cx->error, fmt, ap);
    va_end(ap);
    return e;
}

void carrier_label_free(struct carrier_label *l)
{
    free(l->data);
    memset(l, 0, sizeof *l);
}

const char *carrier_json_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *carrier_json_str_or(const cJSON *o, const char *name, const char *fallback)
{
    const char *v = carrier_json_str(o, name);
    return v ? v : fallback;
}

const cJSON *carrier_json_item(const cJSON *v, int i)
{
    if (cJSON_IsArray(v))
        return cJSON_GetArrayItem(v, i);
    return i == 0 && cJSON_IsObject(v) ? v : NULL;
}

int carrier_label_base64(struct carrier_label *out, const char *b64)
{
    size_t n = b64 ? strlen(b64) : 0, len = 0;
    if (n == 0)
        return -1;
    unsigned char *buf = malloc(n / 4 * 3 + 4);
    if (!buf)
        return -1;
    if (mbedtls_base64_decode(buf, n / 4 * 3 + 4, &len, (const unsigned char *)b64, n) != 0 ||
        len == 0) {
        free(buf);
        return -1;
    }
    out->data = buf;
    out->len = len;
    return 0;
}

int carrier_escape(const char *s, char *out, size_t cap)
{
    char *e = curl_easy_escape(NULL, s, 0);
    int n = e ? snprintf(out, cap, "%s", e) : -1;
    curl_free(e);
    return n >= 0 && (size_t)n < cap ? 0 : -1;
}

/* The first string member of o among names (addresses come in our shape, Shopify's
 * address1/zip/country_code or WooCommerce's address_1/postcode). */
static const char *first_str(const cJSON *o, const char *const *names)
{
    for (; *names; names++) {
        const char *v = carrier_json_str(o, *names);
        if (v && v[0])
            return v;
    }
    return NULL;
}

int carrier_address_from_json(const cJSON *o, struct carrier_address *a)
{
    static const char *const street1[] = {"street1", "address1", "address_1", NULL};
    static const char *const street2[] = {"street2", "address2", "address_2", NULL};
    static const char *const postal[] = {"postal_code", "zip", "postcode", NULL};
    static const char *const state[] = {"state", "province_code", NULL};
    static const char *const country[] = {"country_code", "country", NULL};
    static const char *const name[] = {"name", "company", NULL};
    memset(a, 0, sizeof *a);
    if (!cJSON_IsObject(o))
        return -1;
    a->name = first_str(o, name);
    a->company = carrier_json_str(o, "company");
    a->phone = carrier_json_str(o, "phone");
    a->email = carrier_json_str(o, "email");
    a->street1 = first_str(o, street1);
    a->street2 = first_str(o, street2);
    a->city = carrier_json_str(o, "city");
    a->state = first_str(o, state);
    a->postal_code = first_str(o, postal);
    a->country = first_str(o, country);
    return a->name && a->street1 && a->city && a->postal_code && a->country &&
                   strlen(a->country) == 2
               ? 0
               : -1;
}

/* One attempt with the given token. */
static int attempt(struct carrier_ctx *cx, const char *method, const char *url,
                   const char *body, const char *const *headers, enum carrier_auth auth,
                   const char *token, struct http_result *r)
{
    struct curl_slist *h = NULL;
    char bearer[8300];
    int fail = http_header_add(&h, "Accept", "application/json");
    if (body)
        fail |= http_header_add(&h, "Content-Type", "application/json");
    if (auth == CARRIER_AUTH_BEARER) {
        snprintf(bearer, sizeof bearer, "Bearer %s", token);
        fail |= http_header_add(&h, "Authorization", bearer);
        explicit_bzero(bearer, sizeof bearer);
    } else {
        fail |= http_header_add(&h, "DHL-API-Key", token);
    }
    for (int i = 0; headers && headers[i]; i += 2)
        fail |= http_header_add(&h, headers[i], headers[i + 1]);
    if (fail) {
        http_headers_free(h);
        memset(r, 0, sizeof *r);
        snprintf(r->error, sizeof r->error, "out of memory");
        return -1;
    }
    struct http_call c = {.method = method, .url = url, .body = body, .headers = h,
                          .timeout_ms = cx->timeout_ms};
    int rc = http_call_run(&c, r);
    http_headers_free(h);
    return rc;
}

depot_err carrier_call(struct carrier_ctx *cx, const char *method, const char *def_base,
                       const char *path, cJSON *body, const char *const *headers,
                       enum carrier_auth auth, cJSON **answer)
{
    char url[DEPOT_CARRIER_URL_MAX + 1024], err[TOKEN_ERROR_MAX + 64];
    struct token_service_ctx tcx = {.st = cx->st, .key = cx->key, .actor = cx->actor,
                                    .timeout_ms = cx->timeout_ms};
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    char *token = NULL;
    int64_t expires = 0;
    struct http_result r = {0};
    depot_err e = DEPOT_OK;

    *answer = NULL;
    cx->error[0] = '\0';
    cx->retryable = 0;
    cx->answered = 0;
    cJSON_Delete(body);
    if (body && !text)
        return carrier_fail(cx, DEPOT_E_NOMEM, "out of memory");
    const char *base = cx->row->api_base[0] ? cx->row->api_base : def_base;
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    snprintf(url, sizeof url, "%.*s%s", (int)bl, base, path);

    for (int round = 0; round < 2; round++) {
        if (auth == CARRIER_AUTH_BEARER) {
            e = token_service_get(&tcx, cx->owner, &token, &expires, err, sizeof err);
            if (e != DEPOT_OK) {
                cx->retryable = e == DEPOT_E_IO;
                carrier_fail(cx, e, "token: %s", err);
                goto out;
            }
        } else if ((e = depot_carrier_credential(cx->st, cx->key, cx->row->id, "client_id",
                                                 &token)) != DEPOT_OK) {
            carrier_fail(cx, e, "%s", depot_store_errmsg(cx->st));
            goto out;
        }
        http_result_free(&r);
        if (attempt(cx, method, url, text, headers, auth, token, &r) != 0) {
            cx->retryable = 1;
            e = carrier_fail(cx, DEPOT_E_IO, "%s %s: %s", method, path, r.error);
            goto out;
        }
        cx->answered = 1;
        if (r.status != 401 || auth != CARRIER_AUTH_BEARER || round == 1)
            break;
        /* The carrier refused a token we thought good (revoked, clock skew): drop it and
         * try once more with a fresh one. */
        token_service_reject(&tcx, cx->owner, token);
        token_secret_free(token);
        token = NULL;
        cx->token_refreshes++;
    }
    if (r.status < 200 || r.status > 299) {
        char reason[TOKEN_ERROR_MAX];
        token_error_reason(r.status, r.body, NULL, reason, sizeof reason);
        cx->retryable = r.status >= 500 || r.status == 429;
        e = cx->retryable                            ? DEPOT_E_IO
            : r.status == 401 || r.status == 403     ? DEPOT_E_CRYPTO
            : r.status == 404                        ? DEPOT_E_NOT_FOUND
                                                     : DEPOT_E_INVALID;
        carrier_fail(cx, e, "%s %s: %s", method, path, reason);
        goto out;
    }
    *answer = cJSON_ParseWithLength(r.body, r.len);
    if (!cJSON_IsObject(*answer)) {
        cJSON_Delete(*answer);
        *answer = NULL;
        e = carrier_fail(cx, DEPOT_E_INVALID, "%s %s: HTTP %ld answer is not a JSON object",
                         method, path, r.status);
    }
out:
    token_secret_free(token);
    free(text);
    http_result_free(&r);
    return e;
}

const struct carrier_ops *carrier_ops_for(const char *kind)
{
    static const struct carrier_ops *const all[] = {&carrier_fedex_ops, &carrier_ups_ops,
                                                    &carrier_dhl_ops};
    for (size_t i = 0; kind && i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i]->name, kind) == 0)
            return all[i];
    return NULL;
}

static const struct carrier_ops *ops_of(struct carrier_ctx *cx)
{
    const struct carrier_ops *ops = carrier_ops_for(cx->row->kind);
    if (!ops)
        carrier_fail(cx, DEPOT_E_INVALID, "unknown carrier kind %s", cx->row->kind);
    return ops;
}

depot_err carrier_create(struct carrier_ctx *cx, const struct carrier_shipment_req *req,
                         struct carrier_label *out)
{
    const struct carrier_ops *ops = ops_of(cx);
    memset(out, 0, sizeof *out);
    return ops ? ops->create(cx, req, out) : DEPOT_E_INVALID;
}

depot_err carrier_lookup(struct carrier_ctx *cx, const char *reference,
                         char tracking[CARRIER_TRACKING_MAX + 1])
{
    const struct carrier_ops *ops = ops_of(cx);
    if (ops && !ops->lookup)
        return carrier_fail(cx, DEPOT_E_INVALID, "%s has no lookup by reference", ops->name);
    return ops ? ops->lookup(cx, reference, tracking) : DEPOT_E_INVALID;
}

depot_err carrier_cancel(struct carrier_ctx *cx, const char *tracking)
{
    const struct carrier_ops *ops = ops_of(cx);
    if (ops && (!tracking || !tracking[0] || strlen(tracking) > CARRIER_TRACKING_MAX))
        return carrier_fail(cx, DEPOT_E_INVALID, "tracking number must be 1..%d characters",
                            CARRIER_TRACKING_MAX);
    return ops ? ops->cancel(cx, tracking) : DEPOT_E_INVALID;
}

depot_err carrier_track(struct carrier_ctx *cx, const char *tracking, struct carrier_track *out)
{
    const struct carrier_ops *ops = ops_of(cx);
    memset(out, 0, sizeof *out);
    if (ops && (!tracking || !tracking[0] || strlen(tracking) > CARRIER_TRACKING_MAX))
        return carrier_fail(cx, DEPOT_E_INVALID, "tracking number must be 1..%d characters",
                            CARRIER_TRACKING_MAX);
    return ops ? ops->track(cx, tracking, out) : DEPOT_E_INVALID;
}
