/* One inbox delivery, processed: mapped by channel kind and topic, applied through the
 * store's idempotent ingestion, and on failure retried with backoff or dead-lettered
 * with its error. Logs carry order_id, channel and request_id, never customer data. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "inbound_map.h"
#include "inbox_worker.h"
#include "log.h"

#define ERR_MAX 300

/* What processing did, for the log line and the WebSocket event. */
struct outcome {
    int64_t order_id;
    const char *what; /* "order", "cancelled", "returns", "inventory:<outcome>", "ignored" */
};

void depot_inbox_config_defaults(struct depot_inbox_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_attempts = 8;
    cfg->retry_base_ms = 1000;
    cfg->retry_max_ms = 300000;
    cfg->poll_ms = 100;
    cfg->echo_window = DEPOT_ECHO_WINDOW_DEFAULT;
    cfg->retention_days = 30;
}

static int topic_is(const char *topic, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (!strcmp(topic, list[i]))
            return 1;
    return 0;
}

static depot_err store_error(depot_store *st, depot_err e, char *err)
{
    snprintf(err, ERR_MAX, "%s", depot_store_errmsg(st));
    return e;
}

static depot_err apply_order(depot_store *st, const struct depot_inbox_item *it,
                             struct depot_mapped_order *m, const char *actor,
                             struct outcome *o, char *err)
{
    struct depot_ingest_result r;
    depot_err e = depot_ingest_order(st, it->id, &m->order, actor, &r);
    depot_mapped_order_free(m);
    if (e != DEPOT_OK)
        return store_error(st, e, err);
    o->order_id = r.order_id;
    o->what = r.stale ? "stale" : r.cancelled ? "cancelled" : r.created ? "created" : "updated";
    return DEPOT_OK;
}

static depot_err process_shopify(depot_store *st, const struct depot_inbox_config *cfg,
                                 const struct depot_inbox_item *it, const char *actor,
                                 struct outcome *o, char *err)
{
    static const char *const order_topics[] = {"orders/create", "orders/updated",
                                               "orders/paid", "orders/cancelled", NULL};
    static const char *const fulfillment_topics[] = {"fulfillments/create",
                                                     "fulfillments/update", NULL};
    depot_err e;
    if (topic_is(it->topic, order_topics)) {
        struct depot_mapped_order m;
        if (depot_map_shopify_order(it->body, it->body_len, it->channel_id, it->topic, &m,
                                    err, ERR_MAX) != 0)
            return DEPOT_E_INVALID;
        return apply_order(st, it, &m, actor, o, err);
    }
    if (!strcmp(it->topic, "refunds/create")) {
        struct depot_mapped_refund r;
        int n = 0;
        if (depot_map_shopify_refund(it->body, it->body_len, it->channel_id, &r, err,
                                     ERR_MAX) != 0)
            return DEPOT_E_INVALID;
        e = depot_ingest_returns(st, it->id, it->channel_id, r.order_id, r.lines, r.n, actor,
                                 &n);
        depot_mapped_refund_free(&r);
        o->what = "returns";
        return e == DEPOT_OK ? e : store_error(st, e, err);
    }
    if (!strcmp(it->topic, "inventory_levels/update")) {
        struct depot_mapped_level l;
        if (depot_map_shopify_inventory_level(it->body, it->body_len, &l, err, ERR_MAX) != 0)
            return DEPOT_E_INVALID;
        if (it->stale) { /* a late retry: the level it reports may have changed since */
            o->what = "ignored";
            e = depot_inbox_ignore(st, it->id, "stale inventory level (triggered longer "
                                               "ago than webhook_stale_after): not applied");
            return e == DEPOT_OK ? e : store_error(st, e, err);
        }
        e = depot_ingest_inventory_level(st, it->id, it->channel_id, l.item, l.location,
                                         l.available, cfg->echo_window, actor, &o->what);
        return e == DEPOT_OK ? e : store_error(st, e, err);
    }
    if (topic_is(it->topic, fulfillment_topics)) {
        /* Ours echo back; one made elsewhere for an order we still hold is an alert. */
        cJSON *doc = NULL;
        char order[MAP_ID_MAX];
        const char *status;
        if (depot_map_shopify_fulfillment(it->body, it->body_len, &doc, order, &status, err,
                                          ERR_MAX) != 0)
            return DEPOT_E_INVALID;
        o->what = "fulfillment";
        e = depot_ingest_fulfillment(st, it->id, it->channel_id, order, status,
                                     &o->order_id);
        cJSON_Delete(doc);
        return e == DEPOT_OK ? e : store_error(st, e, err);
    }
    o->what = "ignored";
    e = depot_inbox_ignore(st, it->id, "topic not handled");
    return e == DEPOT_OK ? e : store_error(st, e, err);
}

