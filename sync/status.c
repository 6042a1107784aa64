/* What the sync worker reports: a JSON snapshot for the API and the depot_sync_* series
 * for /metrics, both read under the worker's mutex from any thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "prom_text.h"
#include "sync_worker_int.h"

static cJSON *channel_json(const struct sync_channel *ch, double now)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddNumberToObject(c, "id", (double)ch->row.id);
    cJSON_AddStringToObject(c, "kind", ch->row.kind);
    cJSON_AddStringToObject(c, "name", ch->row.name);
    cJSON_AddNumberToObject(c, "inflight", ch->inflight);
    cJSON_AddNumberToObject(c, "calls", (double)ch->calls);
    cJSON_AddNumberToObject(c, "delivered", (double)ch->delivered);
    cJSON_AddNumberToObject(c, "retried", (double)ch->retried);
    cJSON_AddNumberToObject(c, "dead", (double)ch->dead);
    cJSON_AddNumberToObject(c, "throttled", (double)ch->throttled);
    cJSON *pull = cJSON_AddObjectToObject(c, "backstop");
    cJSON_AddNumberToObject(pull, "pulls", (double)ch->pulls);
    cJSON_AddNumberToObject(pull, "errors", (double)ch->pull_errors);
    cJSON_AddNumberToObject(pull, "orders", (double)ch->pulled_orders);
    double paused = ch->paused_until > now ? (ch->paused_until - now) * 1000 : 0;
    cJSON_AddNumberToObject(c, "paused_for_ms", (double)(int64_t)paused);
    if (ch->bucket_max > 0) {
        cJSON *b = cJSON_AddObjectToObject(c, "bucket");
        cJSON_AddNumberToObject(b, "maximum", ch->bucket_max);
        cJSON_AddNumberToObject(b, "available", ch->bucket_available);
        cJSON_AddNumberToObject(b, "restore_rate", ch->bucket_restore);
    } else {
        cJSON_AddNullToObject(c, "bucket");
    }
    return c;
}

static cJSON *breaker_json(const struct sync_breaker *b)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "channel_id", (double)b->channel_id);
    cJSON_AddStringToObject(o, "endpoint", b->endpoint);
    cJSON_AddStringToObject(o, "state", sync_breaker_state_name(b->state));
    cJSON_AddNumberToObject(o, "consecutive_failures", b->failures);
    cJSON_AddNumberToObject(o, "opens", (double)b->opens);
    cJSON_AddNumberToObject(o, "successes", (double)b->successes);
    cJSON_AddNumberToObject(o, "errors", (double)b->errors);
    return o;
}

cJSON *depot_sync_status_json(struct depot_sync *s)
{
    cJSON *doc = cJSON_CreateObject();
    if (!doc)
        return NULL;
    double now = sync_now();
    pthread_mutex_lock(&s->mu);
    uint64_t delivered = 0, retried = 0, dead = 0, throttled = 0;
    cJSON *chs = cJSON_CreateArray(), *brs = cJSON_CreateArray();
    for (int i = 0; i < s->n_channels; i++) {
        const struct sync_channel *ch = s->channels[i];
        delivered += ch->delivered;
        retried += ch->retried;
        dead += ch->dead;
        throttled += ch->throttled;
        cJSON_AddItemToArray(chs, channel_json(ch, now));
    }
    for (int i = 0; i < s->n_breakers; i++)
        cJSON_AddItemToArray(brs, breaker_json(&s->breakers[i]));
    cJSON_AddBoolToObject(doc, "running", s->running);
    cJSON_AddNumberToObject(doc, "delivered", (double)delivered);
    cJSON_AddNumberToObject(doc, "retried", (double)retried);
    cJSON_AddNumberToObject(doc, "dead", (double)dead);
    cJSON_AddNumberToObject(doc, "superseded", (double)s->superseded);
    cJSON_AddNumberToObject(doc, "throttled", (double)throttled);
    pthread_mutex_unlock(&s->mu);
    cJSON_AddItemToObject(doc, "channels", chs);
    cJSON_AddItemToObject(doc, "breakers", brs);
    return doc;
}

/* One counter family with a value per channel. */
static void per_channel(struct prom_text *t, struct depot_sync *s, const char *name,
                        const char *help, size_t offset)
{
    prom_family(t, name, "counter", help);
    for (int i = 0; i < s->n_channels; i++) {
        const struct sync_channel *ch = s->channels[i];
        const uint64_t *value = (const uint64_t *)((const char *)ch + offset);
        prom_printf(t, "%s{channel=\"%lld\",kind=\"%s\"} %llu\n", name, (long long)ch->row.id,
                    ch->row.kind, (unsigned long long)*value);
    }
}

