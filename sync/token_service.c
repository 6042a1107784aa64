/* The token service (see token_service.h): the grant each owner uses, the token request
 * and its answer, and the cache protocol around them.
 *
 * Single flight: a caller whose cached token is missing or inside the refresh margin
 * takes the owner's lease (depot_token_lease: one transaction that re-checks the cache),
 * and only the lease holder calls the provider. Everyone else polls the cache row every
 * 20 ms until a token good for them appears (reused) or the holder records a failure
 * that happened after they started waiting (reported, not retried: 50 callers against a
 * provider that refuses the credentials make one request, not 50). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>
#include "http_call.h"
#include "token_service.h"

#define LEASE_MS 30000         /* longer than one token request may take */
#define WAIT_MAX_MS 40000      /* a waiter gives up after this */
#define POLL_MS 20
#define MARGIN_MAX_S 300       /* refresh at most five minutes ahead */
#define TOKEN_MAX 8192
#define UNREACHABLE "unreachable: "

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void token_secret_free(char *s)
{
    if (s)
        explicit_bzero(s, strlen(s));
    free(s);
}

/* Refresh this many seconds before expiry: a fifth of the token's lifetime, 1..300 s. */
static int64_t margin_s(const struct depot_token_state *s)
{
    int64_t life = s->expires_at - s->refreshed_at;
    int64_t m = life / 5;
    return m < 1 ? 1 : m > MARGIN_MAX_S ? MARGIN_MAX_S : m;
}

static int token_good(const struct depot_token_state *s, int64_t now)
{
    return s->have && (s->expires_at == 0 || s->expires_at - margin_s(s) > now);
}

void token_answer_free(struct token_answer *a)
{
    token_secret_free(a->access_token);
    token_secret_free(a->refresh_token);
    memset(a, 0, sizeof *a);
}

/* ---- Error text ------------------------------------------------------------------- */

/* Copies src as printable ASCII (others become '?') and masks secret. */
static void clean_line(const char *src, const char *secret, char *out, size_t cap)
{
    size_t n = 0;
    for (; src && *src && n + 1 < cap; src++)
        out[n++] = (*src >= 0x20 && *src < 0x7f) ? *src : '?';
    out[n] = '\0';
    size_t sl = secret ? strlen(secret) : 0;
    char *hit;
    while (sl >= 4 && (hit = strstr(out, secret)))
        memset(hit, '*', sl);
}

static const cJSON *first_error(const cJSON *errors)
{
    return cJSON_IsArray(errors) ? cJSON_GetArrayItem(errors, 0) : NULL;
}

void token_error_reason(long status, const char *body, const char *secret, char *out,
                        size_t cap)
{
    char text[400] = "";
    cJSON *doc = body ? cJSON_ParseWithLength(body, strlen(body) < 65536 ? strlen(body) : 0)
                      : NULL;
    const cJSON *e;
    const char *code = NULL, *msg = NULL;
    if (cJSON_IsObject(doc)) {
        code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "error"));
        msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "error_description"));
        if (!code && !msg) {
            e = first_error(cJSON_GetObjectItemCaseSensitive(doc, "errors"));
            if (!e)
                e = first_error(cJSON_GetObjectItemCaseSensitive(
                    cJSON_GetObjectItemCaseSensitive(doc, "response"), "errors"));
            code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code"));
            msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
        }
        if (!code && !msg) /* DHL's problem+json */
            msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "detail"));
    }
    if (code || msg)
        snprintf(text, sizeof text, "HTTP %ld: %s%s%s", status, code ? code : "",
                 code && msg ? ": " : "", msg ? msg : "");
    else
        snprintf(text, sizeof text, "HTTP %ld", status);
    cJSON_Delete(doc);
    clean_line(text, secret, out, cap);
}

/* ---- The token request ------------------------------------------------------------ */

/* expires_in as a number or a numeric string (UPS sends "14399"); 0 when absent. */
static int parse_expires_in(const cJSON *v, int64_t *out)
{
    *out = 0;
    if (!v || cJSON_IsNull(v))
        return 0;
    double d;
    if (cJSON_IsNumber(v))
        d = v->valuedouble;
    else if (cJSON_IsString(v) && v->valuestring[0] &&
             strspn(v->valuestring, "0123456789") == strlen(v->valuestring) &&
             strlen(v->valuestring) <= 9)
        d = (double)atoll(v->valuestring);
    else
        return -1;
    if (d < 1 || d > 400000000)
        return -1;
    *out = (int64_t)d;
    return 0;
}

static int valid_token_text(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > TOKEN_MAX)
        return 0;
    for (; *s; s++)
        if (*s <= 0x20 || *s >= 0x7f)
            return 0;
    return 1;
}

