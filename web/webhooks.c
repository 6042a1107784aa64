/* Shared by the webhook endpoints: HMAC-SHA256 signatures checked in constant time (on
 * verifier threads) and the group commit of verified deliveries into the inbox before
 * they are acknowledged. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include "log.h"
#include "webhooks.h"

/* Rationale: a delivery may only be acknowledged once it is committed (fsync'd), but one
 * fsync per request would cap the endpoint at the disk's sync rate, and waiting for the
 * database lock (the inbox worker and other writers hold it for milliseconds) must never
 * stall the event loop. So a handler only queues its verified delivery and defers its
 * answer; a committer thread with its own connection takes everything queued, commits it
 * in one transaction (one fsync) and hands the outcomes back to the loop (through
 * lws_cancel_service), which answers every waiting client. While one commit runs, the
 * next batch gathers, so the cost per delivery falls as load rises and nothing is
 * answered before it is on disk. Only the loop thread touches requests, responses and
 * connections; the committer sees nothing but the deliveries.
 * The HMAC (a SHA-256 pass over the body) is a large part of a delivery's CPU, so it is
 * not done on the loop either: a handler queues the delivery with its channel's secret
 * and signature, and verifier threads (one per core) check it, then hand the delivery to
 * the committer, or back to the loop for a 401 if the signature does not match.
 * Nothing unverified is stored.
 * The committer's connection checkpoints its own commits (SQLite's autocheckpoint, 1000
 * pages; its clients wait for that commit a few milliseconds longer): a WAL restarts
 * from its beginning only when a checkpoint has caught up with it before the next
 * commit, which during an endless stream of commits the committer can arrange and a
 * checkpoint on another thread, racing the next commit, rarely does. Left to the inbox
 * worker, the WAL grew by every delivery for as long as the stream lasted (850 MB in the
 * 10 s benchmark), and each commit paid for new blocks. */

#define BATCH_MAX 256  /* deliveries per transaction */
#define VERIFIERS_MAX 4

struct pending {
    struct pending *next;     /* in the queue, the committed list, or the outstanding one */
    struct pending *next_out, *prev_out; /* loop thread: deliveries not answered yet */
    struct lws *wsi;
    struct web_response *res;
    struct web_request *req;  /* NULL once the client went away (loop thread only) */
    char request_id[17];
    char *strings;            /* source, delivery id, topic, event id, headers */
    struct depot_inbox_delivery d;
    char body_sha256[65];     /* hex, if the handler keys the delivery by its body */
    char *body;
    char *secret;             /* the channel's webhook secret until verified, then wiped */
    char signature[WEB_WEBHOOK_HEADER_MAX];
    const char *signature_header, *vendor; /* static strings, for a refusal */
    char channel[DEPOT_CHANNEL_NAME_MAX + 1];
    int refused;              /* the signature did not match (set by a verifier) */
    depot_err result;         /* set by the committer */
    int duplicate;
};

struct web_webhooks {
    struct web_server *srv;
    depot_store *st;                  /* the committer's connection */
    pthread_t thread;
    int running;
    pthread_t verifiers[VERIFIERS_MAX];
    int n_verifiers;
    pthread_mutex_t lock;
    pthread_cond_t cond;                 /* the committer waits on it */
    pthread_cond_t verify_cond;          /* the verifiers wait on it */
    struct pending *arrived, **arrived_tail;       /* loop thread only: not yet handed on */
    struct pending *unverified, **unverified_tail; /* loop -> verifiers */
    struct pending *queue, **queue_tail; /* verifiers -> committer */
    struct pending *done, **done_tail;   /* committer -> loop */
    int stop;
    struct pending *outstanding;         /* loop thread only */
    struct depot_inbox_delivery batch[BATCH_MAX]; /* committer thread only */
    int dup[BATCH_MAX];
};

int web_webhook_signature_ok(const char *secret, const void *body, size_t len,
                             const char *sig_b64)
{
    unsigned char mac[32], given[48];
    size_t given_len = 0;
    if (!secret || !sig_b64 || strlen(sig_b64) > 64)
        return 0;
    if (mbedtls_base64_decode(given, sizeof given, &given_len,
                              (const unsigned char *)sig_b64, strlen(sig_b64)) != 0 ||
        given_len != sizeof mac)
        return 0;
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    if (mbedtls_md_hmac(md, (const unsigned char *)secret, strlen(secret),
                        len ? body : (const void *)"", len, mac) != 0)
        return 0;
    volatile unsigned char diff = 0;
    for (size_t i = 0; i < sizeof mac; i++)
        diff |= (unsigned char)(mac[i] ^ given[i]);
    return diff == 0;
}

