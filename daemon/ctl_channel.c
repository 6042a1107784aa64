/* depotctl's sales-channel commands: add a Shopify shop or WooCommerce store with its
 * credentials (sealed with the master key), list channels (never their secrets), and map
 * SKUs and locations to the channel's own ids. */
#include <limits.h>
#include <string.h>
#include "channel_sync.h"
#include "ctl.h"

/* The credential options in the order their "-" values are read from stdin. */
enum { CRED_TOKEN, CRED_KEY, CRED_SECRET, CRED_WEBHOOK, CRED_COUNT };
#define CRED_ORDER "--token, --key, --secret, --webhook-secret"

int ctl__channel_add(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"shop", required_argument, NULL, 'S'},
        {"store", required_argument, NULL, 'W'},
        {"token", required_argument, NULL, 't'},
        {"key", required_argument, NULL, 'k'},
        {"secret", required_argument, NULL, 's'},
        {"webhook-secret", required_argument, NULL, 'w'},
        {"api-base", required_argument, NULL, 'b'},
        {"api-version", required_argument, NULL, 'v'},
        {"webhook-url", required_argument, NULL, 'u'},
        {0},
    };
    const char *shop = NULL, *store = NULL, *api_base = NULL, *api_version = NULL;
    const char *webhook_url = NULL;
    int queued = 0;
    const char *cred[CRED_COUNT] = {0};
    char (*buf)[CTL_SECRET_LINE_MAX] = NULL;
    uint8_t key[DEPOT_MASTER_KEY_LEN];
    int64_t id = 0;
    depot_store *st = NULL;
    int o, rc;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0) {
        switch (o) {
        case 'S': shop = optarg; break;
        case 'W': store = optarg; break;
        case 't': cred[CRED_TOKEN] = optarg; break;
        case 'k': cred[CRED_KEY] = optarg; break;
        case 's': cred[CRED_SECRET] = optarg; break;
        case 'w': cred[CRED_WEBHOOK] = optarg; break;
        case 'b': api_base = optarg; break;
        case 'v': api_version = optarg; break;
        case 'u': webhook_url = optarg; break;
        }
    }
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, 1) != 0)
        return CTL_EXIT_USAGE;
    const char *kind = argv[optind];
    int shopify = strcmp(kind, "shopify") == 0;
    if (!shopify && strcmp(kind, "woocommerce") != 0)
        return ctl__usage_error(c, "channel kind must be shopify or woocommerce, not '%s'", kind);
    if (shopify && (!shop || store || cred[CRED_KEY] || cred[CRED_SECRET]))
        return ctl__usage_error(c, "shopify takes --shop DOMAIN --token TOKEN "
                                   "--webhook-secret SECRET");
    if (!shopify && (!store || shop || cred[CRED_TOKEN] || api_version || webhook_url))
        return ctl__usage_error(c, "woocommerce takes --store URL --key CK --secret CS "
                                   "--webhook-secret SECRET");
    if (webhook_url && !depot_webhook_url_valid(webhook_url))
        return ctl__usage_error(c, "the webhook URL must be an http:// or https:// URL of at "
                                   "most %d characters", DEPOT_WEBHOOK_URL_MAX);
    if ((rc = ctl__read_secrets(c, cred, CRED_COUNT, CRED_ORDER, &buf)) != CTL_EXIT_OK)
        goto out;
    if ((rc = ctl__master_key(c, key)) != CTL_EXIT_OK ||
        (rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        goto out;
    struct depot_channel_credentials creds = {
        .token = cred[CRED_TOKEN],
        .consumer_key = cred[CRED_KEY],
        .consumer_secret = cred[CRED_SECRET],
        .webhook_secret = cred[CRED_WEBHOOK],
    };
    depot_err e = depot_channel_add(st, key, kind, shopify ? shop : store, api_base,
                                    api_version, &creds, c->actor, &id);
    if (e != DEPOT_OK) {
        rc = ctl__store_fail(c, st, e);
        goto out;
    }
    /* Subscribing the shop's webhooks is an outbox event: the daemon delivers it, retried
     * until Shopify answers, and a re-run with the same URL queues nothing new. */
    if (webhook_url &&
        (e = depot_channel_webhooks_queue(st, id, webhook_url, c->actor, &queued)) != DEPOT_OK) {
        rc = ctl__store_fail(c, st, e);
        goto out;
    }
    struct depot_channel ch;
    if ((e = depot_channel_get(st, id, &ch)) != DEPOT_OK) {
        rc = ctl__store_fail(c, st, e);
        goto out;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "id", (double)id);
    cJSON_AddStringToObject(doc, "kind", ch.kind);
    cJSON_AddStringToObject(doc, "name", ch.name);
    cJSON_AddStringToObject(doc, "api_base", ch.api_base);
    if (webhook_url)
        cJSON_AddNumberToObject(doc, "webhooks_queued", queued);
    rc = ctl__done(c, doc, "channel %lld: %s %s%s%s%s", (long long)id, ch.kind, ch.name,
                   ch.api_base[0] ? " via " : "", ch.api_base,
                   queued ? " (webhook subscriptions queued)" : "");
out:
    depot_store_close(st);
    explicit_bzero(key, sizeof key);
    ctl__wipe_secrets(buf, CRED_COUNT);
    return rc;
}

int ctl__channel_list(struct ctl *c, int argc, char **argv)
{
    cJSON *doc, *ch;
    int rc = ctl__account_list(c, argc, argv, depot_channel_list_json, &doc);
    if (rc != CTL_GO)
        return rc;
    printf("%-4s %-12s %-40s %s\n", "ID", "KIND", "NAME", "API BASE");
    cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(doc, "items")) {
        const char *base = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ch, "api_base"));
        printf("%-4.0f %-12s %-40s %s\n",
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ch, "id")),
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ch, "kind")),
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ch, "name")),
               base && base[0] ? base : "(platform)");
    }
    cJSON_Delete(doc);
    return CTL_EXIT_OK;
}