char *depot_sync_metrics_text(struct depot_sync *s)
{
    struct prom_text t = {0};
    pthread_mutex_lock(&s->mu);
    prom_family(&t, "depot_sync_running", "gauge", "1 while the outbound sync worker runs.");
    prom_printf(&t, "depot_sync_running %d\n", s->running);
    per_channel(&t, s, "depot_sync_calls_total", "HTTP calls made to a sales channel.",
                offsetof(struct sync_channel, calls));
    per_channel(&t, s, "depot_sync_delivered_total", "Outbox events delivered to a channel.",
                offsetof(struct sync_channel, delivered));
    per_channel(&t, s, "depot_sync_retries_total",
                "Failed deliveries scheduled for another attempt.",
                offsetof(struct sync_channel, retried));
    per_channel(&t, s, "depot_sync_dead_letters_total",
                "Outbox events given up on (dead letters).", offsetof(struct sync_channel, dead));
    per_channel(&t, s, "depot_sync_throttled_total",
                "Times a channel asked us to slow down (429, 503, THROTTLED).",
                offsetof(struct sync_channel, throttled));
    per_channel(&t, s, "depot_sync_backstop_pulls_total",
                "Backstop pulls of recently updated orders started.",
                offsetof(struct sync_channel, pulls));
    per_channel(&t, s, "depot_sync_backstop_errors_total",
                "Backstop pulls that ended early (the next one goes on from the cursor).",
                offsetof(struct sync_channel, pull_errors));
    per_channel(&t, s, "depot_sync_backstop_orders_total",
                "Order updates the backstop found that the inbox did not have.",
                offsetof(struct sync_channel, pulled_orders));
    prom_family(&t, "depot_sync_inflight", "gauge", "Calls in flight per channel.");
    for (int i = 0; i < s->n_channels; i++)
        prom_printf(&t, "depot_sync_inflight{channel=\"%lld\",kind=\"%s\"} %d\n",
                    (long long)s->channels[i]->row.id, s->channels[i]->row.kind,
            s->channels[i]->inflight);
    prom_family(&t, "depot_sync_superseded_total", "counter",
                "Pending stock pushes coalesced into a newer one (calls saved).");
    prom_printf(&t, "depot_sync_superseded_total %llu\n", (unsigned long long)s->superseded);
    prom_family(&t, "depot_sync_circuit_state", "gauge",
                "Circuit breaker per upstream endpoint: 1 for its current state.");
    static const enum sync_breaker_state states[] = {SYNC_BREAKER_CLOSED, SYNC_BREAKER_OPEN,
                                                     SYNC_BREAKER_HALF_OPEN};
    for (int i = 0; i < s->n_breakers; i++)
        for (int k = 0; k < 3; k++)
            prom_printf(&t,
                        "depot_sync_circuit_state{channel=\"%lld\",endpoint=\"%s\","
                        "state=\"%s\"} %d\n",
                        (long long)s->breakers[i].channel_id, s->breakers[i].endpoint,
                        sync_breaker_state_name(states[k]), s->breakers[i].state == states[k]);
    prom_family(&t, "depot_sync_circuit_opens_total", "counter",
                "Times an endpoint's circuit breaker opened.");
    for (int i = 0; i < s->n_breakers; i++)
        prom_printf(&t, "depot_sync_circuit_opens_total{channel=\"%lld\",endpoint=\"%s\"} %llu\n",
                    (long long)s->breakers[i].channel_id, s->breakers[i].endpoint,
            (unsigned long long)s->breakers[i].opens);
    pthread_mutex_unlock(&s->mu);
    return prom_finish(&t, NULL);
}
