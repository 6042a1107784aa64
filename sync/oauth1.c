/* OAuth 1.0a request signing (RFC 5849, HMAC-SHA1) for WooCommerce over plain HTTP:
 * percent-encoding by libcurl, HMAC and base64 by mbedTLS. */
#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "sync_int.h"

/* Rationale: RFC 5849 section 3.4.1 builds the base string from the parameters each
 * percent-encoded (RFC 3986 unreserved characters kept, everything else %XX: exactly
 * curl_easy_escape), sorted by encoded name then value, joined "k=v&...", and that whole
 * string encoded once more. WooCommerce sorts before encoding and encodes each "k=v"
 * pair as a whole; for the ASCII names it uses both orders agree. */

struct enc_pair {
    char *k, *v;
};

static int pair_cmp(const void *a, const void *b)
{
    const struct enc_pair *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

static char *escape(const char *s)
{
    return curl_easy_escape(NULL, s ? s : "", 0);
}

/* "k=v&k=v" of pairs[0..n), appending "&oauth_signature=sig" when sig is given. */
static char *join(const struct enc_pair *pairs, size_t n, const char *sig_enc)
{
    size_t len = 1 + (sig_enc ? strlen(sig_enc) + 18 : 0);
    for (size_t i = 0; i < n; i++)
        len += strlen(pairs[i].k) + strlen(pairs[i].v) + 2;
    char *out = malloc(len), *p = out;
    if (!out)
        return NULL;
    *p = '\0';
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s%s=%s", i ? "&" : "", pairs[i].k, pairs[i].v);
    if (sig_enc)
        sprintf(p, "&oauth_signature=%s", sig_enc);
    return out;
}

char *sync_oauth1_sign(const char *method, const char *url,
                       const struct sync_oauth1_param *params, size_t n,
                       const char *consumer_key, const char *consumer_secret,
                       const char *token, const char *token_secret, const char *nonce,
                       long long timestamp, char sig[64])
{
    char ts[24];
    snprintf(ts, sizeof ts, "%lld", timestamp);
    const struct sync_oauth1_param oauth[] = {
        {"oauth_consumer_key", consumer_key}, {"oauth_nonce", nonce},
        {"oauth_signature_method", "HMAC-SHA1"}, {"oauth_timestamp", ts},
        {"oauth_version", "1.0"}, {"oauth_token", token},
    };
    size_t n_oauth = token ? 6 : 5, total = n + n_oauth;
    struct enc_pair *pairs = calloc(total, sizeof *pairs);
    char *result = NULL, *plist = NULL, *base = NULL, *m_enc = NULL, *u_enc = NULL,
         *p_enc = NULL, *cs_enc = NULL, *ts_enc = NULL, *key = NULL, *sig_enc = NULL;
    if (!pairs)
        return NULL;
    for (size_t i = 0; i < total; i++) {
        const struct sync_oauth1_param *p = i < n ? &params[i] : &oauth[i - n];
        if (!(pairs[i].k = escape(p->key)) || !(pairs[i].v = escape(p->value)))
            goto out;
    }
    qsort(pairs, total, sizeof *pairs, pair_cmp);
    if (!(plist = join(pairs, total, NULL)) || !(m_enc = escape(method)) ||
        !(u_enc = escape(url)) || !(p_enc = escape(plist)) ||
        !(cs_enc = escape(consumer_secret)) || !(ts_enc = escape(token_secret)))
        goto out;
    size_t blen = strlen(m_enc) + strlen(u_enc) + strlen(p_enc) + 3;
    size_t klen = strlen(cs_enc) + strlen(ts_enc) + 2;
    if (!(base = malloc(blen)) || !(key = malloc(klen)))
        goto out;
    snprintf(base, blen, "%s&%s&%s", m_enc, u_enc, p_enc);
    snprintf(key, klen, "%s&%s", cs_enc, ts_enc);
    unsigned char mac[20], b64[64];
    size_t b64len = 0;
    if (mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA1), (unsigned char *)key,
                        strlen(key), (unsigned char *)base, strlen(base), mac) != 0 ||
        mbedtls_base64_encode(b64, sizeof b64, &b64len, mac, sizeof mac) != 0)
        goto out;
    b64[b64len] = '\0';
    if (sig)
        snprintf(sig, 64, "%s", (char *)b64);
    if (!(sig_enc = escape((char *)b64)))
        goto out;
    result = join(pairs, total, sig_enc);
out:
    for (size_t i = 0; i < total; i++) { /* curl_free(NULL) is a no-op */
        curl_free(pairs[i].k);
        curl_free(pairs[i].v);
    }
    free(pairs);
    free(plist);
    free(base);
    if (key) {
        explicit_bzero(key, strlen(key));
        free(key);
    }
    curl_free(m_enc);
    curl_free(u_enc);
    curl_free(p_enc);
    if (cs_enc) {
        explicit_bzero(cs_enc, strlen(cs_enc));
        curl_free(cs_enc);
    }
    curl_free(ts_enc);
    curl_free(sig_enc);
    return result;
}