static depot_err process_woocommerce(depot_store *st, const struct depot_inbox_config *cfg,
                                     const struct depot_inbox_item *it, const char *actor,
                                     struct outcome *o, char *err)
{
    static const char *const order_topics[] = {"order.created", "order.updated",
                                               "order.restored", NULL};
    depot_err e;
    if (topic_is(it->topic, order_topics)) {
        struct depot_mapped_order m;
        if (depot_map_woocommerce_order(it->body, it->body_len, it->channel_id, &m, err,
                                        ERR_MAX) != 0)
            return DEPOT_E_INVALID;
        return apply_order(st, it, &m, actor, o, err);
    }
    if (!strcmp(it->topic, "order.deleted")) {
        char id[MAP_ID_MAX];
        if (depot_map_woocommerce_deleted(it->body, it->body_len, id, err, ERR_MAX) != 0)
            return DEPOT_E_INVALID;
        o->what = "cancelled";
        e = depot_ingest_cancel(st, it->id, it->channel_id, id, actor, &o->order_id);
        return e == DEPOT_OK ? e : store_error(st, e, err);
    }
    if (!strcmp(it->topic, "product.updated")) {
        struct depot_mapped_level l;
        if (depot_map_woocommerce_product(it->body, it->body_len, &l, err, ERR_MAX) != 0)
            return DEPOT_E_INVALID;
        if (!l.present) {
            o->what = "ignored";
            e = depot_inbox_ignore(st, it->id, "product stock not managed by WooCommerce");
        } else {
            e = depot_ingest_inventory_level(st, it->id, it->channel_id, l.item, NULL,
                                             l.available, cfg->echo_window, actor, &o->what);
        }
        return e == DEPOT_OK ? e : store_error(st, e, err);
    }
    o->what = "ignored";
    e = depot_inbox_ignore(st, it->id, "topic not handled");
    return e == DEPOT_OK ? e : store_error(st, e, err);
}

static int64_t backoff_ms(const struct depot_inbox_config *cfg, int attempts)
{
    int64_t ms = cfg->retry_base_ms;
    for (int i = 0; i < attempts && ms < cfg->retry_max_ms; i++)
        ms *= 2;
    return ms < cfg->retry_max_ms ? ms : cfg->retry_max_ms;
}

/* Store errors that may pass (a lock, the disk, memory) are retried; everything else
 * (a malformed payload, an invalid value) fails the same way every time. */
static int transient(depot_err e)
{
    return e == DEPOT_E_BUSY || e == DEPOT_E_DB || e == DEPOT_E_IO || e == DEPOT_E_NOMEM;
}

/* Events wait for the batch's commit (events[] of the current batch, or NULL). */
struct pending_events {
    cJSON *data[DEPOT_INBOX_BATCH_MAX];
    const char *type[DEPOT_INBOX_BATCH_MAX];
    size_t n;
};

static void publish(const struct depot_inbox_config *cfg, const struct depot_inbox_item *it,
                    const struct outcome *o, struct pending_events *ev)
{
    if (!cfg->publish || ev->n == DEPOT_INBOX_BATCH_MAX)
        return;
    cJSON *d = cJSON_CreateObject();
    if (!d)
        return;
    cJSON_AddNumberToObject(d, "inbox_id", (double)it->id);
    cJSON_AddNumberToObject(d, "channel_id", (double)it->channel_id);
    cJSON_AddStringToObject(d, "topic", it->topic);
    cJSON_AddStringToObject(d, "outcome", o->what ? o->what : "");
    if (o->order_id)
        cJSON_AddNumberToObject(d, "order_id", (double)o->order_id);
    ev->type[ev->n] = o->order_id ? "order" : "sync";
    ev->data[ev->n++] = d;
}