depot_err token_request(const char *url, const char *body, int json, const char *user,
                        const char *password, int timeout_ms, const char *secret,
                        struct token_answer *out, char *err, size_t errlen)
{
    struct curl_slist *headers = NULL;
    struct http_result r;
    depot_err e = DEPOT_OK;
    cJSON *doc = NULL;

    memset(out, 0, sizeof *out);
    if (http_header_add(&headers, "Content-Type",
                        json ? "application/json" : "application/x-www-form-urlencoded") ||
        http_header_add(&headers, "Accept", "application/json")) {
        snprintf(err, errlen, "out of memory");
        http_headers_free(headers);
        return DEPOT_E_NOMEM;
    }
    struct http_call c = {
        .method = "POST", .url = url, .body = body, .headers = headers,
        .user = user, .password = password, .timeout_ms = timeout_ms ? timeout_ms : 15000,
    };
    if (http_call_run(&c, &r) != 0) {
        snprintf(err, errlen, UNREACHABLE "token endpoint: %s", r.error);
        e = DEPOT_E_IO;
        goto out;
    }
    if (r.status < 200 || r.status > 299) {
        char reason[TOKEN_ERROR_MAX];
        token_error_reason(r.status, r.body, secret, reason, sizeof reason);
        int refused = r.status >= 400 && r.status < 500;
        snprintf(err, errlen, "%stoken request %s: %s", refused ? "" : UNREACHABLE,
                 refused ? "refused" : "failed", reason);
        e = refused ? DEPOT_E_CRYPTO : DEPOT_E_IO;
        goto out;
    }
    doc = cJSON_ParseWithLength(r.body, r.len);
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(doc, "access_token");
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(doc, "refresh_token");
    const cJSON *tt = cJSON_GetObjectItemCaseSensitive(doc, "token_type");
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(doc, "scope");
    if (!cJSON_IsObject(doc) || !cJSON_IsString(at) || !valid_token_text(at->valuestring) ||
        (rt && !cJSON_IsNull(rt) && (!cJSON_IsString(rt) || !valid_token_text(rt->valuestring))) ||
        (tt && (!cJSON_IsString(tt) || strcasecmp(tt->valuestring, "bearer") != 0)) ||
        parse_expires_in(cJSON_GetObjectItemCaseSensitive(doc, "expires_in"),
                         &out->expires_in) != 0) {
        snprintf(err, errlen, UNREACHABLE "token endpoint answered HTTP %ld without a usable "
                 "bearer access_token/expires_in", r.status);
        e = DEPOT_E_IO;
        goto out;
    }
    out->access_token = strdup(at->valuestring);
    out->refresh_token = cJSON_IsString(rt) ? strdup(rt->valuestring) : NULL;
    if (cJSON_IsString(sc))
        clean_line(sc->valuestring, NULL, out->scope, sizeof out->scope);
    if (!out->access_token || (cJSON_IsString(rt) && !out->refresh_token)) {
        token_answer_free(out);
        snprintf(err, errlen, "out of memory");
        e = DEPOT_E_NOMEM;
    }
out:
    if (doc) {
        /* The parsed copy holds the token too. */
        const cJSON *at2 = cJSON_GetObjectItemCaseSensitive(doc, "access_token");
        if (cJSON_IsString(at2))
            explicit_bzero(at2->valuestring, strlen(at2->valuestring));
        cJSON_Delete(doc);
    }
    http_result_free(&r);
    http_headers_free(headers);
    return e;
}

/* ---- Grants ----------------------------------------------------------------------- */

struct grant {
    char url[DEPOT_CARRIER_URL_MAX + 128];
    char *body;             /* malloc'd */
    int json;
    char *user, *password;  /* Basic credentials (UPS), malloc'd */
    char *secret;           /* scrubbed from error text, malloc'd */
};

static void grant_free(struct grant *g)
{
    token_secret_free(g->body);
    token_secret_free(g->user);
    token_secret_free(g->password);
    token_secret_free(g->secret);
    memset(g, 0, sizeof *g);
}

/* "k1=v1&k2=v2..." from NULL-terminated key/value pairs, each value percent-encoded. */
static char *form(const char *const *kv)
{
    size_t cap = 1;
    for (int i = 0; kv[i]; i += 2)
        cap += strlen(kv[i]) + 3 * strlen(kv[i + 1]) + 2;
    char *out = malloc(cap), *p = out;
    if (!out)
        return NULL;
    for (int i = 0; kv[i]; i += 2) {
        char *v = curl_easy_escape(NULL, kv[i + 1], 0);
        if (!v) {
            token_secret_free(out);
            return NULL;
        }
        p += sprintf(p, "%s%s=%s", i ? "&" : "", kv[i], v);
        explicit_bzero(v, strlen(v));
        curl_free(v);
    }
    *p = '\0';
    return out;
}

