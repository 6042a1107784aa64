/* Private interface shared by the files of sync/: the retry policy, the circuit breaker,
 * rate limiting, OAuth 1.0a signing, and the status board the worker keeps for the API
 * and /metrics. Pure functions where possible so they can be unit tested. */
#ifndef DEPOT_SYNC_INT_H
#define DEPOT_SYNC_INT_H

#include <stddef.h>
#include <stdint.h>
#include "channel.h"

/* ---- Retry policy (backoff.c) -------------------------------------------------- */

/* Milliseconds before attempt number attempts + 1 after attempts failures (>= 1):
 * exponential from base_ms, capped at max_ms, with "equal jitter" (half fixed, half
 * random from rnd in [0, 1)); never less than retry_after_s * 1000 when the upstream sent
 * Retry-After (retry_after_s >= 0). */
int64_t sync_backoff_ms(int attempts, int base_ms, int max_ms, int retry_after_s, double rnd);

/* Seconds from a Retry-After value: delta-seconds or an HTTP date (relative to now);
 * -1 if it is neither. Capped at one day. */
int sync_parse_retry_after(const char *value, int64_t now);

/* ---- Circuit breaker (breaker.c) ------------------------------------------------ */

enum sync_breaker_state { SYNC_BREAKER_CLOSED, SYNC_BREAKER_OPEN, SYNC_BREAKER_HALF_OPEN };

/* One upstream endpoint's breaker: closed until threshold consecutive failures, then open
 * for cooldown seconds, then half-open: one probe call; its success closes the breaker,
 * its failure opens it again. */
struct sync_breaker {
    int64_t channel_id;
    char endpoint[32];
    enum sync_breaker_state state;
    int failures;          /* consecutive */
    double opened_at;      /* monotonic seconds */
    int probing;           /* half-open: the probe is in flight */
    uint64_t opens;        /* times it opened */
    uint64_t successes, errors;
};

const char *sync_breaker_state_name(enum sync_breaker_state s);
/* 1 if a call may start now (and, when half-open, marks the probe as taken). */
int sync_breaker_allow(struct sync_breaker *b, double now, double cooldown);
/* Record a call's outcome. Return 1 if the state changed. */
int sync_breaker_success(struct sync_breaker *b);
int sync_breaker_failure(struct sync_breaker *b, double now, int threshold);
/* A call that started but ended without an upstream verdict (shutdown, throttled):
 * releases a half-open probe without judging. */
void sync_breaker_release(struct sync_breaker *b);

/* ---- Rate limits (ratelimit.c) -------------------------------------------------- */

/* 1 if ch may start a call of the given cost at now. */
int sync_rate_allow(const struct sync_channel *ch, double cost, double now);
/* How many calls of that cost ch may start now: 0 while paused, what the bucket holds
 * (at least 1 when the cost exceeds a full bucket's size and the bucket is full), or
 * INT_MAX when the platform meters nothing. */
int sync_rate_calls(const struct sync_channel *ch, double cost, double now);
/* A call of that cost starts: take it from the bucket until the platform's next figure. */
void sync_rate_spend(struct sync_channel *ch, double cost, double now);
/* Shopify's extensions.cost.throttleStatus from the answer to a call sent at sent_at
 * (NULL ignored), less the cost of the calls still on the wire. A call sent before the
 * last figure was read ran alongside the call that gave it, and the platform may have
 * answered them in either order: its figure may be the older one, so it can only lower
 * the estimate. */
void sync_rate_observe_shopify(struct sync_channel *ch, const cJSON *extensions, double sent_at,
                               double now);
/* The platform said slow down: no calls for seconds (>= the restore time of cost). */
void sync_rate_pause(struct sync_channel *ch, double seconds, double now);

/* ---- OAuth 1.0a (oauth1.c) ------------------------------------------------------ */

struct sync_oauth1_param {
    const char *key, *value; /* not encoded */
};

/* Signs a request with HMAC-SHA1 (RFC 5849 section 3.4.2): the signature base string
 * from method, the base URL (scheme, host, port and path; no query) and every request
 * parameter plus the oauth_* ones. token/token_secret may be NULL (one-legged, as
 * WooCommerce). On success returns a malloc'd query string holding every parameter
 * and oauth_signature, each percent-encoded (caller frees), and copies the base64
 * signature into sig (may be NULL). NULL when out of memory. */
char *sync_oauth1_sign(const char *method, const char *url,
                       const struct sync_oauth1_param *params, size_t n,
                       const char *consumer_key, const char *consumer_secret,
                       const char *token, const char *token_secret, const char *nonce,
                       long long timestamp, char sig[64]);

/* ---- Transport (http.c) --------------------------------------------------------- */

/* Puts job->req on easy (reset first) with bounded response size, the timeout, no
 * redirects, http/https only; the answer collects into job->resp. Returns 0. */
int sync_http_prepare(struct sync_job *job, CURL *easy, int timeout_ms);
/* The checks every platform shares on a finished call: SYNC_SEND when a 2xx arrived and
 * the adapter should read it, else RETRY (no answer, timeout, reset, 5xx: upstream
 * fault), THROTTLED (429, 503 with Retry-After) or FAIL (other 4xx) with job->error. */
enum sync_step sync_http_classify(struct sync_job *job, CURLcode rc, long status);

/* Monotonic seconds. */
double sync_now(void);

/* ---- Shopify and WooCommerce calls shared by their adapter files ------------------ */

/* Puts a GraphQL call (query and variables, taken) to the channel's Admin API on
 * job->req: SYNC_SEND, or SYNC_RETRY when out of memory. */
enum sync_step sync_shopify_graphql(struct sync_job *job, const char *query,
                                    cJSON *variables);
/* Reads a GraphQL answer: SYNC_SEND with the parsed document in *root (the caller
 * deletes it), or, with *root NULL, RETRY for a body that is not JSON or an internal
 * error, THROTTLED (with the wait the cost asks for), FAIL for a query the API refuses.
 * Feeds the channel's rate limit from the answer's cost extension either way. */
enum sync_step sync_shopify_answer(struct sync_job *job, const struct sync_response *res,
                                   cJSON **root);
/* The Shopify pull verbs (shopify_pull.c); a page's requested query cost stays below
 * this many points. */
#define SYNC_SHOPIFY_PULL_COST 250
enum sync_step sync_shopify_pull_begin(struct sync_job *job);
enum sync_step sync_shopify_on_pull(struct sync_job *job, const struct sync_response *res);
/* One Shopify GraphQL Order node as the REST order resource its webhooks carry (the
 * fields the inbound mapper reads); NULL if the node has no id or is not an object. */
cJSON *sync_shopify_order_rest(const cJSON *node);

/* Puts a WooCommerce REST call on job->req: method, ch->base + path, query pairs, and
 * the channel's authentication (Basic over HTTPS, else OAuth 1.0a signed query).
 * ep is the breaker key. 0, or -1 when out of memory or the URL is too long. */
int sync_woo_request(struct sync_job *job, const char *method, const char *ep,
                     const char *path, const struct sync_oauth1_param *query, size_t nq);
/* The WooCommerce pull verbs (woocommerce_pull.c). */
enum sync_step sync_woo_pull_begin(struct sync_job *job);
enum sync_step sync_woo_on_pull(struct sync_job *job, const struct sync_response *res);

#endif
