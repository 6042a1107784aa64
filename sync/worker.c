/* The outbound sync worker: a thread with its own SQLite connection and a libcurl multi
 * handle that coalesces, claims and delivers due outbox rows to the sales channels, and
 * records each outcome (done, retry with backoff, dead letter). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "inbound.h"
#include "log.h"
#include "outbox_claim.h"
#include "sync.h"
#include "sync_int.h"
#include "sync_worker_int.h"

/* Rationale: one loop does everything, so no delivery state is shared between threads
 * except the counters the API reads (under mu). Each pass: record finished calls in one
 * transaction (group commit), coalesce pending stock pushes, and for every channel with
 * free slots claim its due rows (head of each aggregate only, so one order's events go
 * in sequence) and start their calls. Rows are marked inflight before the first byte
 * leaves; a crash leaves them inflight and the next start re-sends them with the same
 * idempotency key, which each adapter turns into an unchanged upstream state. */

#define DUE_BATCH_MAX 256
#define CHANNEL_RELOAD_S 10.0

static const struct channel_ops *const all_ops[] = {&sync_shopify_ops, &sync_woocommerce_ops};

void sync__publish(struct depot_sync *s, cJSON *data)
{
    if (s->cfg.publish)
        s->cfg.publish(s->cfg.publish_user, "sync", data);
    else
        cJSON_Delete(data);
}

/* ---- Channels ------------------------------------------------------------------- */

static void wipe_free(char **p)
{
    if (*p) {
        explicit_bzero(*p, strlen(*p));
        free(*p);
        *p = NULL;
    }
}

static void channel_free(struct sync_channel *ch)
{
    if (!ch)
        return;
    wipe_free(&ch->token);
    wipe_free(&ch->consumer_key);
    wipe_free(&ch->consumer_secret);
    free(ch);
}

struct sync_channel *sync__channel_by_id(struct depot_sync *s, int64_t id)
{
    for (int i = 0; i < s->n_channels; i++)
        if (s->channels[i]->row.id == id)
            return s->channels[i];
    return NULL;
}

/* Reads the row and credentials of channel id into ch (fresh). 0 or -1 (logged). */
static int channel_read(struct depot_sync *s, int64_t id, struct sync_channel *ch)
{
    char err[256] = "";
    if (depot_channel_get(s->st, id, &ch->row) != DEPOT_OK) {
        depot_log(DEPOT_LOG_WARN, "sync", "channel %lld: %s", (long long)id,
                  depot_store_errmsg(s->st));
        return -1;
    }
    for (size_t i = 0; i < sizeof all_ops / sizeof all_ops[0]; i++)
        if (strcmp(all_ops[i]->name, ch->row.kind) == 0)
            ch->ops = all_ops[i];
    if (!ch->ops)
        return -1;
    static const char *const fields[] = {"token", "consumer_key", "consumer_secret"};
    char **slots[] = {&ch->token, &ch->consumer_key, &ch->consumer_secret};
    for (int i = 0; i < 3; i++) {
        depot_err e = depot_channel_credential(s->st, s->key, id, fields[i], slots[i]);
        if (e != DEPOT_OK && e != DEPOT_E_NOT_FOUND) {
            depot_log(DEPOT_LOG_WARN, "sync", "channel %lld: cannot read its %s: %s",
                      (long long)id, fields[i], depot_store_errmsg(s->st));
            return -1;
        }
    }
    if (ch->ops->prepare(ch, err, sizeof err) != 0) {
        depot_log(DEPOT_LOG_WARN, "sync", "channel %lld (%s): %s", (long long)id,
                  ch->row.name, err);
        return -1;
    }
    ch->expiring = sync__token_expiring(s, ch);
    return 0;
}