/* Copies the delivery's strings into one allocation owned by p. */
static int copy_strings(struct pending *p, const struct depot_inbox_delivery *d)
{
    const char *src[5] = {d->source, d->delivery_id, d->topic, d->event_id,
                          d->headers_json ? d->headers_json : "{}"};
    size_t total = 0;
    for (int i = 0; i < 5; i++)
        total += src[i] ? strlen(src[i]) + 1 : 0;
    char *buf = malloc(total ? total : 1), *at = buf;
    if (!buf)
        return -1;
    const char **dst[5] = {&p->d.source, &p->d.delivery_id, &p->d.topic, &p->d.event_id,
                           &p->d.headers_json};
    for (int i = 0; i < 5; i++) {
        if (!src[i]) {
            *dst[i] = NULL;
            continue;
        }
        size_t n = strlen(src[i]) + 1;
        memcpy(at, src[i], n);
        *dst[i] = at;
        at += n;
    }
    p->strings = buf;
    return 0;
}

static void pending_free(struct pending *p)
{
    web_webhook_secret_free(p->secret);
    free(p->strings);
    free(p->body);
    free(p);
}

/* Logs a refused signature and, if res, answers it 401. */
static void refuse(struct web_response *res, const char *request_id,
                   const struct web_webhook_signature *sig)
{
    depot_log_kv(DEPOT_LOG_WARN, "webhook",
                 DEPOT_KV({"request_id", request_id}, {"channel", sig->channel}),
                 "%s delivery refused: bad signature", sig->vendor);
    if (res)
        web_respond_error(res, 401, "invalid_signature", "%s does not match the body",
                          sig->header);
}

int web_webhook_verify_now(struct web_request *req, struct web_response *res,
                           struct web_webhook_signature *sig)
{
    int ok = web_webhook_signature_ok(sig->secret, req->body, req->body_len, sig->given);
    web_webhook_secret_free(sig->secret);
    sig->secret = NULL;
    if (!ok)
        refuse(res, req->request_id, sig);
    return ok;
}

static void answer(struct pending *p)
{
    if (p->refused) {
        struct web_webhook_signature sig = {.header = p->signature_header,
                                            .vendor = p->vendor, .channel = p->channel};
        refuse(p->req ? p->res : NULL, p->request_id, &sig);
        if (p->req)
            web_http_resume(p->wsi);
        return;
    }
    if (!p->req)
        return; /* the client went away; the delivery is stored all the same */
    if (p->result == DEPOT_OK) {
        static const char accepted[] = "{\"status\":\"accepted\"}",
                          duplicate[] = "{\"status\":\"duplicate\"}";
        if (p->duplicate)
            web_respond_raw(p->res, 200, "application/json", duplicate, sizeof duplicate - 1);
        else
            web_respond_raw(p->res, 200, "application/json", accepted, sizeof accepted - 1);
    } else {
        web_add_header(p->res, "Retry-After", "5");
        web_respond_error(p->res, 503, "inbox_unavailable",
                          "the delivery could not be stored (%s); retry",
                          depot_err_code(p->result));
    }
    web_http_resume(p->wsi);
}

/* Committer thread: commits up to BATCH_MAX deliveries of list in one transaction and
 * records each outcome; returns the first delivery after them. */
static struct pending *commit_some(struct web_webhooks *w, struct pending *list)
{
    struct pending *p = list;
    size_t n = 0;
    for (; p && n < BATCH_MAX; p = p->next)
        w->batch[n++] = p->d;
    memset(w->dup, 0, sizeof w->dup);
    depot_err e = depot_inbox_put_batch(w->st, w->batch, n, w->dup);
    if (e != DEPOT_OK)
        depot_log(DEPOT_LOG_ERROR, "webhook", "inbox commit of %zu deliveries failed: %s",
                  n, depot_store_errmsg(w->st));
    size_t i = 0;
    for (struct pending *q = list; i < n; q = q->next, i++) {
        q->result = e;
        q->duplicate = w->dup[i];
    }
    return p;
}

static void *committer(void *arg)
{
    struct web_webhooks *w = arg;
    pthread_setname_np(pthread_self(), "webhook-commit"); /* for top -H, perf, bench */
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->queue && !w->stop)
            pthread_cond_wait(&w->cond, &w->lock);
        if (w->stop)
            break;
        struct pending *batch = w->queue;
        w->queue = NULL;
        w->queue_tail = &w->queue;
        pthread_mutex_unlock(&w->lock);
        for (struct pending *p = batch; p;)
            p = commit_some(w, p);
        pthread_mutex_lock(&w->lock);
        *w->done_tail = batch;
        while (*w->done_tail)
            w->done_tail = &(*w->done_tail)->next;
        pthread_mutex_unlock(&w->lock);
        lws_cancel_service(w->srv->ctx);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* Verifier thread: checks p's signature, then wipes the secret. */
