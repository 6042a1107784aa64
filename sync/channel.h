/* One vtable per sales-channel platform (Shopify, WooCommerce), in the shape of curl's
 * TLS backends: a name, what the platform can batch, then verbs with one-line contracts.
 * An adapter turns outbox rows into HTTP calls and reads the answers; the worker owns the
 * transport (libcurl multi), retries, rate limits and circuit breakers. */
#ifndef DEPOT_SYNC_CHANNEL_H
#define DEPOT_SYNC_CHANNEL_H

#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>
#include "outbox_claim.h"
#include "store.h"

#define SYNC_URL_MAX 2048
#define SYNC_ERROR_MAX DEPOT_OUTBOX_ERROR_MAX

/* A channel as the worker knows it: its row and decrypted credentials (wiped on free). */
struct sync_channel {
    struct depot_channel row;
    const struct channel_ops *ops;
    char base[SYNC_URL_MAX];     /* API root the adapter derived from the row */
    char *token;                 /* Shopify access token */
    char *consumer_key;          /* WooCommerce */
    char *consumer_secret;
    /* Rate limit state, following the platform's own signals (ratelimit.c). */
    double bucket_max, bucket_available, bucket_restore; /* Shopify cost points */
    double bucket_at;       /* when bucket_available was measured (monotonic seconds) */
    double bucket_read_at;  /* when the platform's last figure was read */
    double paused_until;    /* no new call before this (429 + Retry-After, THROTTLED) */
    double wire_cost;       /* cost of the calls sent and not answered yet */
    int inflight;           /* calls in progress */
    uint64_t throttled;     /* times the platform said slow down */
    uint64_t calls;         /* HTTP calls made */
    uint64_t delivered, retried, dead; /* outbox rows, by outcome */
    double loaded_at;       /* when the row and credentials were read */
    /* Backstop pull of recent orders (backstop.c). */
    double next_pull_at;    /* monotonic seconds; 0 = one interval after start */
    int pulling;            /* a pull is in flight */
    uint64_t pulls, pull_errors, pulled_orders;
    /* Forced refresh of an expiring access token after a 401 (worker_token.c). */
    int expiring;           /* the token has a refresh token (Shopify expiring offline) */
    unsigned token_gen;     /* counts the tokens put into ch->token by forced refreshes */
    double token_forced_at; /* monotonic seconds of the last forced refresh, 0 = none */
    struct sync_token_refresh *refresh; /* the refresh in progress, or NULL */
};

/* One HTTP call an adapter asks for. body and headers are owned by the request. */
struct sync_request {
    const char *method;           /* "GET", "POST", "PUT" */
    char url[SYNC_URL_MAX];
    char *body;                   /* NUL-terminated, or NULL */
    struct curl_slist *headers;
    const char *endpoint;         /* the circuit breaker's key, e.g. "graphql" */
    const char *user, *password;  /* HTTP Basic credentials, or NULL */
    double cost;                  /* expected rate-limit cost (Shopify points), 0 if none */
};

/* What came back. status 0 means no HTTP answer (see curl/curl_error). */
struct sync_response {
    long status;
    CURLcode curl;
    const char *curl_error;
    const char *body;             /* NUL-terminated (may hold embedded junk) */
    size_t len;
    int retry_after;              /* seconds from Retry-After, -1 if absent */
};

enum sync_step {
    SYNC_SEND,      /* job->req holds the next call */
    SYNC_DONE,      /* every row delivered (or per-row results set) */
    SYNC_RETRY,     /* try again later; job->error says why */
    SYNC_THROTTLED, /* the platform asked us to slow down; not a failure */
    SYNC_FAIL,      /* will never succeed as is: dead-letter with job->error */
};

/* Rows delivered together (one row, or a batch of inventory rows of one channel), or a
 * backstop pull (pull = 1, no rows). */
struct sync_job {
    struct sync_channel *ch;
    int pull;                /* a backstop pull of recent orders: no outbox rows */
    int64_t since_ms;        /* pull: orders updated at or after this (unix ms) */
    struct depot_outbox_item *items;
    int n;
    int64_t *prev;           /* per row: level last pushed (-1 unknown), inventory only */
    char (*product)[129];    /* per row: the channel's product id of the row's SKU */
    enum sync_step *result;  /* per row: an adapter may fail single rows of a batch */
    int phase;               /* the adapter's progress through multi-call deliveries */
    int rounds;              /* compare-and-set rounds used (Shopify) */
    cJSON *scratch;          /* adapter state between calls; freed by the worker */
    struct sync_request req;
    char error[SYNC_ERROR_MAX + 1];
    int retry_after;         /* seconds the upstream asked for, -1 if none */
    int upstream_fault;      /* 1: counts as an endpoint failure for the breaker */
    double started;          /* monotonic seconds */
    int parked;              /* its next call waits for the rate limit (not on the multi) */
    int awaiting_token;      /* its call waits for a forced token refresh (not on the multi) */
    int token_retried;       /* its call was already re-sent once after a 401 */
    unsigned token_gen;      /* ch->token_gen of the token in req */
    CURL *easy;
    char *resp;              /* response body being received */
    size_t resp_len, resp_cap;
    int resp_retry_after;
    char curl_error[CURL_ERROR_SIZE];
};

