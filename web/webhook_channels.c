/* The webhook endpoints' view of the channels, on the loop thread: which channel a
 * delivery's shop domain or store URL names, and that channel's unsealed webhook secret,
 * remembered for a moment so that a stream of deliveries does not run two SQLite reads
 * and an AES-GCM unsealing for every request.
 *
 * Rationale: the answer may be at most WEBHOOK_CHANNEL_TTL_MS old, and none survives a
 * channel change made by this process (depot_channels_changes moves: the Shopify and
 * WooCommerce OAuth installs). A change made by another process (depotctl re-adding a
 * channel with new secrets) reaches the endpoints within the TTL. Unknown names are not
 * remembered: they are looked up each time, behind the rate limiter. Every lookup first
 * drops the entries that went stale, wiping their secrets. */
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "monotonic.h"
#include "webhooks.h"

#define WEBHOOK_CHANNEL_TTL_MS 1000
#define ENTRIES 16

struct entry {
    char kind[16];
    char given[WEB_WEBHOOK_HEADER_MAX]; /* the name as the delivery gave it */
    struct depot_channel ch;
    char *secret;                       /* unsealed on first use; NULL until then */
    int64_t fetched_ms;                 /* 0 = free */
    uint64_t changes;                   /* depot_channels_changes() when fetched */
};

struct web_webhook_channels {
    struct entry e[ENTRIES];
};

static void drop(struct entry *e)
{
    web_webhook_secret_free(e->secret);
    memset(e, 0, sizeof *e);
}

static int fresh(const struct entry *e, int64_t now, uint64_t changes)
{
    return e->fetched_ms && now - e->fetched_ms < WEBHOOK_CHANNEL_TTL_MS &&
           e->changes == changes;
}

struct web_webhook_channels *web_webhook_channels_new(void)
{
    return calloc(1, sizeof(struct web_webhook_channels));
}

void web_webhook_channels_free(struct web_webhook_channels *c)
{
    if (!c)
        return;
    for (int i = 0; i < ENTRIES; i++)
        drop(&c->e[i]);
    free(c);
}

depot_err web_webhook_channel(struct web_server *srv, const char *kind, const char *given,
                              struct depot_channel *out)
{
    struct web_webhook_channels *c = srv->webhook_channels;
    int64_t now = depot_monotonic_ms();
    uint64_t changes = depot_channels_changes();
    struct entry *slot = &c->e[0];
    for (int i = 0; i < ENTRIES; i++) /* stale entries go first: their secrets wiped */
        if (c->e[i].fetched_ms && !fresh(&c->e[i], now, changes))
            drop(&c->e[i]);
    for (int i = 0; i < ENTRIES; i++) {
        struct entry *e = &c->e[i];
        if (e->fetched_ms && strcmp(e->kind, kind) == 0 && strcmp(e->given, given) == 0) {
            *out = e->ch;
            return DEPOT_OK;
        }
        if (e->fetched_ms < slot->fetched_ms)
            slot = e; /* a free entry, or else the oldest */
    }
    depot_err err = depot_channel_find(srv->st, kind, given, out);
    if (err != DEPOT_OK || strlen(kind) >= sizeof slot->kind ||
        strlen(given) >= sizeof slot->given)
        return err;
    drop(slot);
    strcpy(slot->kind, kind);
    strcpy(slot->given, given);
    slot->ch = *out;
    slot->fetched_ms = now;
    slot->changes = changes;
    return DEPOT_OK;
}

/* Unseals the channel's webhook secret from the vault (malloc'd), or NULL after logging
 * why and answering 500. */
static char *unseal(struct web_request *req, struct web_response *res, int64_t channel_id)
{
    char *secret = NULL;
    depot_err e = depot_channel_credential(req->srv->st, req->srv->cfg.master_key,
                                           channel_id, "webhook_secret", &secret);
    if (e != DEPOT_OK) {
        depot_log_kv(DEPOT_LOG_ERROR, "webhook",
                     DEPOT_KV({"request_id", req->request_id}),
                     "cannot read the webhook secret of channel %lld: %s",
                     (long long)channel_id, depot_store_errmsg(req->srv->st));
        web_respond_error(res, 500, "secret_unavailable",
                          "the channel's webhook secret cannot be read");
        return NULL;
    }
    return secret;
}

char *web_webhook_secret(struct web_request *req, struct web_response *res,
                         int64_t channel_id)
{
    struct web_webhook_channels *c = req->srv->webhook_channels;
    int64_t now = depot_monotonic_ms();
    uint64_t changes = depot_channels_changes();
    struct entry *e = NULL;
    for (int i = 0; i < ENTRIES && !e; i++)
        if (fresh(&c->e[i], now, changes) && c->e[i].ch.id == channel_id)
            e = &c->e[i];
    if (!e)
        return unseal(req, res, channel_id);
    if (!e->secret && !(e->secret = unseal(req, res, channel_id)))
        return NULL;
    char *copy = strdup(e->secret);
    if (!copy)
        web_respond_error(res, 500, "out_of_memory", "out of memory");
    return copy;
}

void web_webhook_secret_free(char *secret)
{
    if (secret) {
        explicit_bzero(secret, strlen(secret));
        free(secret);
    }
}