static int verify(struct pending *p)
{
    int ok = web_webhook_signature_ok(p->secret, p->body, p->d.body_len, p->signature);
    web_webhook_secret_free(p->secret);
    p->secret = NULL;
    return ok;
}

/* Takes one delivery at a time (so the verifiers share a burst evenly); a verified one
 * goes to the committer, a refused one back to the loop. */
static void *verifier(void *arg)
{
    struct web_webhooks *w = arg;
    pthread_setname_np(pthread_self(), "webhook-verify");
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->unverified && !w->stop)
            pthread_cond_wait(&w->verify_cond, &w->lock);
        if (w->stop)
            break;
        struct pending *p = w->unverified;
        w->unverified = p->next;
        if (!w->unverified)
            w->unverified_tail = &w->unverified;
        p->next = NULL;
        pthread_mutex_unlock(&w->lock);
        int ok = verify(p);
        pthread_mutex_lock(&w->lock);
        if (ok) {
            *w->queue_tail = p;
            w->queue_tail = &p->next;
            pthread_cond_signal(&w->cond);
            continue;
        }
        p->refused = 1;
        *w->done_tail = p;
        w->done_tail = &p->next;
        pthread_mutex_unlock(&w->lock);
        lws_cancel_service(w->srv->ctx);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static void forget(struct web_webhooks *w, struct pending *p)
{
    if (p->prev_out)
        p->prev_out->next_out = p->next_out;
    else
        w->outstanding = p->next_out;
    if (p->next_out)
        p->next_out->prev_out = p->prev_out;
}

void web_webhooks_completed(struct web_server *srv)
{
    struct web_webhooks *w = srv->webhooks;
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    struct pending *p = w->done;
    w->done = NULL;
    w->done_tail = &w->done;
    pthread_mutex_unlock(&w->lock);
    while (p) {
        struct pending *next = p->next;
        if (!p->refused && p->result == DEPOT_OK)
            depot_log_kv(DEPOT_LOG_DEBUG, "webhook",
                         DEPOT_KV({"request_id", p->request_id}, {"topic", p->d.topic},
                                  {"channel", p->d.source}),
                         "%s delivery %s", p->duplicate ? "duplicate" : "stored",
                         p->d.delivery_id);
        if (!p->refused && p->result == DEPOT_OK && p->d.stale && !p->duplicate)
            depot_log_kv(DEPOT_LOG_WARN, "webhook",
                         DEPOT_KV({"request_id", p->request_id}, {"channel", p->channel},
                                  {"topic", p->d.topic}),
                         "stale %s delivery %s (triggered at %lld): stored, flagged, and "
                         "applied only if newer than the stored state", p->vendor,
                         p->d.delivery_id, (long long)p->d.triggered_at);
        forget(w, p);
        answer(p);
        pending_free(p);
        p = next;
    }
}

void web_webhook_enqueue(struct web_request *req, struct web_response *res,
                         const struct depot_inbox_delivery *d,
                         struct web_webhook_signature *sig)
{
    struct web_webhooks *w = req->srv->webhooks;
    const char *why;
    if (!depot_inbox_delivery_valid(d, &why)) { /* it would fail its whole batch */
        if (web_webhook_verify_now(req, res, sig))
            web_respond_error(res, 400, "invalid_delivery",
                              "the delivery cannot be stored: %s", why);
        return;
    }
    struct pending *p = calloc(1, sizeof *p);
    if (!p || copy_strings(p, d) != 0) {
        free(p);
        web_webhook_secret_free(sig->secret);
        sig->secret = NULL;
        web_respond_error(res, 500, "out_of_memory", "out of memory");
        return;
    }
    p->secret = sig->secret; /* taken */
    sig->secret = NULL;
    snprintf(p->signature, sizeof p->signature, "%s", sig->given ? sig->given : "");
    snprintf(p->channel, sizeof p->channel, "%s", sig->channel ? sig->channel : "");
    p->signature_header = sig->header;
    p->vendor = sig->vendor;
    p->d.channel_id = d->channel_id;
    p->d.triggered_at = d->triggered_at;
    p->d.stale = d->stale;
    if (d->body_sha256) {
        snprintf(p->body_sha256, sizeof p->body_sha256, "%s", d->body_sha256);
        p->d.body_sha256 = p->body_sha256;
    }
    p->body = req->body; /* taken: the connection may be reset before the commit */
    p->d.body = p->body;
    p->d.body_len = req->body_len;
    req->body = NULL;
    req->body_len = 0;
    p->wsi = req->wsi;
    p->req = req;
    p->res = res;
    snprintf(p->request_id, sizeof p->request_id, "%s", req->request_id);
    p->next_out = w->outstanding;
    if (w->outstanding)
        w->outstanding->prev_out = p;
    w->outstanding = p;
    res->deferred = 1;
    *w->arrived_tail = p; /* handed on by web_webhooks_flush after this loop round */
    w->arrived_tail = &p->next;
}