/* One due delivery: 1 processed (or rescheduled or dead-lettered), 0 none, -1 error. */
static int process_one(depot_store *st, const struct depot_inbox_config *cfg,
                       struct pending_events *ev)
{
    struct depot_inbox_item it;
    depot_err e = depot_inbox_next(st, (int64_t)time(NULL), &it);
    if (e == DEPOT_E_NOT_FOUND)
        return 0;
    if (e != DEPOT_OK) {
        depot_log(DEPOT_LOG_ERROR, "inbox", "cannot read the inbox: %s",
                  depot_store_errmsg(st));
        return -1;
    }
    struct depot_channel ch;
    struct outcome o = {0};
    char err[ERR_MAX] = "", actor[64], order_id[24] = "", inbox_id[24];
    snprintf(actor, sizeof actor, "inbox:%.56s", it.source);
    snprintf(inbox_id, sizeof inbox_id, "%lld", (long long)it.id);
    e = depot_channel_get(st, it.channel_id, &ch);
    if (e != DEPOT_OK)
        store_error(st, e, err);
    else if (!strcmp(ch.kind, "shopify"))
        e = process_shopify(st, cfg, &it, actor, &o, err);
    else
        e = process_woocommerce(st, cfg, &it, actor, &o, err);
    if (o.order_id)
        snprintf(order_id, sizeof order_id, "%lld", (long long)o.order_id);
    const struct depot_kv *kv = DEPOT_KV({"order_id", order_id}, {"channel", it.source},
                                         {"request_id", it.request_id}, {"inbox_id", inbox_id},
                                         {"topic", it.topic});
    if (e == DEPOT_OK) {
        depot_log_kv(DEPOT_LOG_INFO, "inbox", kv, "delivery %lld (%s): %s%s",
                     (long long)it.id, it.topic, o.what ? o.what : "done",
                     it.stale ? " (stale delivery)" : "");
        publish(cfg, &it, &o, ev);
        depot_inbox_item_free(&it);
        return 1;
    }
    int dead = 0;
    int64_t retry_at = (int64_t)time(NULL) + backoff_ms(cfg, it.attempts) / 1000 + 1;
    depot_err fe = depot_inbox_fail(st, it.id, err[0] ? err : depot_err_code(e),
                                    !transient(e), cfg->max_attempts, retry_at, &dead);
    depot_log_kv(dead ? DEPOT_LOG_ERROR : DEPOT_LOG_WARN, "inbox", kv,
                 "delivery %lld (%s) failed%s: %s", (long long)it.id, it.topic,
                 fe != DEPOT_OK ? " and could not be rescheduled"
                 : dead         ? ", dead-lettered"
                                : ", will retry",
                 err[0] ? err : depot_err_code(e));
    depot_inbox_item_free(&it);
    return fe == DEPOT_OK ? 1 : -1;
}

int depot_inbox_process_batch(depot_store *st, const struct depot_inbox_config *cfg,
                              int max, int yield_after)
{
    struct pending_events ev = {.n = 0};
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (max < 1 || max > DEPOT_INBOX_BATCH_MAX)
        max = DEPOT_INBOX_BATCH_MAX;
    if (depot_store_batch_begin(st) != DEPOT_OK) {
        depot_log(DEPOT_LOG_WARN, "inbox", "cannot start a batch: %s", depot_store_errmsg(st));
        return -1;
    }
    int n = 0, rc = 0;
    while (n < max && (rc = process_one(st, cfg, &ev)) == 1) {
        n++;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >=
                DEPOT_INBOX_BATCH_MS ||
            (yield_after > 0 && n >= yield_after && depot_store_lock_contended()))
            break; /* hold the write lock briefly: webhooks may be waiting to commit */
    }
    if (depot_store_batch_commit(st) != DEPOT_OK) {
        depot_log(DEPOT_LOG_ERROR, "inbox", "a batch of %d deliveries was rolled back (%s); "
                  "they stay pending and are processed again", n, depot_store_errmsg(st));
        n = -1;
    }
    for (size_t i = 0; i < ev.n; i++) {
        if (n > 0)
            cfg->publish(cfg->publish_user, ev.type[i], ev.data[i]);
        else
            cJSON_Delete(ev.data[i]);
    }
    return rc < 0 ? -1 : n;
}
