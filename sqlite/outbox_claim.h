/* The outbox, delivery side for sales channels (target 'channel'; carrier rows belong to
 * the carrier worker): what the sync worker asks of the store. Recovering rows a
 * crash left in flight, coalescing stock pushes, finding due rows in delivery order,
 * claiming them and recording each delivery's outcome. Only the sync worker calls these
 * (one per daemon, on its own connection). */
#ifndef DEPOT_OUTBOX_CLAIM_H
#define DEPOT_OUTBOX_CLAIM_H

#include <stdint.h>
#include "store.h"

#define DEPOT_OUTBOX_TOPIC_MAX 64
#define DEPOT_OUTBOX_AGGREGATE_MAX 96
#define DEPOT_OUTBOX_KEY_MAX 200
#define DEPOT_OUTBOX_ERROR_MAX 200

/* One due row. payload is malloc'd: free it with depot_outbox_item_clear. */
struct depot_outbox_item {
    int64_t id;
    int64_t channel_id;
    int attempts; /* failed attempts so far */
    char topic[DEPOT_OUTBOX_TOPIC_MAX + 1];
    char aggregate[DEPOT_OUTBOX_AGGREGATE_MAX + 1];
    char key[DEPOT_OUTBOX_KEY_MAX + 1];
    char *payload; /* JSON object text */
};
void depot_outbox_item_clear(struct depot_outbox_item *it);

/* Start-up: channel rows a previous run left 'inflight' (it died mid-call) become
 * 'pending' and due now; their next delivery carries the same idempotency key. *n (may
 * be NULL) counts them. */
depot_err depot_outbox_recover(depot_store *st, int *n);

/* Every pending inventory.set row that has a newer pending row for the same channel and
 * aggregate (SKU at a location) becomes 'superseded': the newest carries the level to
 * push. Only rows with ids above *since are looked at as the newer ones; *since becomes
 * the newest id (pass 0 the first time). *n (may be NULL) counts the rows superseded. */
depot_err depot_outbox_coalesce(depot_store *st, int64_t *since, int *n);

/* Up to max rows for channel_id that are due at now (unix seconds) and first in their
 * (channel, aggregate) among the live rows, so events of one order go in sequence; oldest
 * first. Changes nothing. Fills items[0..*n). */
depot_err depot_outbox_due(depot_store *st, int64_t channel_id, int64_t now, int max,
                           struct depot_outbox_item *items, int *n);

/* pending -> inflight for the given rows, in one transaction (before any call is made). */
depot_err depot_outbox_claim(depot_store *st, const int64_t *ids, int n);

enum depot_outbox_result {
    DEPOT_OUTBOX_DONE,       /* delivered: 'done' */
    DEPOT_OUTBOX_RETRY,      /* failed: attempts + 1, due again at next_attempt_at */
    DEPOT_OUTBOX_DEFER,      /* not attempted or throttled: due at next_attempt_at, attempts
                              * unchanged */
    DEPOT_OUTBOX_DEAD,       /* given up: attempts + 1, 'dead' with the reason */
};

struct depot_outbox_outcome {
    int64_t id;
    enum depot_outbox_result result;
    int64_t next_attempt_at;              /* RETRY and DEFER */
    char error[DEPOT_OUTBOX_ERROR_MAX + 1]; /* "" for DONE */
    /* DONE inventory pushes: the level the channel now has for the row's aggregate. */
    int has_level;
    int64_t level;
};

/* Records outcomes of inflight rows in one transaction (group commit); a dead letter also
 * gets an audit row "outbox.dead". Rows no longer inflight are left alone. */
depot_err depot_outbox_finish(depot_store *st, const struct depot_outbox_outcome *o, int n,
                              const char *actor);

/* The level last pushed to channel_id for aggregate; DEPOT_E_NOT_FOUND if never. */
depot_err depot_outbox_pushed_level(depot_store *st, int64_t channel_id,
                                    const char *aggregate, int64_t *level);

/* The channel's ids for one of our SKUs (each "" when not mapped); DEPOT_E_NOT_FOUND if
 * the SKU is not mapped to the channel at all. */
depot_err depot_outbox_channel_sku(depot_store *st, int64_t channel_id, const char *sku,
                                   char product[129], char variant[129],
                                   char inventory_item[129]);

/* Enabled channel ids, ascending, into ids[0..*n) (at most max). */
depot_err depot_outbox_channels(depot_store *st, int64_t *ids, int max, int *n);

#endif