void web_webhooks_flush(struct web_server *srv)
{
    struct web_webhooks *w = srv->webhooks;
    if (!w || !w->arrived)
        return;
    int many = w->arrived->next != NULL;
    pthread_mutex_lock(&w->lock);
    *w->unverified_tail = w->arrived;
    w->unverified_tail = w->arrived_tail;
    if (many)
        pthread_cond_broadcast(&w->verify_cond);
    else
        pthread_cond_signal(&w->verify_cond);
    pthread_mutex_unlock(&w->lock);
    w->arrived = NULL;
    w->arrived_tail = &w->arrived;
}

void web_deferred_abandon(struct web_request *req)
{
    struct web_webhooks *w = req->srv ? req->srv->webhooks : NULL;
    for (struct pending *p = w ? w->outstanding : NULL; p; p = p->next_out)
        if (p->req == req)
            p->req = NULL;
}

struct web_webhooks *web_webhooks_new(struct web_server *srv, const char *db_path,
                                      char *err, size_t errlen)
{
    char e[512];
    struct web_webhooks *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "web: out of memory");
        return NULL;
    }
    w->srv = srv;
    w->arrived_tail = &w->arrived;
    w->unverified_tail = &w->unverified;
    w->queue_tail = &w->queue;
    w->done_tail = &w->done;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    pthread_cond_init(&w->verify_cond, NULL);
    struct depot_store_options opt = {.busy_timeout_ms = 10000};
    if (depot_store_open(db_path, &opt, &w->st, e, sizeof e) != DEPOT_OK) {
        snprintf(err, errlen, "web: cannot open database %s for webhooks: %s", db_path, e);
        web_webhooks_free(w);
        return NULL;
    }
    if (pthread_create(&w->thread, NULL, committer, w) != 0) {
        snprintf(err, errlen, "web: cannot start the webhook committer thread");
        web_webhooks_free(w);
        return NULL;
    }
    w->running = 1;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int want = cores < 1 ? 1 : cores > VERIFIERS_MAX ? VERIFIERS_MAX : (int)cores;
    while (w->n_verifiers < want &&
           pthread_create(&w->verifiers[w->n_verifiers], NULL, verifier, w) == 0)
        w->n_verifiers++;
    if (w->n_verifiers == 0) {
        snprintf(err, errlen, "web: cannot start a webhook verifier thread");
        web_webhooks_free(w);
        return NULL;
    }
    return w;
}

static void free_list(struct pending *p)
{
    while (p) {
        struct pending *next = p->next;
        pending_free(p);
        p = next;
    }
}

void web_webhooks_stop(struct web_webhooks *w)
{
    if (!w || !w->running)
        return;
    /* The commit in progress finishes; its clients get no answer. */
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_signal(&w->cond);
    pthread_cond_broadcast(&w->verify_cond);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < w->n_verifiers; i++)
        pthread_join(w->verifiers[i], NULL);
    w->n_verifiers = 0;
    pthread_join(w->thread, NULL);
    w->running = 0;
}

void web_webhooks_free(struct web_webhooks *w)
{
    if (!w)
        return;
    web_webhooks_stop(w);
    w->outstanding = NULL;
    /* Deliveries never committed were never acknowledged: the sender retries them. */
    free_list(w->arrived);
    free_list(w->unverified);
    free_list(w->queue);
    free_list(w->done);
    pthread_cond_destroy(&w->cond);
    pthread_cond_destroy(&w->verify_cond);
    pthread_mutex_destroy(&w->lock);
    depot_store_close(w->st);
    free(w);
}

const struct web_route web_routes_webhooks[] = {
    {WEB_POST, "/webhooks/shopify", WEB_ROLE_NONE, WEB_ROUTE_PUBLIC, web_webhook_shopify,
     "webhook_shopify"},
    {WEB_POST, "/webhooks/woocommerce", WEB_ROLE_NONE, WEB_ROUTE_PUBLIC,
     web_webhook_woocommerce, "webhook_woocommerce"},
    {0},
};