/* Picks up new channels, and re-reads idle ones (rotated credentials) now and then. */
static void channels_refresh(struct depot_sync *s, double now)
{
    int64_t ids[SYNC_MAX_CHANNELS];
    int n = 0;
    if (depot_outbox_channels(s->st, ids, SYNC_MAX_CHANNELS, &n) != DEPOT_OK)
        return;
    for (int i = 0; i < n; i++) {
        struct sync_channel *old = sync__channel_by_id(s, ids[i]);
        if (old && (old->inflight > 0 || old->refresh ||
                    now - old->loaded_at < CHANNEL_RELOAD_S))
            continue;
        struct sync_channel *ch = calloc(1, sizeof *ch);
        if (!ch || channel_read(s, ids[i], ch) != 0) {
            channel_free(ch);
            continue;
        }
        ch->loaded_at = now;
        pthread_mutex_lock(&s->mu);
        if (old) { /* keep the rate state and counters */
            ch->bucket_max = old->bucket_max;
            ch->bucket_available = old->bucket_available;
            ch->bucket_restore = old->bucket_restore;
            ch->bucket_at = old->bucket_at;
            ch->paused_until = old->paused_until;
            ch->throttled = old->throttled;
            ch->calls = old->calls;
            ch->delivered = old->delivered;
            ch->retried = old->retried;
            ch->dead = old->dead;
            ch->next_pull_at = old->next_pull_at;
            ch->pulls = old->pulls;
            ch->pull_errors = old->pull_errors;
            ch->pulled_orders = old->pulled_orders;
            ch->token_forced_at = old->token_forced_at;
            for (int k = 0; k < s->n_channels; k++)
                if (s->channels[k] == old)
                    s->channels[k] = ch;
            channel_free(old);
        } else if (s->n_channels < SYNC_MAX_CHANNELS) {
            s->channels[s->n_channels++] = ch;
            ch = NULL;
        }
        pthread_mutex_unlock(&s->mu);
        if (!old)
            channel_free(ch);
    }
}

/* ---- Breakers ------------------------------------------------------------------- */

struct sync_breaker *sync__breaker_for(struct depot_sync *s, int64_t channel_id,
                                       const char *endpoint)
{
    for (int i = 0; i < s->n_breakers; i++)
        if (s->breakers[i].channel_id == channel_id &&
            strcmp(s->breakers[i].endpoint, endpoint) == 0)
            return &s->breakers[i];
    if (s->n_breakers == SYNC_MAX_BREAKERS)
        return NULL;
    pthread_mutex_lock(&s->mu);
    struct sync_breaker *b = &s->breakers[s->n_breakers++];
    memset(b, 0, sizeof *b);
    b->channel_id = channel_id;
    snprintf(b->endpoint, sizeof b->endpoint, "%s", endpoint);
    pthread_mutex_unlock(&s->mu);
    return b;
}

void sync__breaker_event(struct depot_sync *s, const struct sync_breaker *b)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "event", "breaker");
    cJSON_AddNumberToObject(d, "channel_id", (double)b->channel_id);
    cJSON_AddStringToObject(d, "endpoint", b->endpoint);
    cJSON_AddStringToObject(d, "state", sync_breaker_state_name(b->state));
    depot_log(b->state == SYNC_BREAKER_OPEN ? DEPOT_LOG_WARN : DEPOT_LOG_INFO, "sync",
              "channel %lld endpoint %s: circuit %s", (long long)b->channel_id, b->endpoint,
              sync_breaker_state_name(b->state));
    sync__publish(s, d);
}

/* ---- Jobs ------------------------------------------------------------------------ */

void sync__job_free(struct sync_job *job)
{
    if (!job)
        return;
    if (job->pull)
        job->ch->pulling = 0;
    for (int i = 0; i < job->n; i++)
        depot_outbox_item_clear(&job->items[i]);
    free(job->items);
    free(job->prev);
    free(job->product);
    free(job->result);
    cJSON_Delete(job->scratch);
    sync_request_reset(&job->req);
    if (job->easy)
        curl_easy_cleanup(job->easy);
    free(job->resp);
    free(job);
}

struct sync_job *sync__job_new(struct sync_channel *ch, int cap)
{
    struct sync_job *job = calloc(1, sizeof *job);
    if (!job)
        return NULL;
    job->ch = ch;
    job->retry_after = -1;
    job->token_gen = ch->token_gen;
    job->items = calloc((size_t)cap, sizeof *job->items);
    job->prev = calloc((size_t)cap, sizeof *job->prev);
    job->product = calloc((size_t)cap, sizeof *job->product);
    job->result = calloc((size_t)cap, sizeof *job->result);
    if (!job->items || !job->prev || !job->product || !job->result) {
        sync__job_free(job);
        return NULL;
    }
    return job;
}

static double jitter(struct depot_sync *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return (double)(s->rng >> 11) / 9007199254740992.0;
}