struct channel_ops {
    const char *name;          /* "shopify", "woocommerce": the channels.kind */
    int inventory_batch_max;   /* inventory.set rows one call may carry (>= 1) */
    double call_cost;          /* rate-limit points a call usually costs (0: unmetered) */
    /* Derives ch->base from the channel row; 0, or -1 with a reason in err. */
    int (*prepare)(struct sync_channel *ch, char *err, size_t errlen);
    /* The upstream endpoint a topic's calls go to (the breaker key), NULL when the
     * platform has no use for the topic. */
    const char *(*endpoint)(const char *topic);
    /* Fills job->req with the first call for the job's rows: SYNC_SEND, or SYNC_FAIL. */
    enum sync_step (*begin)(struct sync_job *job);
    /* Reads the answer to job->req after the shared HTTP checks passed (a 2xx with a
     * body): SYNC_SEND with the next call in job->req, SYNC_DONE, or a failure verb with
     * job->error (and job->retry_after / upstream_fault) set. */
    enum sync_step (*on_response)(struct sync_job *job, const struct sync_response *res);
    /* Backstop pull of the orders updated since job->since_ms, sorted oldest update first,
     * page by page. pull_endpoint is its breaker key. pull_begin fills job->req with the
     * first page's call (SYNC_SEND). on_pull reads a page (after the shared HTTP checks),
     * appends each order to job->scratch (sync_pull_add) and returns SYNC_SEND with the
     * next page's call, SYNC_DONE, or a failure verb as on_response. */
    const char *pull_endpoint;
    double pull_cost;          /* rate-limit points a page may cost */
    enum sync_step (*pull_begin)(struct sync_job *job);
    enum sync_step (*on_pull)(struct sync_job *job, const struct sync_response *res);
    /* Puts the channel's current access token into job->req (after a refresh): 0, or -1
     * when out of memory. NULL when the platform has no refreshable tokens. */
    int (*retoken)(struct sync_job *job);
};

extern const struct channel_ops sync_shopify_ops;
extern const struct channel_ops sync_woocommerce_ops;

/* ---- Helpers the adapters share (http.c) ------------------------------------------ */

/* Resets job->req (frees body and headers) for a new call. */
void sync_request_reset(struct sync_request *r);
/* Sets a JSON body (takes ownership of doc) and the JSON content type; -1 if out of
 * memory. */
int sync_request_json(struct sync_request *r, cJSON *doc);
/* Appends a header line "Name: value"; -1 if out of memory or the line is over 1 KiB. */
int sync_request_header(struct sync_request *r, const char *name, const char *value);
/* Sets job->error from a format (truncated to fit). */
void sync_job_error(struct sync_job *job, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A string member, or NULL. */
const char *sync_json_str(const cJSON *o, const char *name);
/* A channel id as a Shopify global id: "gid://shopify/<type>/<id>" unless it already is
 * one. */
void sync_shopify_gid(char *out, size_t cap, const char *type, const char *id);

/* ---- Backstop pull (backstop.c) ----------------------------------------------------- */

#define SYNC_PULL_PAGES_MAX 50 /* pages one pull reads; the next pull goes on from there */

/* Adds one pulled order to a pull job: its id, its updated_at as the platform wrote it
 * (ISO 8601; the newest becomes the channel's cursor) and its body in the REST/webhook
 * shape the inbound mappers read (taken, also on error). -1 if out of memory or the id
 * or time is unusable. */
int sync_pull_add(struct sync_job *job, const char *id, const char *updated_at,
                  cJSON *body);
/* Pages read so far by a pull job; sync_pull_page_done counts one more. */
int sync_pull_pages(const struct sync_job *job);
void sync_pull_page_done(struct sync_job *job);
/* A unix-ms time as "YYYY-MM-DDTHH:MM:SS" (UTC, whole seconds, no zone) into out[20+]. */
void sync_format_utc(int64_t ms, char *out, size_t cap);

#endif
