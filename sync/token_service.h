/* The token service: one place that gets, caches and refreshes OAuth access tokens for
 * every carrier and channel, whatever grant they use -- FedEx and UPS client
 * credentials, DHL Parcel DE's password grant, Shopify's refresh-token grant for
 * expiring offline tokens. Tokens are cached sealed in the database (token_cache +
 * vault), refreshed ahead of expiry, and refreshed by one caller at a time across every
 * thread and process (single flight: the others wait and reuse its result). Secrets and
 * tokens never appear in the errors it returns or the audit rows it writes. */
#ifndef DEPOT_SYNC_TOKEN_SERVICE_H
#define DEPOT_SYNC_TOKEN_SERVICE_H

#include <stddef.h>
#include <stdint.h>
#include "carriers.h"
#include "store.h"

#define TOKEN_ERROR_MAX 240

struct token_service_ctx {
    depot_store *st;    /* the calling thread's own connection */
    const uint8_t *key; /* master key (DEPOT_MASTER_KEY_LEN bytes) */
    const char *actor;  /* audit actor, e.g. "cli:root" or "system:sync" */
    int timeout_ms;     /* one token request; 0 = 15000 */
};

/* A token for owner ("carrier:<id>" or "channel:<id>"): the cached one while it is good
 * for more than the refresh margin (min(300 s, a fifth of its lifetime)), else a fresh
 * one from the owner's token endpoint (audited TOKEN_REFRESHED / TOKEN_FAILED). On
 * DEPOT_OK *token is malloc'd (wipe and free) and *expires_at its expiry (0 = never).
 * Errors: DEPOT_E_CRYPTO when the provider refused the credentials, DEPOT_E_IO when it
 * could not be reached or answered nonsense, others from the store; err holds the
 * reason (the provider's own words where it gave any). */
depot_err token_service_get(const struct token_service_ctx *cx, const char *owner,
                            char **token, int64_t *expires_at, char *err, size_t errlen);

/* An API answered 401 to token: drop it from the cache (if still current) so the next
 * token_service_get refreshes it -- once, however many callers saw the 401. */
depot_err token_service_reject(const struct token_service_ctx *cx, const char *owner,
                               const char *token);

/* What a token endpoint answered, parsed (token_service.c, shared with the Shopify
 * install's code exchange). */
struct token_answer {
    char *access_token;   /* malloc'd */
    char *refresh_token;  /* malloc'd or NULL */
    int64_t expires_in;   /* seconds; 0 = the token does not expire */
    char scope[256];
};
void token_answer_free(struct token_answer *a);
/* Zeroes and frees a malloc'd, NUL-terminated secret (a token, a credential); NULL is
 * fine. */
void token_secret_free(char *s);

/* POSTs a token request (body form-encoded unless json is set; Basic credentials when
 * user is not NULL) and parses the answer: access_token (string), expires_in (number or
 * numeric string, optional), refresh_token, scope. Returns DEPOT_OK, DEPOT_E_CRYPTO for
 * a refusal (4xx, with the provider's error text) or DEPOT_E_IO. secret (may be NULL)
 * is scrubbed from any error text. */
depot_err token_request(const char *url, const char *body, int json, const char *user,
                        const char *password, int timeout_ms, const char *secret,
                        struct token_answer *out, char *err, size_t errlen);

/* The provider's reason from an error body -- OAuth {"error","error_description"},
 * FedEx {"errors":[{"code","message"}]}, UPS {"response":{"errors":[...]}} -- as one
 * printable line (at most cap-1 bytes) with secret (may be NULL) masked. */
void token_error_reason(long status, const char *body, const char *secret, char *out,
                        size_t cap);

#endif