static int add_outcome(struct depot_sync *s, const struct depot_outbox_outcome *o)
{
    if (s->n_outcomes == s->cap_outcomes) {
        int cap = s->cap_outcomes ? s->cap_outcomes * 2 : 256;
        void *p = realloc(s->outcomes, (size_t)cap * sizeof *s->outcomes);
        if (!p)
            return -1;
        s->outcomes = p;
        s->cap_outcomes = cap;
    }
    s->outcomes[s->n_outcomes++] = *o;
    return 0;
}

/* Remembers a delivered level so the inbound side recognises its echo. */
static void add_push(struct depot_sync *s, const struct depot_outbox_item *it, int64_t level)
{
    long long sku_id, location_id;
    if (sscanf(it->aggregate, "inventory:%lld:%lld", &sku_id, &location_id) != 2)
        return;
    if (s->n_pushes == s->cap_pushes) {
        int cap = s->cap_pushes ? s->cap_pushes * 2 : 64;
        void *p = realloc(s->pushes, (size_t)cap * sizeof *s->pushes);
        if (!p)
            return;
        s->pushes = p;
        s->cap_pushes = cap;
    }
    s->pushes[s->n_pushes++] = (struct sync_push){it->channel_id, sku_id, location_id, level};
}

static void dead_event(struct depot_sync *s, const struct depot_outbox_item *it,
                       const char *reason)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "event", "dead");
    cJSON_AddNumberToObject(d, "outbox_id", (double)it->id);
    cJSON_AddNumberToObject(d, "channel_id", (double)it->channel_id);
    cJSON_AddStringToObject(d, "topic", it->topic);
    cJSON_AddStringToObject(d, "reason", reason);
    sync__publish(s, d);
}

/* The level an inventory.set row carries. */
static int row_level(const struct depot_outbox_item *it, int64_t *level)
{
    cJSON *p = cJSON_Parse(it->payload);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(p, "available");
    int ok = cJSON_IsNumber(a);
    if (ok)
        *level = (int64_t)a->valuedouble;
    cJSON_Delete(p);
    return ok ? 0 : -1;
}

/* Turns a finished job into one outcome per row. */
static void job_finish(struct depot_sync *s, struct sync_job *job, enum sync_step step)
{
    int64_t now = (int64_t)time(NULL);
    struct sync_channel *ch = job->ch;
    if (job->pull)
        sync_backstop_finish(s, job, step);
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < job->n; i++) {
        struct depot_outbox_item *it = &job->items[i];
        enum sync_step r = job->result[i] != SYNC_SEND ? job->result[i] : step;
        struct depot_outbox_outcome o = {.id = it->id};
        const char *why = job->error[0] ? job->error : "failed";
        switch (r) {
        case SYNC_SEND:
        case SYNC_DONE:
            o.result = DEPOT_OUTBOX_DONE;
            if (strcmp(it->topic, "inventory.set") == 0 && row_level(it, &o.level) == 0) {
                o.has_level = 1;
                add_push(s, it, o.level);
            }
            ch->delivered++;
            break;
        case SYNC_THROTTLED:
            o.result = DEPOT_OUTBOX_DEFER;
            o.next_attempt_at = now + (job->retry_after > 0 ? job->retry_after : 1);
            snprintf(o.error, sizeof o.error, "%s", why);
            break;
        case SYNC_RETRY:
            if (it->attempts + 1 >= s->cfg.max_attempts) {
                o.result = DEPOT_OUTBOX_DEAD;
                snprintf(o.error, sizeof o.error, "gave up after %d attempts: %.160s",
                         it->attempts + 1, why);
                ch->dead++;
            } else {
                int64_t ms = sync_backoff_ms(it->attempts + 1, s->cfg.retry_base_ms,
                                             s->cfg.retry_max_ms, job->retry_after, jitter(s));
                o.result = DEPOT_OUTBOX_RETRY;
                o.next_attempt_at = now + (ms + 999) / 1000;
                snprintf(o.error, sizeof o.error, "%s", why);
                ch->retried++;
            }
            break;
        case SYNC_FAIL:
            o.result = DEPOT_OUTBOX_DEAD;
            snprintf(o.error, sizeof o.error, "%s", why);
            ch->dead++;
            break;
        }
        if (add_outcome(s, &o) != 0)
            depot_log(DEPOT_LOG_ERROR, "sync", "out of memory recording outbox %lld; it "
                      "stays in flight until the next start", (long long)it->id);
        if (o.result == DEPOT_OUTBOX_DEAD) {
            depot_log(DEPOT_LOG_WARN, "sync", "outbox %lld (%s) dead-lettered: %s",
                      (long long)it->id, it->topic, o.error);
            pthread_mutex_unlock(&s->mu);
            dead_event(s, it, o.error);
            pthread_mutex_lock(&s->mu);
        }
    }
    ch->inflight--;
    pthread_mutex_unlock(&s->mu);
    sync__job_free(job);
}