/* A channel given as its id or its name (shop domain or store URL). */
static int resolve_channel(struct ctl *c, depot_store *st, const char *arg, int64_t *id)
{
    struct depot_channel ch;
    depot_err e;
    if (ctl__parse_int(arg, 1, INT64_MAX, id) == 0)
        e = depot_channel_get(st, *id, &ch);
    else if ((e = depot_channel_find(st, "shopify", arg, &ch)) == DEPOT_E_NOT_FOUND)
        e = depot_channel_find(st, "woocommerce", arg, &ch);
    if (e == DEPOT_E_NOT_FOUND)
        return ctl__fail(c, e, "unknown channel '%s'", arg);
    if (e != DEPOT_OK)
        return ctl__store_fail(c, st, e);
    *id = ch.id;
    return CTL_EXIT_OK;
}

int ctl__channel_map_sku(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"product", required_argument, NULL, 'p'},
        {"variant", required_argument, NULL, 'v'},
        {"inventory-item", required_argument, NULL, 'i'},
        {0},
    };
    const char *product = NULL, *variant = NULL, *item = NULL;
    int64_t channel_id = 0;
    depot_store *st;
    int o, rc;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0) {
        switch (o) {
        case 'p': product = optarg; break;
        case 'v': variant = optarg; break;
        case 'i': item = optarg; break;
        }
    }
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, 2) != 0)
        return CTL_EXIT_USAGE;
    const char *sku = argv[optind + 1];
    if ((rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        return rc;
    if ((rc = resolve_channel(c, st, argv[optind], &channel_id)) == CTL_EXIT_OK) {
        depot_err e = depot_channel_map_sku(st, channel_id, sku, product, variant, item,
                                            c->actor);
        if (e != DEPOT_OK) {
            rc = ctl__store_fail(c, st, e);
        } else {
            cJSON *doc = cJSON_CreateObject();
            cJSON_AddNumberToObject(doc, "channel_id", (double)channel_id);
            cJSON_AddStringToObject(doc, "sku", sku);
            rc = ctl__done(c, doc, "SKU %s mapped on channel %lld", sku, (long long)channel_id);
        }
    }
    depot_store_close(st);
    return rc;
}

int ctl__channel_map_location(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"external-id", required_argument, NULL, 'e'},
        {"buffer", required_argument, NULL, 'b'},
        {0},
    };
    const char *external = NULL;
    int64_t channel_id = 0, buffer = 0;
    depot_store *st;
    int o, rc;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0) {
        switch (o) {
        case 'e': external = optarg; break;
        case 'b':
            if (ctl__parse_int(optarg, 0, 1000000000, &buffer) != 0)
                return ctl__usage_error(c, "--buffer must be 0..1000000000");
            break;
        }
    }
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, 2) != 0)
        return CTL_EXIT_USAGE;
    if (!external)
        return ctl__usage_error(c, "--external-id is required");
    const char *location = argv[optind + 1];
    if ((rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        return rc;
    if ((rc = resolve_channel(c, st, argv[optind], &channel_id)) == CTL_EXIT_OK) {
        depot_err e = depot_channel_map_location(st, channel_id, location, external, buffer,
                                                 c->actor);
        if (e != DEPOT_OK) {
            rc = ctl__store_fail(c, st, e);
        } else {
            cJSON *doc = cJSON_CreateObject();
            cJSON_AddNumberToObject(doc, "channel_id", (double)channel_id);
            cJSON_AddStringToObject(doc, "location", location);
            cJSON_AddStringToObject(doc, "external_id", external);
            cJSON_AddNumberToObject(doc, "buffer", (double)buffer);
            rc = ctl__done(c, doc, "location %s is %s on channel %lld (buffer %lld)", location,
                           external, (long long)channel_id, (long long)buffer);
        }
    }
    depot_store_close(st);
    return rc;
}