static void url_join(char *out, size_t cap, const char *base, const char *def, const char *path)
{
    const char *b = base && base[0] ? base : def;
    size_t n = strlen(b);
    while (n > 0 && b[n - 1] == '/')
        n--;
    snprintf(out, cap, "%.*s%s", (int)n, b, path);
}

/* A carrier's token endpoint: its token URL if set, else path on its API base or def. */
static void carrier_token_url(char *out, size_t cap, const struct depot_carrier *c,
                              const char *def, const char *path)
{
    if (c->token_url[0])
        snprintf(out, cap, "%s", c->token_url);
    else
        url_join(out, cap, c->api_base, def, path);
}

static depot_err carrier_grant(const struct token_service_ctx *cx, int64_t id, struct grant *g,
                               char *err, size_t errlen)
{
    struct depot_carrier c;
    char *cid = NULL, *csec = NULL, *user = NULL, *pass = NULL;
    depot_err e = depot_carrier_get(cx->st, id, &c);
    if (e == DEPOT_OK)
        e = depot_carrier_credential(cx->st, cx->key, id, "client_id", &cid);
    if (e == DEPOT_OK)
        e = depot_carrier_credential(cx->st, cx->key, id, "client_secret", &csec);
    if (e == DEPOT_OK && strcmp(c.kind, "dhl") == 0 &&
        (e = depot_carrier_credential(cx->st, cx->key, id, "username", &user)) == DEPOT_OK)
        e = depot_carrier_credential(cx->st, cx->key, id, "password", &pass);
    if (e != DEPOT_OK) {
        snprintf(err, errlen, "%s", depot_store_errmsg(cx->st));
        goto out;
    }
    if (strcmp(c.kind, "fedex") == 0) {
        /* FedEx: client credentials in the form body. */
        const char *kv[] = {"grant_type", "client_credentials", "client_id", cid,
                            "client_secret", csec, NULL};
        carrier_token_url(g->url, sizeof g->url, &c, "https://apis.fedex.com", "/oauth/token");
        g->body = form(kv);
    } else if (strcmp(c.kind, "ups") == 0) {
        /* UPS: client credentials as HTTP Basic, grant type in the body. */
        const char *kv[] = {"grant_type", "client_credentials", NULL};
        carrier_token_url(g->url, sizeof g->url, &c, "https://onlinetools.ups.com",
                          "/security/v1/oauth/token");
        g->body = form(kv);
        g->user = strdup(cid);
        g->password = strdup(csec);
        if (!g->user || !g->password)
            e = DEPOT_E_NOMEM;
    } else {
        /* DHL Parcel DE: OAuth 2.0 resource-owner password grant. */
        const char *kv[] = {"grant_type", "password", "username", user, "password", pass,
                            "client_id", cid, "client_secret", csec, NULL};
        carrier_token_url(g->url, sizeof g->url, &c, "https://api-eu.dhl.com",
                          "/parcel/de/account/auth/ropc/v1/token");
        g->body = form(kv);
    }
    g->secret = strdup(csec);
    if (!g->body || !g->secret)
        e = DEPOT_E_NOMEM;
    if (e == DEPOT_E_NOMEM)
        snprintf(err, errlen, "out of memory");
out:
    token_secret_free(cid);
    token_secret_free(csec);
    token_secret_free(user);
    token_secret_free(pass);
    return e;
}

static depot_err channel_grant(const struct token_service_ctx *cx, int64_t id, struct grant *g,
                               char *err, size_t errlen)
{
    struct depot_channel ch;
    char owner[DEPOT_TOKEN_OWNER_MAX], scopes[256];
    char *cid = NULL, *csec = NULL, *refresh = NULL;
    depot_err e = depot_channel_get(cx->st, id, &ch);
    if (e == DEPOT_OK && strcmp(ch.kind, "shopify") != 0) {
        snprintf(err, errlen, "channel %lld (%s) has no OAuth token to refresh", (long long)id,
                 ch.kind);
        return DEPOT_E_INVALID;
    }
    snprintf(owner, sizeof owner, "channel:%lld", (long long)id);
    if (e == DEPOT_OK)
        e = depot_token_refresh_secret(cx->st, cx->key, owner, &refresh);
    if (e == DEPOT_OK)
        e = depot_oauth_app_get(cx->st, cx->key, "shopify", &cid, &csec, scopes);
    if (e != DEPOT_OK) {
        snprintf(err, errlen, "%s", depot_store_errmsg(cx->st));
        goto out;
    }
    /* Shopify: POST https://{shop}/admin/oauth/access_token with the refresh token. */
    char base[DEPOT_CHANNEL_URL_MAX + 16];
    snprintf(base, sizeof base, "https://%s", ch.name);
    url_join(g->url, sizeof g->url, ch.api_base, base, "/admin/oauth/access_token");
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "client_id", cid);
    cJSON_AddStringToObject(b, "client_secret", csec);
    cJSON_AddStringToObject(b, "grant_type", "refresh_token");
    cJSON_AddStringToObject(b, "refresh_token", refresh);
    g->body = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    g->json = 1;
    g->secret = strdup(csec);
    if (!g->body || !g->secret) {
        e = DEPOT_E_NOMEM;
        snprintf(err, errlen, "out of memory");
    }
