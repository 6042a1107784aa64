/* The backstop pull: now and then, per channel, the orders updated upstream since the
 * channel's cursor are read (through the same transport, rate limits and circuit
 * breakers as deliveries) and put into the webhook inbox as "backstop:<channel id>"
 * deliveries, so they reach the orders through the same idempotent ingestion as
 * webhooks. Catches whatever the webhooks missed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "channel_sync.h"
#include "inbound.h"
#include "log.h"
#include "sync_worker_int.h"

/* Rationale: a pull is a job without outbox rows. It takes one of the channel's call
 * slots, asks its endpoint's breaker and the channel's rate limit like any call, and runs
 * on the worker's curl multi handle, so it never blocks deliveries. The adapter appends
 * each order of each page (converted to the webhook payload's shape) to the job; when the
 * job ends the worker records them in its next pass transaction: each order as an inbox
 * delivery with id "<order id>@<updated ms>" (a repeat of the same version is dropped by
 * the inbox's uniqueness, a newer version is a new delivery that ingestion applies, an
 * older one is ignored by ingestion as stale), and the cursor advanced to the newest
 * update seen. Pages are read oldest update first, so a pull that stops early (an error,
 * the page cap, shutdown) still leaves a cursor the next pull can go on from. */

/* ---- Helpers for the adapters --------------------------------------------------------- */

static cJSON *scratch(struct sync_job *job)
{
    if (!job->scratch && (job->scratch = cJSON_CreateObject())) {
        cJSON_AddArrayToObject(job->scratch, "orders");
        cJSON_AddNumberToObject(job->scratch, "pages", 0);
    }
    return job->scratch;
}

int sync_pull_add(struct sync_job *job, const char *id, const char *updated_at, cJSON *body)
{
    int64_t ms = 0;
    cJSON *sc = scratch(job);
    if (!sc || !id || !id[0] || strlen(id) > 64 || !updated_at ||
        depot_time_parse_iso8601(updated_at, &ms) != 0 || ms <= 0) {
        cJSON_Delete(body);
        return -1;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        cJSON_Delete(body);
        return -1;
    }
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddNumberToObject(o, "ms", (double)ms);
    cJSON_AddItemToObject(o, "body", body);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(sc, "orders"), o);
    return 0;
}

int sync_pull_pages(const struct sync_job *job)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(job->scratch, "pages");
    return cJSON_IsNumber(p) ? p->valueint : 0;
}

void sync_pull_page_done(struct sync_job *job)
{
    cJSON *sc = scratch(job);
    if (sc)
        cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(sc, "pages"),
                             sync_pull_pages(job) + 1);
}

void sync_format_utc(int64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
}

/* ---- The worker's side ----------------------------------------------------------------- */

void sync_backstop_scan(struct depot_sync *s, struct sync_channel *ch, double now)
{
    const struct channel_ops *ops = ch->ops;
    int interval = s->cfg.backstop_interval_s;
    if (interval <= 0 || !ops->pull_begin || ch->pulling)
        return;
    if (ch->next_pull_at <= 0) /* first sight: one interval after start */
        ch->next_pull_at = now + interval;
    if (now < ch->next_pull_at || ch->inflight >= s->cfg.concurrency ||
        s->n_jobs + s->n_ready >= SYNC_MAX_JOBS || sync_rate_calls(ch, ops->pull_cost, now) < 1)
        return;
    struct sync_breaker *b = sync__breaker_for(s, ch->row.id, ops->pull_endpoint);
    if (!b)
        return;
    pthread_mutex_lock(&s->mu);
    int allowed = sync_breaker_allow(b, now, s->cfg.breaker_cooldown_ms / 1000.0);
    pthread_mutex_unlock(&s->mu);
    if (!allowed)
        return; /* the endpoint's circuit is open: try again when it is not */
    if (b->state == SYNC_BREAKER_HALF_OPEN)
        sync__breaker_event(s, b);
    ch->next_pull_at = now + interval; /* also when it cannot start: no retry storm */
    struct sync_job *job = sync__job_new(ch, 1);
    if (!job || depot_backstop_cursor(s->st, ch->row.id, &job->since_ms) != DEPOT_OK) {
        sync_breaker_release(b);
        sync__job_free(job);
        return;
    }
    job->pull = 1;
    if (ops->pull_begin(job) != SYNC_SEND) {
        depot_log(DEPOT_LOG_WARN, "sync", "channel %lld: cannot start the backstop pull: %s",
                  (long long)ch->row.id, job->error);
        sync_breaker_release(b);
        sync__job_free(job);
        return;
    }
    ch->pulling = 1;
    pthread_mutex_lock(&s->mu);
    ch->inflight++;
    ch->pulls++;
    pthread_mutex_unlock(&s->mu);
    s->ready_brk[s->n_ready] = b;
    s->ready[s->n_ready++] = job;
}

