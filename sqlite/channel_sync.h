/* Per-channel state of the outbound side kept in the store: the backstop pull's cursor
 * (the newest updated_at seen upstream) and the webhook subscriptions a Shopify channel
 * asks for when it is connected (outbox rows, delivered and retried like any other). */
#ifndef DEPOT_CHANNEL_SYNC_H
#define DEPOT_CHANNEL_SYNC_H

#include <stdint.h>
#include "store.h"

/* The channel's backstop cursor in unix milliseconds: the newest order update pulled so
 * far, or, before the first pull, the time the channel was added (older orders are not
 * pulled). DEPOT_E_NOT_FOUND if there is no such channel. */
depot_err depot_backstop_cursor(depot_store *st, int64_t channel_id, int64_t *ms);

/* Moves the cursor forward to ms (never back, and never more than a day ahead of this
 * host's clock: an upstream stamping an update in the far future must not stop the pulls
 * for good). One transaction, or a savepoint inside a batch. */
depot_err depot_backstop_cursor_advance(depot_store *st, int64_t channel_id, int64_t ms);

#define DEPOT_WEBHOOK_URL_MAX 512

/* 1 if url may be a webhook callback: http:// or https://, 1..DEPOT_WEBHOOK_URL_MAX
 * bytes, no spaces or control characters. */
int depot_webhook_url_valid(const char *url);

/* Queues one "webhooks.register" outbox row per topic Depot consumes for the Shopify
 * channel, each asking for a subscription to callback_url (an https:// or http:// URL,
 * at most DEPOT_WEBHOOK_URL_MAX bytes), in one transaction with an audit row. Rows
 * queued before for the same channel, topic and URL are kept as they are (their
 * idempotency keys name all three). *n (may be NULL) counts the new rows. */
depot_err depot_channel_webhooks_queue(depot_store *st, int64_t channel_id,
                                       const char *callback_url, const char *actor, int *n);

/* The webhook topics a Shopify channel is subscribed to (GraphQL
 * WebhookSubscriptionTopic names), NULL-terminated. */
extern const char *const depot_shopify_webhook_topics[];

#endif