out:
    token_secret_free(cid);
    token_secret_free(csec);
    token_secret_free(refresh);
    return e;
}

static depot_err owner_id(const char *owner, const char *kind, int64_t *id)
{
    size_t k = strlen(kind);
    if (strncmp(owner, kind, k) != 0 || owner[k] != ':')
        return DEPOT_E_NOT_FOUND;
    const char *digits = owner + k + 1;
    if (!digits[0] || strlen(digits) > 18 || strspn(digits, "0123456789") != strlen(digits))
        return DEPOT_E_INVALID;
    *id = atoll(digits);
    return *id > 0 ? DEPOT_OK : DEPOT_E_INVALID;
}

/* The lease is ours: ask the provider, then record the outcome for everyone. */
static depot_err refresh(const struct token_service_ctx *cx, const char *owner, char **token,
                         int64_t *expires_at, char *err, size_t errlen)
{
    struct grant g = {0};
    struct token_answer a = {0};
    int64_t id = 0;
    depot_err e;

    if ((e = owner_id(owner, "carrier", &id)) == DEPOT_OK)
        e = carrier_grant(cx, id, &g, err, errlen);
    else if (e == DEPOT_E_NOT_FOUND && (e = owner_id(owner, "channel", &id)) == DEPOT_OK)
        e = channel_grant(cx, id, &g, err, errlen);
    else
        snprintf(err, errlen, "token owner must be carrier:<id> or channel:<id>");
    if (e == DEPOT_OK)
        e = token_request(g.url, g.body, g.json, g.user, g.password, cx->timeout_ms, g.secret,
                          &a, err, errlen);
    if (e == DEPOT_OK) {
        *expires_at = a.expires_in ? (int64_t)time(NULL) + a.expires_in : 0;
        e = depot_token_store(cx->st, cx->key, owner, a.access_token, *expires_at,
                              a.refresh_token, cx->actor);
        if (e == DEPOT_OK) {
            *token = a.access_token;
            a.access_token = NULL;
        } else {
            snprintf(err, errlen, "cannot cache the token: %s", depot_store_errmsg(cx->st));
        }
    } else {
        /* Records the failure (and releases the lease) for the waiters. */
        depot_token_fail(cx->st, owner, err, now_ms(), cx->actor);
    }
    token_answer_free(&a);
    grant_free(&g);
    return e;
}

depot_err token_service_get(const struct token_service_ctx *cx, const char *owner,
                            char **token, int64_t *expires_at, char *err, size_t errlen)
{
    int64_t start = now_ms();
    int waited = 0;

    *token = NULL;
    *expires_at = 0;
    err[0] = '\0';
    for (;;) {
        struct depot_token_state s;
        char *cached = NULL;
        int acquired = 0;
        depot_err e = depot_token_read(cx->st, cx->key, owner, &cached, &s);
        if (e != DEPOT_OK) {
            snprintf(err, errlen, "%s", depot_store_errmsg(cx->st));
            return e;
        }
        int64_t now = now_ms();
        if (cached && token_good(&s, now / 1000)) {
            *token = cached;
            *expires_at = s.expires_at;
            return DEPOT_OK;
        }
        token_secret_free(cached);
        if (waited && s.failed_at_ms >= start) {
            int io = strncmp(s.last_error, UNREACHABLE, strlen(UNREACHABLE)) == 0;
            snprintf(err, errlen, "%s", s.last_error);
            return io ? DEPOT_E_IO : DEPOT_E_CRYPTO;
        }
        if (now - start > WAIT_MAX_MS) {
            snprintf(err, errlen, UNREACHABLE "timed out waiting for another token refresh");
            return DEPOT_E_IO;
        }
        if (s.lease_until_ms <= now) {
            e = depot_token_lease(cx->st, owner, now, LEASE_MS, s.have ? margin_s(&s) : 0,
                                  &acquired);
            if (e != DEPOT_OK && e != DEPOT_E_BUSY) {
                snprintf(err, errlen, "%s", depot_store_errmsg(cx->st));
                return e;
            }
            if (acquired)
                return refresh(cx, owner, token, expires_at, err, errlen);
        }
        waited = 1;
        sleep_ms(POLL_MS);
    }
}

depot_err token_service_reject(const struct token_service_ctx *cx, const char *owner,
                               const char *token)
{
    return depot_token_reject(cx->st, owner, token);
}