void sync_backstop_finish(struct depot_sync *s, struct sync_job *job, enum sync_step step)
{
    struct sync_channel *ch = job->ch;
    cJSON *orders = cJSON_DetachItemFromObjectCaseSensitive(job->scratch, "orders");
    int n = cJSON_GetArraySize(orders);
    if (step != SYNC_DONE) {
        pthread_mutex_lock(&s->mu);
        ch->pull_errors++;
        pthread_mutex_unlock(&s->mu);
        depot_log(DEPOT_LOG_WARN, "sync", "channel %lld: backstop pull stopped after %d "
                  "order(s): %s", (long long)ch->row.id, n, job->error[0] ? job->error : "?");
    }
    if (n == 0) {
        cJSON_Delete(orders);
        return;
    }
    cJSON *batch = cJSON_CreateObject();
    if (!batch || (!s->pulled && !(s->pulled = cJSON_CreateArray()))) {
        cJSON_Delete(batch);
        cJSON_Delete(orders);
        return; /* out of memory: the cursor stays, the next pull asks again */
    }
    cJSON_AddNumberToObject(batch, "channel_id", (double)ch->row.id);
    cJSON_AddStringToObject(batch, "kind", ch->ops->name);
    cJSON_AddItemToObject(batch, "orders", orders);
    cJSON_AddItemToArray(s->pulled, batch);
}

/* One channel's pulled orders into the inbox, and its cursor forward. */
static void record_batch(struct depot_sync *s, const cJSON *batch)
{
    int64_t channel_id = (int64_t)cJSON_GetNumberValue(
        cJSON_GetObjectItemCaseSensitive(batch, "channel_id"));
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(batch, "kind"));
    const cJSON *orders = cJSON_GetObjectItemCaseSensitive(batch, "orders");
    int n = cJSON_GetArraySize(orders), fresh = 0;
    struct depot_inbox_delivery *d = calloc((size_t)n, sizeof *d);
    char (*ids)[96] = calloc((size_t)n, sizeof *ids);
    char **bodies = calloc((size_t)n, sizeof *bodies);
    int *dup = calloc((size_t)n, sizeof *dup);
    char source[48];
    int64_t newest = 0;
    depot_err e = DEPOT_E_NOMEM;
    snprintf(source, sizeof source, "backstop:%lld", (long long)channel_id);
    if (!d || !ids || !bodies || !dup)
        goto out;
    int i = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, orders) {
        int64_t ms = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "ms"));
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "id"));
        if (!(bodies[i] = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(o, "body"))))
            goto out;
        snprintf(ids[i], sizeof ids[i], "%s@%lld", id, (long long)ms);
        d[i] = (struct depot_inbox_delivery){
            .source = source, .delivery_id = ids[i], .channel_id = channel_id,
            .topic = strcmp(kind, "shopify") == 0 ? "orders/updated" : "order.updated",
            .triggered_at = ms / 1000, .body = bodies[i], .body_len = strlen(bodies[i])};
        if (ms > newest)
            newest = ms;
        i++;
    }
    if ((e = depot_inbox_put_batch(s->st, d, (size_t)n, dup)) == DEPOT_OK)
        e = depot_backstop_cursor_advance(s->st, channel_id, newest);
    for (int k = 0; k < n; k++)
        fresh += !dup[k];
out:
    if (e != DEPOT_OK) {
        depot_log(DEPOT_LOG_WARN, "sync", "channel %lld: cannot record %d pulled order(s), "
                  "the next pull asks again: %s", (long long)channel_id, n,
                  depot_store_errmsg(s->st));
    } else {
        struct sync_channel *ch = sync__channel_by_id(s, channel_id);
        pthread_mutex_lock(&s->mu);
        if (ch)
            ch->pulled_orders += (uint64_t)fresh;
        pthread_mutex_unlock(&s->mu);
    }
    if (e == DEPOT_OK && fresh > 0) {
        depot_log(DEPOT_LOG_INFO, "sync", "channel %lld: backstop pulled %d order "
                  "update(s) the inbox did not have", (long long)channel_id, fresh);
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddStringToObject(ev, "event", "backstop");
        cJSON_AddNumberToObject(ev, "channel_id", (double)channel_id);
        cJSON_AddNumberToObject(ev, "orders", n);
        cJSON_AddNumberToObject(ev, "new", fresh);
        sync__publish(s, ev);
    }
    for (int k = 0; bodies && k < n; k++)
        cJSON_free(bodies[k]);
    free(d);
    free(ids);
    free(bodies);
    free(dup);
}

void sync_backstop_record(struct depot_sync *s)
{
    const cJSON *batch;
    cJSON_ArrayForEach(batch, s->pulled)
        record_batch(s, batch);
    cJSON_Delete(s->pulled);
    s->pulled = NULL;
}
