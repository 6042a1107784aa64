/* Per-channel outbound state in the store: the backstop pull's cursor, kept in the
 * channel's config document, and the Shopify webhook subscriptions queued as outbox rows
 * when a channel is connected (see channel_sync.h). */
#include <stdio.h>
#include <string.h>
#include "channel_sync.h"
#include "store_int.h"

/* Rationale: the cursor is one number per channel, so it lives in channels.config
 * ("backstop_cursor_ms") rather than in a table of its own; `channel add` merges its
 * config with json_patch, which keeps it. It only moves forward: a pull that ends early
 * or a commit that fails leaves it where the orders recorded so far put it, and the next
 * pull asks again from there (the inbox drops the repeats). */

const char *const depot_shopify_webhook_topics[] = {
    "ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_PAID", "ORDERS_CANCELLED", "REFUNDS_CREATE",
    "INVENTORY_LEVELS_UPDATE", "FULFILLMENTS_CREATE", "FULFILLMENTS_UPDATE", NULL,
};

depot_err depot_backstop_cursor(depot_store *st, int64_t channel_id, int64_t *ms)
{
    store__clear_error(st);
    sqlite3_stmt *s = store__stmt(st,
        "SELECT coalesce(config ->> '$.backstop_cursor_ms', created_at * 1000)"
        "  FROM channels WHERE id = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, channel_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *ms = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return store__fail(st, DEPOT_E_NOT_FOUND, "unknown channel %lld", (long long)channel_id);
    if (rc != SQLITE_ROW)
        return store__dberr(st, "read the backstop cursor");
    return DEPOT_OK;
}

#define CURSOR_AHEAD_MAX_MS (24LL * 3600 * 1000) /* clock skew we tolerate upstream */

depot_err depot_backstop_cursor_advance(depot_store *st, int64_t channel_id, int64_t ms)
{
    int64_t latest = store__now() * 1000 + CURSOR_AHEAD_MAX_MS;
    if (ms > latest)
        ms = latest;
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE channels SET config = json_set(config, '$.backstop_cursor_ms', ?2)"
        " WHERE id = ?1 AND coalesce(config ->> '$.backstop_cursor_ms', 0) < ?2");
    if (!s) {
        store__rollback(st);
        return DEPOT_E_DB;
    }
    sqlite3_bind_int64(s, 1, channel_id);
    sqlite3_bind_int64(s, 2, ms);
    if ((e = store__step_done(st, s)) != DEPOT_OK) {
        store__rollback(st);
        return e;
    }
    return store__commit(st);
}

int depot_webhook_url_valid(const char *url)
{
    size_t n = url ? strlen(url) : 0;
    if (n == 0 || n > DEPOT_WEBHOOK_URL_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
            return 0;
    return (strncmp(url, "https://", 8) == 0 && n > 8) ||
           (strncmp(url, "http://", 7) == 0 && n > 7);
}

static depot_err queue_topic(depot_store *st, int64_t channel_id, const char *topic,
                             const char *url, const char *url_hash, int *added)
{
    char key[160], payload[DEPOT_WEBHOOK_URL_MAX * 2 + 128];
    snprintf(key, sizeof key, "webhooks:%lld:%s:%.16s", (long long)channel_id, topic,
             url_hash);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "topic", topic);
    cJSON_AddStringToObject(p, "callback_url", url);
    if (!p || !cJSON_PrintPreallocated(p, payload, (int)sizeof payload, 0)) {
        cJSON_Delete(p);
        return store__fail(st, DEPOT_E_NOMEM, "out of memory");
    }
    cJSON_Delete(p);
    int64_t now = store__now();
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO outbox (idempotency_key, target, target_id, topic, aggregate, payload,"
        " next_attempt_at, created_at, updated_at)"
        " VALUES (?1, 'channel', ?2, 'webhooks.register', 'webhooks', ?3, ?4, ?4, ?4)"
        " ON CONFLICT (idempotency_key) DO NOTHING");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, channel_id);
    sqlite3_bind_text(s, 3, payload, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, now);
    depot_err e = store__step_done(st, s);
    if (e == DEPOT_OK)
        *added += sqlite3_changes(st->db);
    return e;
}

depot_err depot_channel_webhooks_queue(depot_store *st, int64_t channel_id,
                                       const char *callback_url, const char *actor, int *n)
{
    struct depot_channel ch;
    int added = 0;
    if (n)
        *n = 0;
    if (!depot_webhook_url_valid(callback_url))
        return store__fail(st, DEPOT_E_INVALID, "the webhook URL must be an http:// or "
                           "https:// URL of at most %d characters", DEPOT_WEBHOOK_URL_MAX);
    depot_err e = depot_channel_get(st, channel_id, &ch);
    if (e != DEPOT_OK)
        return e;
    if (strcmp(ch.kind, "shopify") != 0)
        return store__fail(st, DEPOT_E_INVALID, "only Shopify channels subscribe to "
                           "webhooks through the API");
    char url_hash[65], entity[32], detail[DEPOT_WEBHOOK_URL_MAX * 2 + 64];
    store__sha256_hex(callback_url, url_hash);
    if ((e = store__begin(st)) != DEPOT_OK)
        return e;
    for (int i = 0; e == DEPOT_OK && depot_shopify_webhook_topics[i]; i++)
        e = queue_topic(st, channel_id, depot_shopify_webhook_topics[i], callback_url,
                        url_hash, &added);
    if (e == DEPOT_OK && added > 0) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "callback_url", callback_url);
        cJSON_AddNumberToObject(d, "topics", added);
        snprintf(entity, sizeof entity, "channel:%lld", (long long)channel_id);
        e = d && cJSON_PrintPreallocated(d, detail, (int)sizeof detail, 0)
                ? store__audit(st, actor, "channel.webhooks_queued", entity, detail)
                : store__fail(st, DEPOT_E_NOMEM, "out of memory");
        cJSON_Delete(d);
    }
    if (e != DEPOT_OK) {
        store__rollback(st);
        return e;
    }
    if ((e = store__commit(st)) != DEPOT_OK)
        return e;
    if (n)
        *n = added;
    return DEPOT_OK;
}