static void jobs_remove(struct depot_sync *s, struct sync_job *job)
{
    for (int i = 0; i < s->n_jobs; i++) {
        if (s->jobs[i] == job) {
            s->jobs[i] = s->jobs[--s->n_jobs];
            return;
        }
    }
}

/* Starts job->req on the multi handle. 0, or -1 (the job is not running). */
static int job_send(struct depot_sync *s, struct sync_job *job)
{
    struct sync_channel *ch = job->ch;
    if (!job->easy && !(job->easy = curl_easy_init())) {
        sync_job_error(job, "out of memory");
        return -1;
    }
    if (job->token_gen != ch->token_gen && ch->ops->retoken) {
        if (ch->ops->retoken(job) != 0) {
            sync_job_error(job, "out of memory");
            return -1;
        }
        job->token_gen = ch->token_gen; /* built before a refresh: carries the new token */
    }
    sync_http_prepare(job, job->easy, s->cfg.http_timeout_ms);
    double now = sync_now();
    pthread_mutex_lock(&s->mu); /* the bucket is also read by status readers */
    sync_rate_spend(ch, job->req.cost, now);
    pthread_mutex_unlock(&s->mu);
    if (curl_multi_add_handle(s->multi, job->easy) != CURLM_OK) {
        sync_job_error(job, "cannot start the HTTP call");
        return -1;
    }
    job->started = now;
    ch->wire_cost += job->req.cost;
    pthread_mutex_lock(&s->mu);
    ch->calls++;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* Inventory rows need the level last pushed (compare quantity) and the channel's ids. */
static void job_lookup(struct depot_sync *s, struct sync_job *job)
{
    for (int i = 0; i < job->n; i++) {
        struct depot_outbox_item *it = &job->items[i];
        job->prev[i] = -1;
        if (strcmp(it->topic, "inventory.set") != 0)
            continue;
        int64_t level;
        if (depot_outbox_pushed_level(s->st, it->channel_id, it->aggregate, &level) ==
            DEPOT_OK)
            job->prev[i] = level;
        cJSON *p = cJSON_Parse(it->payload);
        const char *sku = sync_json_str(p, "sku");
        char variant[129], inv[129];
        if (!sku || depot_outbox_channel_sku(s->st, it->channel_id, sku, job->product[i],
                                             variant, inv) != DEPOT_OK)
            job->product[i][0] = '\0';
        cJSON_Delete(p);
    }
}

/* Claims the jobs' rows (inside the pass's transaction) and readies their first calls,
 * sent once that transaction commits; a job whose adapter refuses it is finished at
 * once. Frees jobs it cannot claim. */
static void jobs_start(struct depot_sync *s, struct sync_job **jobs, int n_jobs,
                       struct sync_breaker **brk)
{
    int64_t ids[DUE_BATCH_MAX];
    int n_ids = 0;
    for (int j = 0; j < n_jobs; j++)
        for (int i = 0; i < jobs[j]->n; i++)
            ids[n_ids++] = jobs[j]->items[i].id;
    if (n_ids == 0)
        return;
    if (depot_outbox_claim(s->st, ids, n_ids) != DEPOT_OK) {
        depot_log(DEPOT_LOG_WARN, "sync", "cannot claim outbox rows, will retry: %s",
                  depot_store_errmsg(s->st));
        for (int j = 0; j < n_jobs; j++) {
            if (brk[j])
                sync_breaker_release(brk[j]);
            sync__job_free(jobs[j]);
        }
        return;
    }
    for (int j = 0; j < n_jobs; j++) {
        struct sync_job *job = jobs[j];
        pthread_mutex_lock(&s->mu);
        job->ch->inflight++;
        pthread_mutex_unlock(&s->mu);
        job_lookup(s, job);
        enum sync_step step = brk[j] ? job->ch->ops->begin(job) : SYNC_FAIL;
        if (!brk[j])
            sync_job_error(job, "%s channels do not take %s events", job->ch->ops->name,
                           job->items[0].topic);
        if (step == SYNC_SEND) {
            s->ready_brk[s->n_ready] = brk[j];
            s->ready[s->n_ready++] = job;
            continue;
        }
        if (brk[j])
            sync_breaker_release(brk[j]);
        job_finish(s, job, step);
    }
}

/* Claims and starts what channel ch may take now. */
static void channel_scan(struct depot_sync *s, struct sync_channel *ch, double now)
{
    int free_slots = s->cfg.concurrency - ch->inflight;
    int afford = sync_rate_calls(ch, ch->ops->call_cost, now);
    if (free_slots > afford)
        free_slots = afford; /* no more first calls than the cost bucket holds */
    if (free_slots <= 0 || s->n_jobs + s->n_ready + free_slots > SYNC_MAX_JOBS)
        return;
    int batch = ch->ops->inventory_batch_max;
    int want = free_slots * batch;
    if (want > DUE_BATCH_MAX)
        want = DUE_BATCH_MAX;
    struct depot_outbox_item *items = calloc((size_t)want, sizeof *items);
    int n = 0;
    if (!items || depot_outbox_due(s->st, ch->row.id, (int64_t)time(NULL), want, items, &n) !=
                      DEPOT_OK) {
        free(items);
        return;
    }
    struct sync_job *jobs[SYNC_MAX_JOBS];
    struct sync_breaker *brk[SYNC_MAX_JOBS];
    int n_jobs = 0;
    struct sync_job *inv = NULL; /* the inventory batch being filled */
    for (int i = 0; i < n; i++) {
        struct depot_outbox_item *it = &items[i];
        int is_inv = strcmp(it->topic, "inventory.set") == 0;
        struct sync_job *job = NULL;
        if (is_inv && inv && inv->n < batch) {
            job = inv;
        } else {
            if (n_jobs == free_slots)
                break;
            const char *ep = ch->ops->endpoint(it->topic);
            struct sync_breaker *b = ep ? sync__breaker_for(s, ch->row.id, ep) : NULL;
            int allowed = 1;
            if (b) {
                pthread_mutex_lock(&s->mu);
                allowed = sync_breaker_allow(b, now, s->cfg.breaker_cooldown_ms / 1000.0);
                pthread_mutex_unlock(&s->mu);
            }
            if (ep && (!b || !allowed))
                continue; /* its endpoint's circuit is open: stays pending */
            if (b && b->state == SYNC_BREAKER_HALF_OPEN)
                sync__breaker_event(s, b);
            if (!(job = sync__job_new(ch, is_inv ? batch : 1))) {
                if (b)
                    sync_breaker_release(b);
                break;
            }
            brk[n_jobs] = b;
            jobs[n_jobs++] = job;
            if (is_inv)
                inv = job;
            if (b && b->state == SYNC_BREAKER_HALF_OPEN)
                free_slots = n_jobs; /* one probe at a time */
        }
        job->items[job->n++] = *it;
        it->payload = NULL; /* moved */
    }
    for (int i = 0; i < n; i++)
        depot_outbox_item_clear(&items[i]);
    free(items);
    jobs_start(s, jobs, n_jobs, brk);
}

/* Records the outcomes (and the echo records of delivered levels) gathered so far,
 * inside the pass's transaction. */
static depot_err record_outcomes(struct depot_sync *s)
{
    if (s->n_outcomes == 0)
        return DEPOT_OK;
    depot_err e = depot_outbox_finish(s->st, s->outcomes, s->n_outcomes, "system:sync");
    for (int i = 0; e == DEPOT_OK && i < s->n_pushes; i++) {
        const struct sync_push *p = &s->pushes[i];
        if (depot_inventory_push_record(s->st, p->channel_id, p->sku_id, p->location_id,
                                        p->quantity) != DEPOT_OK)
            depot_log(DEPOT_LOG_WARN, "sync", "cannot record the push to channel %lld for "
                      "echo recognition: %s", (long long)p->channel_id,
                      depot_store_errmsg(s->st));
    }
    if (e != DEPOT_OK)
        depot_log(DEPOT_LOG_WARN, "sync", "cannot record %d delivery outcome(s), will "
                  "retry: %s", s->n_outcomes, depot_store_errmsg(s->st));
    return e;
}

/* Forgets the first n outcomes and m pushes (recorded and committed). */
static void outcomes_drop(struct depot_sync *s, int n, int m)
{
    if (n > 0)
        memmove(s->outcomes, s->outcomes + n,
                (size_t)(s->n_outcomes - n) * sizeof *s->outcomes);
    s->n_outcomes -= n;
    if (m > 0)
        memmove(s->pushes, s->pushes + m, (size_t)(s->n_pushes - m) * sizeof *s->pushes);
    s->n_pushes -= m;
}

static void scan(struct depot_sync *s);

/* One pass over the store, in one transaction (group commit: one fsync however many
 * calls finished or start): record outcomes, then (with do_scan) coalesce and claim new
 * work. The claimed calls go out only after the commit; if it fails they are dropped
 * and their rows, never marked inflight, stay due. */
static void pass(struct depot_sync *s, int do_scan)
{
    if (s->n_outcomes == 0 && !do_scan && !s->pulled)
        return;
    if (depot_store_batch_begin(s->st) != DEPOT_OK) {
        depot_log(DEPOT_LOG_WARN, "sync", "database busy, will retry: %s",
                  depot_store_errmsg(s->st));
        return;
    }
    int n_out = s->n_outcomes, n_push = s->n_pushes;
    depot_err recorded = record_outcomes(s);
    if (s->pulled)
        sync_backstop_record(s);
    if (do_scan)
        scan(s);
    depot_err c = depot_store_batch_commit(s->st);
    if (c == DEPOT_OK && recorded == DEPOT_OK)
        outcomes_drop(s, n_out, n_push);
    for (int i = 0; i < s->n_ready; i++) {
        struct sync_job *job = s->ready[i];
        if (c == DEPOT_OK && job_send(s, job) == 0) {
            s->jobs[s->n_jobs++] = job;
            continue;
        }
        if (s->ready_brk[i])
            sync_breaker_release(s->ready_brk[i]);
        if (c == DEPOT_OK) {
            job_finish(s, job, SYNC_RETRY);
        } else { /* never claimed: nothing to record */
            pthread_mutex_lock(&s->mu);
            job->ch->inflight--;
            pthread_mutex_unlock(&s->mu);
            sync__job_free(job);
        }
    }
    s->n_ready = 0;
    if (c != DEPOT_OK)
        depot_log(DEPOT_LOG_WARN, "sync", "cannot commit a delivery pass, will retry: %s",
                  depot_store_errmsg(s->st));
}

/* One finished HTTP call: classify, let the adapter read it, judge the breaker. */
static void call_done(struct depot_sync *s, struct sync_job *job, CURLcode rc)
{
    long status = 0;
    curl_easy_getinfo(job->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(s->multi, job->easy);
    job->ch->wire_cost -= job->req.cost;
    if (job->ch->wire_cost < 0.5)
        job->ch->wire_cost = 0; /* no drift from rounding */
    job->upstream_fault = 0;
    enum sync_step step = sync_http_classify(job, rc, status);
    enum sync_token_verdict token = SYNC_TOKEN_FAIL;
    if (rc == CURLE_OK && status == 401 && job->ch->ops->retoken && !s->abandon &&
        !atomic_load(&s->stopping))
        token = sync__token_on_401(s, job);
    if (step == SYNC_SEND) {
        struct sync_response res = {
            .status = status, .curl = rc, .curl_error = job->curl_error,
            .body = job->resp ? job->resp : "", .len = job->resp_len,
            .retry_after = job->resp_retry_after};
        /* Under the mutex: the adapter records the platform's rate figures in the
         * channel (sync_rate_observe_shopify), which status readers read. */
        pthread_mutex_lock(&s->mu);
        step = job->pull ? job->ch->ops->on_pull(job, &res)
                         : job->ch->ops->on_response(job, &res);
        pthread_mutex_unlock(&s->mu);
    }
    const char *ep = job->req.endpoint;
    struct sync_breaker *b = ep ? sync__breaker_for(s, job->ch->row.id, ep) : NULL;
    double now = sync_now();
    if (b) {
        int changed;
        pthread_mutex_lock(&s->mu);
        if (job->upstream_fault)
            changed = sync_breaker_failure(b, now, s->cfg.breaker_threshold);
        else if (step == SYNC_THROTTLED)
            changed = (sync_breaker_release(b), 0);
        else
            changed = sync_breaker_success(b);
        pthread_mutex_unlock(&s->mu);
        if (changed)
            sync__breaker_event(s, b);
    }
    if (step == SYNC_THROTTLED) {
        pthread_mutex_lock(&s->mu);
        sync_rate_pause(job->ch, job->retry_after > 0 ? job->retry_after : 1, now);
        pthread_mutex_unlock(&s->mu);
    }
    if (token == SYNC_TOKEN_WAIT)
        return; /* re-sent or failed when the refresh ends (tokens_poll) */
    if (token == SYNC_TOKEN_RESEND)
        step = SYNC_SEND;
    if (step == SYNC_SEND && !s->abandon) {
        if (!sync_rate_allow(job->ch, job->req.cost, now)) {
            job->parked = 1; /* the next call waits for the bucket (unpark) */
            return;
        }
        if (job_send(s, job) == 0)
            return;
        step = SYNC_RETRY;
    } else if (step == SYNC_SEND) {
        step = SYNC_THROTTLED; /* shutting down between calls: due again at start */
        job->retry_after = 0;
    }
    jobs_remove(s, job);
    job_finish(s, job, step);
}

/* Forced token refreshes that ended: the calls that waited go out again (through
 * unpark, within the rate limit) with the new token, or fail with the reason. */
static void tokens_poll(struct depot_sync *s)
{
    for (int c = 0; c < s->n_channels; c++) {
        struct sync_channel *ch = s->channels[c];
        char err[SYNC_ERROR_MAX + 1];
        int done = sync__token_refresh_done(ch, err, sizeof err);
        for (int i = 0; done != 0 && i < s->n_jobs; i++) {
            struct sync_job *job = s->jobs[i];
            if (job->ch != ch || !job->awaiting_token)
                continue;
            job->awaiting_token = 0;
            job->token_retried = 1;
            if (done > 0) {
                job->parked = 1;
                continue;
            }
            sync_job_error(job, "%s: HTTP 401 and the token refresh failed: %s",
                           job->req.endpoint, err);
            jobs_remove(s, job);
            job_finish(s, job, SYNC_RETRY);
            i--;
        }
    }
}

/* Sends the next call of jobs that waited for their channel's rate limit. */
static void unpark(struct depot_sync *s)
{
    double now = sync_now();
    for (int i = 0; i < s->n_jobs; i++) {
        struct sync_job *job = s->jobs[i];
        if (!job->parked || !sync_rate_allow(job->ch, job->req.cost, now))
            continue;
        job->parked = 0;
        if (job_send(s, job) != 0) {
            jobs_remove(s, job);
            job_finish(s, job, SYNC_RETRY);
            i--;
        }
    }
}

static void harvest(struct depot_sync *s)
{
    int running, left;
    curl_multi_perform(s->multi, &running);
    CURLMsg *m;
    while ((m = curl_multi_info_read(s->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct sync_job *job = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&job);
        if (job)
            call_done(s, job, m->data.result);
    }
}

static void scan(struct depot_sync *s)
{
    double now = sync_now();
    if (now - s->channels_at >= CHANNEL_RELOAD_S / 4) {
        channels_refresh(s, now);
        s->channels_at = now;
    }
    int n = 0;
    if (depot_outbox_coalesce(s->st, &s->coalesced_upto, &n) == DEPOT_OK && n > 0) {
        pthread_mutex_lock(&s->mu);
        s->superseded += (uint64_t)n;
        pthread_mutex_unlock(&s->mu);
    }
    for (int i = 0; i < s->n_channels; i++) {
        /* a due pull takes its slot first: a long backlog does not starve it */
        sync_backstop_scan(s, s->channels[i], now);
        channel_scan(s, s->channels[i], now);
    }
}

/* SIGTERM: calls still running after the grace period are abandoned; their rows go
 * back to pending, due at once on the next start. */
static void drain(struct depot_sync *s)
{
    double deadline = sync_now() + s->cfg.shutdown_grace_ms / 1000.0;
    for (int i = 0; i < s->n_jobs; i++) {
        struct sync_job *job = s->jobs[i];
        if (!job->parked && !job->awaiting_token)
            continue; /* between calls, waiting for the rate limit or a token: due again
                       * at start */
        sync_job_error(job, "depotd stopped between calls");
        job->retry_after = 0;
        jobs_remove(s, job);
        job_finish(s, job, SYNC_THROTTLED);
        i--;
    }
    while (s->n_jobs > 0 && sync_now() < deadline) {
        harvest(s);
        pass(s, 0);
        curl_multi_poll(s->multi, NULL, 0, 50, NULL);
    }
    s->abandon = 1;
    while (s->n_jobs > 0) {
        struct sync_job *job = s->jobs[0];
        curl_multi_remove_handle(s->multi, job->easy);
        sync_job_error(job, "depotd stopped during the call");
        job->retry_after = 0;
        for (int b = 0; b < s->n_breakers; b++)
            if (s->breakers[b].channel_id == job->ch->row.id)
                sync_breaker_release(&s->breakers[b]);
        jobs_remove(s, job);
        job_finish(s, job, SYNC_THROTTLED);
    }
    pass(s, 0);
    for (int i = 0; i < s->n_channels; i++)
        sync__token_refresh_join(s->channels[i]);
}

static void *run(void *arg)
{
    struct depot_sync *s = arg;
    double next_scan = 0;
    while (!atomic_load(&s->stopping)) {
        tokens_poll(s);
        unpark(s);
        harvest(s);
        double now = sync_now();
        int do_scan = now >= next_scan || s->wake;
        if (do_scan) {
            s->wake = 0;
            next_scan = now + s->cfg.poll_ms / 1000.0;
        }
        pass(s, do_scan);
        harvest(s); /* starts what the pass added, collects answers already here */
        int before = s->n_jobs;
        int timeout = s->n_outcomes ? 0 : s->n_jobs ? 50 : s->cfg.poll_ms;
        curl_multi_poll(s->multi, NULL, 0, timeout, NULL);
        harvest(s);
        if (s->n_jobs < before || s->n_outcomes > 0)
            s->wake = 1; /* slots freed: look for more work at once */
    }
    drain(s);
    return NULL;
}

/* ---- Life cycle ----------------------------------------------------------------- */

struct depot_sync *depot_sync_start(const struct depot_sync_config *cfg, const char *db_path,
                                    const uint8_t key[DEPOT_MASTER_KEY_LEN], char *err,
                                    size_t errlen)
{
    struct depot_sync *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "sync: out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    if (s->cfg.concurrency < 1)
        s->cfg.concurrency = 1;
    if (s->cfg.concurrency > SYNC_MAX_JOBS / SYNC_MAX_CHANNELS)
        s->cfg.concurrency = SYNC_MAX_JOBS / SYNC_MAX_CHANNELS;
    memcpy(s->key, key, DEPOT_MASTER_KEY_LEN);
    s->rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ULL;
    pthread_mutex_init(&s->mu, NULL);
    char serr[512];
    int n = 0;
    if (!(s->db_path = strdup(db_path))) {
        snprintf(err, errlen, "sync: out of memory");
        goto fail;
    }
    if (depot_store_open(db_path, NULL, &s->st, serr, sizeof serr) != DEPOT_OK) {
        snprintf(err, errlen, "sync: cannot open the database: %s", serr);
        goto fail;
    }
    if (depot_outbox_recover(s->st, &n) != DEPOT_OK) {
        snprintf(err, errlen, "sync: cannot recover in-flight outbox rows: %s",
                 depot_store_errmsg(s->st));
        goto fail;
    }
    if (n > 0)
        depot_log(DEPOT_LOG_INFO, "sync", "%d outbox row(s) were in flight at the last stop; "
                  "they will be sent again with their idempotency keys", n);
    if (!(s->multi = curl_multi_init())) {
        snprintf(err, errlen, "sync: cannot create the HTTP client");
        goto fail;
    }
    curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      (long)(s->cfg.concurrency * SYNC_MAX_CHANNELS));
    if (pthread_create(&s->thread, NULL, run, s) != 0) {
        snprintf(err, errlen, "sync: cannot start the worker thread");
        goto fail;
    }
    s->running = 1;
    return s;
fail:
    if (s->multi)
        curl_multi_cleanup(s->multi);
    depot_store_close(s->st);
    explicit_bzero(s->key, sizeof s->key);
    pthread_mutex_destroy(&s->mu);
    free(s->db_path);
    free(s);
    return NULL;
}

void depot_sync_stop(struct depot_sync *s)
{
    if (!s)
        return;
    atomic_store(&s->stopping, 1);
    curl_multi_wakeup(s->multi);
    pthread_join(s->thread, NULL);
    pthread_mutex_lock(&s->mu);
    s->running = 0;
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < s->n_channels; i++)
        channel_free(s->channels[i]);
    free(s->outcomes);
    free(s->pushes);
    cJSON_Delete(s->pulled);
    curl_multi_cleanup(s->multi);
    depot_store_close(s->st);
    explicit_bzero(s->key, sizeof s->key);
    pthread_mutex_destroy(&s->mu);
    free(s->db_path);
    free(s);
}
