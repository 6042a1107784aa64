/* Sales channels, store side: adding a Shopify shop or WooCommerce store with its
 * credentials sealed in the vault, finding one by the name its webhooks carry, and the
 * SKU and location mappings that decide which stock changes a channel is told about. */
#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "store_int.h"

#define SHOP_SUFFIX ".myshopify.com"
#define EXTERNAL_ID_MAX 128

/* Channels added or re-added by this process (depot_channels_changes). */
static atomic_uint_fast64_t channels_changed;

/* The credential fields a channel may hold, in the order they are listed. */
static const char *const credential_fields[] = {
    "token", "consumer_key", "consumer_secret", "webhook_secret", NULL,
};

/* A Shopify shop domain: "<handle>.myshopify.com", the handle lower-case letters, digits
 * and hyphens, not starting with a hyphen. Lower-cases the copy into out. */
static int normalise_shop(const char *in, char out[DEPOT_CHANNEL_NAME_MAX + 1])
{
    size_t n = in ? strlen(in) : 0, suffix = strlen(SHOP_SUFFIX);
    if (n <= suffix || n > DEPOT_CHANNEL_NAME_MAX)
        return -1;
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    if (strcmp(out + n - suffix, SHOP_SUFFIX) != 0 || out[0] == '-')
        return -1;
    for (size_t i = 0; i < n - suffix; i++)
        if (!(islower((unsigned char)out[i]) || isdigit((unsigned char)out[i]) || out[i] == '-'))
            return -1;
    return 0;
}

/* An http(s) URL without credentials, query or fragment, normalised by libcurl to
 * "scheme://host[:port][/path]" with a lower-case host and no trailing slash. */
static int normalise_url(const char *in, char *out, size_t cap)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *extra = NULL;
    int rc = -1;
    if (!u || !in || strlen(in) >= cap ||
        curl_url_set(u, CURLUPART_URL, in, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
        goto out;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
        goto out;
    if (curl_url_get(u, CURLUPART_USER, &extra, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_QUERY, &extra, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_FRAGMENT, &extra, 0) == CURLUE_OK)
        goto out;
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0])
        goto out;
    for (char *p = host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
        port = NULL;
    if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
        goto out;
    size_t plen = strlen(path);
    while (plen > 0 && path[plen - 1] == '/')
        path[--plen] = '\0';
    int n = snprintf(out, cap, "%s://%s%s%s%s", scheme, host, port ? ":" : "", port ? port : "",
                     path);
    rc = n > 0 && (size_t)n < cap ? 0 : -1;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(extra);
    curl_url_cleanup(u);
    return rc;
}

/* The canonical form of a channel name for its kind; -1 if it is not valid. */
static int normalise_name(const char *kind, const char *name,
                          char out[DEPOT_CHANNEL_NAME_MAX + 1])
{
    if (strcmp(kind, "shopify") == 0)
        return normalise_shop(name, out);
    return normalise_url(name, out, DEPOT_CHANNEL_NAME_MAX + 1);
}

static int valid_kind(const char *kind)
{
    return kind && (strcmp(kind, "shopify") == 0 || strcmp(kind, "woocommerce") == 0);
}

/* A Shopify Admin API version: "YYYY-MM" or "unstable". */
static int valid_api_version(const char *v)
{
    if (strcmp(v, "unstable") == 0)
        return 1;
    if (strlen(v) != 7 || v[4] != '-')
        return 0;
    for (int i = 0; i < 7; i++)
        if (i != 4 && !isdigit((unsigned char)v[i]))
            return 0;
    return 1;
}

/* The credentials a kind requires; NULL if all are there, else the missing field. */
static const char *missing_credential(const char *kind, const struct depot_channel_credentials *c)
{
    if (!c->webhook_secret || !c->webhook_secret[0])
        return "webhook_secret";
    if (strcmp(kind, "shopify") == 0)
        return c->token && c->token[0] ? NULL : "token";
    if (!c->consumer_key || !c->consumer_key[0])
        return "consumer_key";
    return c->consumer_secret && c->consumer_secret[0] ? NULL : "consumer_secret";
}

/* Within a transaction: the channel row (inserted, or its api_base and config updated). */
static depot_err upsert_channel_row(depot_store *st, const char *kind, const char *name,
                                    const char *api_base, const char *config_json,
                                    int64_t *id)
{
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO channels (kind, name, api_base, config, created_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5)"
        " ON CONFLICT (name) DO UPDATE SET api_base = excluded.api_base,"
        " config = json_patch(channels.config, excluded.config)"
        " WHERE channels.kind = excluded.kind"
        " RETURNING id");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    if (api_base)
        sqlite3_bind_text(s, 3, api_base, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, config_json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, store__now());
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return store__fail(st, DEPOT_E_CONFLICT, "a channel of another kind is named %s", name);
    return rc == SQLITE_ROW ? DEPOT_OK : store__dberr(st, "add channel");
}

depot_err depot_channel_add(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                            const char *kind, const char *name, const char *api_base,
                            const char *api_version,
                            const struct depot_channel_credentials *cred,
                            const char *actor, int64_t *id_out)
{
    char canon[DEPOT_CHANNEL_NAME_MAX + 1], base[DEPOT_CHANNEL_URL_MAX + 1];
    char config[64], entity[32], detail[96];
    const char *values[] = {cred->token, cred->consumer_key, cred->consumer_secret,
                            cred->webhook_secret};
    const char *missing;
    int64_t id = 0;
    depot_err e;

    store__clear_error(st);
    if (!valid_kind(kind))
        return store__fail(st, DEPOT_E_INVALID, "channel kind must be shopify or woocommerce");
    if (normalise_name(kind, name, canon) != 0)
        return store__fail(st, DEPOT_E_INVALID,
                           strcmp(kind, "shopify") == 0
                               ? "shop must be a <name>.myshopify.com domain"
                               : "store must be an http(s) URL without credentials, query "
                                 "or fragment");
    if (api_base && api_base[0] && normalise_url(api_base, base, sizeof base) != 0)
        return store__fail(st, DEPOT_E_INVALID,
                           "api base must be an http(s) URL without credentials, query or "
                           "fragment");
    if (!api_version)
        api_version = DEPOT_SHOPIFY_API_VERSION;
    if (!valid_api_version(api_version))
        return store__fail(st, DEPOT_E_INVALID, "api version must look like 2025-07");
    if ((missing = missing_credential(kind, cred)))
        return store__fail(st, DEPOT_E_INVALID, "a %s channel needs its %s", kind, missing);
    if (strcmp(kind, "shopify") == 0)
        snprintf(config, sizeof config, "{\"api_version\":\"%s\"}", api_version);
    else
        snprintf(config, sizeof config, "{}");

    if ((e = store__begin(st)) != DEPOT_OK)
        return e;
    e = upsert_channel_row(st, kind, canon, api_base && api_base[0] ? base : NULL, config, &id);
    if (e == DEPOT_OK)
        e = store__credentials_write(st, key, "channel", id, credential_fields, values);
    if (e == DEPOT_OK) {
        snprintf(entity, sizeof entity, "channel:%lld", (long long)id);
        snprintf(detail, sizeof detail, "{\"kind\":\"%s\"}", kind);
        e = store__audit(st, actor, "CHANNEL_CONNECTED", entity, detail);
    }
    if (e == DEPOT_OK)
        e = store__commit(st);
    if (e != DEPOT_OK) {
        store__rollback(st);
        return e;
    }
    atomic_fetch_add(&channels_changed, 1);
    if (id_out)
        *id_out = id;
    return DEPOT_OK;
}

/* Fills the struct depot_channel at out from columns id, kind, name, api_base,
 * api_version, enabled. */
static void channel_from_row(sqlite3_stmt *s, void *out)
{
    struct depot_channel *ch = out;
    memset(ch, 0, sizeof *ch);
    ch->id = sqlite3_column_int64(s, 0);
    store__copy_text(ch->kind, sizeof ch->kind, sqlite3_column_text(s, 1));
    store__copy_text(ch->name, sizeof ch->name, sqlite3_column_text(s, 2));
    store__copy_text(ch->api_base, sizeof ch->api_base, sqlite3_column_text(s, 3));
    store__copy_text(ch->api_version, sizeof ch->api_version, sqlite3_column_text(s, 4));
    ch->enabled = sqlite3_column_int(s, 5);
}

uint64_t depot_channels_changes(void)
{
    return atomic_load(&channels_changed);
}

depot_err depot_channel_find(depot_store *st, const char *kind, const char *name,
                             struct depot_channel *out)
{
    char canon[DEPOT_CHANNEL_NAME_MAX + 1];
    store__clear_error(st);
    if (!valid_kind(kind) || normalise_name(kind, name, canon) != 0)
        return store__fail(st, DEPOT_E_NOT_FOUND, "unknown channel: not a valid %s name",
                           valid_kind(kind) ? kind : "channel");
    sqlite3_stmt *s = store__stmt(st,
        "SELECT id, kind, name, api_base, config ->> '$.api_version', enabled"
        "  FROM channels WHERE kind = ?1 AND name = ?2");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, canon, -1, SQLITE_STATIC);
    return store__fetch_row(st, s, channel_from_row, out, "channel", canon);
}

depot_err depot_channel_get(depot_store *st, int64_t id, struct depot_channel *out)
{
    store__clear_error(st);
    sqlite3_stmt *s = store__stmt(st,
        "SELECT id, kind, name, api_base, config ->> '$.api_version', enabled"
        "  FROM channels WHERE id = ?1");
    if (!s)
        return DEPOT_E_DB;
    return store__fetch_id(st, s, id, channel_from_row, out, "channel");
}

depot_err depot_channel_credential(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                                   int64_t channel_id, const char *field, char **value)
{
    return store__credential_read(st, key, "channel", channel_id, credential_fields, field,
                                  value);
}

depot_err depot_channel_list_json(depot_store *st, cJSON **out)
{
    int rc = SQLITE_DONE;
    *out = NULL;
    store__clear_error(st);
    sqlite3_stmt *s = store__stmt(st,
        "SELECT id, kind, name, api_base, config ->> '$.api_version', enabled, created_at"
        "  FROM channels ORDER BY id");
    sqlite3_stmt *sec = store__stmt(st,
        "SELECT substr(name, length(?1) + 1) FROM secrets"
        " WHERE substr(name, 1, length(?1)) = ?1 ORDER BY name");
    if (!s || !sec)
        return DEPOT_E_DB;
    cJSON *doc = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(doc, "items");
    while (items && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct depot_channel ch;
        channel_from_row(s, &ch);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(items, o);
        cJSON_AddNumberToObject(o, "id", (double)ch.id);
        cJSON_AddStringToObject(o, "kind", ch.kind);
        cJSON_AddStringToObject(o, "name", ch.name);
        cJSON_AddStringToObject(o, "api_base", ch.api_base);
        if (ch.api_version[0])
            cJSON_AddStringToObject(o, "api_version", ch.api_version);
        cJSON_AddBoolToObject(o, "enabled", ch.enabled);
        cJSON_AddNumberToObject(o, "created_at", (double)sqlite3_column_int64(s, 6));
        store__credential_names(sec, "channel", ch.id, cJSON_AddArrayToObject(o, "credentials"));
    }
    return store__list_end(st, s, rc, doc, items, "list channels", out);
}

static int valid_external_id(const char *s)
{
    return !s || store__valid_code(s, EXTERNAL_ID_MAX);
}

/* Within a transaction: tells the channel the current level of every stock row that the
 * new mapping makes visible to it (sku_id or location_id may be 0 for "all"). */
static depot_err push_current_levels(depot_store *st, int64_t channel_id, int64_t sku_id,
                                     int64_t location_id)
{
    sqlite3_stmt *s = store__stmt(st,
        "SELECT st.sku_id, st.location_id FROM stock st"
        "  JOIN channel_skus cs ON cs.sku_id = st.sku_id AND cs.channel_id = ?1"
        "  JOIN channel_locations cl ON cl.location_id = st.location_id AND cl.channel_id = ?1"
        " WHERE (?2 = 0 OR st.sku_id = ?2) AND (?3 = 0 OR st.location_id = ?3)");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, channel_id);
    sqlite3_bind_int64(s, 2, sku_id);
    sqlite3_bind_int64(s, 3, location_id);
    /* Collect first: store__stock_changed uses statements of its own. */
    int64_t (*pairs)[2] = NULL;
    size_t n = 0, cap = 0;
    depot_err e = DEPOT_OK;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            void *p = realloc(pairs, ncap * sizeof *pairs);
            if (!p) {
                e = store__fail(st, DEPOT_E_NOMEM, "out of memory");
                break;
            }
            pairs = p;
            cap = ncap;
        }
        pairs[n][0] = sqlite3_column_int64(s, 0);
        pairs[n][1] = sqlite3_column_int64(s, 1);
        n++;
    }
    sqlite3_reset(s);
    if (e == DEPOT_OK && rc != SQLITE_DONE)
        e = store__dberr(st, "read stock");
    for (size_t i = 0; e == DEPOT_OK && i < n; i++)
        e = store__stock_changed(st, pairs[i][0], pairs[i][1]);
    free(pairs);
    return e;
}

/* Within a transaction: fails with NOT_FOUND unless the channel exists. */
static depot_err require_channel(depot_store *st, int64_t channel_id)
{
    sqlite3_stmt *s = store__stmt(st, "SELECT 1 FROM channels WHERE id = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, channel_id);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return store__fail(st, DEPOT_E_NOT_FOUND, "unknown channel %lld", (long long)channel_id);
    return rc == SQLITE_ROW ? DEPOT_OK : store__dberr(st, "read channel");
}

depot_err depot_channel_map_sku(depot_store *st, int64_t channel_id, const char *sku,
                                const char *product_id, const char *variant_id,
                                const char *inventory_item_id, const char *actor)
{
    char entity[32];
    int64_t sku_id = 0;
    depot_err e;

    store__clear_error(st);
    if (!valid_external_id(product_id) || !valid_external_id(variant_id) ||
        !valid_external_id(inventory_item_id))
        return store__fail(st, DEPOT_E_INVALID,
                           "channel ids must be 1..%d printable characters", EXTERNAL_ID_MAX);
    if (!product_id && !variant_id && !inventory_item_id)
        return store__fail(st, DEPOT_E_INVALID,
                           "give at least one of the product, variant or inventory item id");
    if ((e = store__begin(st)) != DEPOT_OK)
        return e;
    if ((e = require_channel(st, channel_id)) != DEPOT_OK ||
        (e = store__sku_id(st, sku, &sku_id)) != DEPOT_OK)
        return store__end_tx(st, e);
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO channel_skus (channel_id, sku_id, external_product_id,"
        " external_variant_id, external_inventory_id) VALUES (?1, ?2, ?3, ?4, ?5)"
        " ON CONFLICT (channel_id, sku_id) DO UPDATE SET"
        " external_product_id = excluded.external_product_id,"
        " external_variant_id = excluded.external_variant_id,"
        " external_inventory_id = excluded.external_inventory_id");
    if (!s)
        return store__end_tx(st, DEPOT_E_DB);
    sqlite3_bind_int64(s, 1, channel_id);
    sqlite3_bind_int64(s, 2, sku_id);
    sqlite3_bind_text(s, 3, product_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, variant_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, inventory_item_id, -1, SQLITE_STATIC);
    if ((e = store__step_done(st, s)) == DEPOT_E_CONFLICT)
        e = store__fail(st, e, "that variant id is mapped to another SKU of this channel");
    if (e == DEPOT_OK)
        e = push_current_levels(st, channel_id, sku_id, 0);
    if (e == DEPOT_OK) {
        snprintf(entity, sizeof entity, "channel:%lld", (long long)channel_id);
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "sku", sku);
        e = store__audit_json(st, actor, "channel.map_sku", entity, d);
    }
    return store__end_tx(st, e);
}

depot_err depot_channel_map_location(depot_store *st, int64_t channel_id,
                                     const char *location, const char *external_location_id,
                                     int64_t buffer, const char *actor)
{
    char entity[32];
    int64_t location_id = 0;
    depot_err e;

    store__clear_error(st);
    if (!external_location_id || !store__valid_code(external_location_id, EXTERNAL_ID_MAX))
        return store__fail(st, DEPOT_E_INVALID,
                           "channel location id must be 1..%d printable characters",
                           EXTERNAL_ID_MAX);
    if (buffer < 0 || buffer > 1000000000)
        return store__fail(st, DEPOT_E_INVALID, "buffer must be 0..1000000000");
    if ((e = store__begin(st)) != DEPOT_OK)
        return e;
    if ((e = require_channel(st, channel_id)) != DEPOT_OK ||
        (e = store__location_id(st, location, &location_id)) != DEPOT_OK)
        return store__end_tx(st, e);
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO channel_locations (channel_id, location_id, external_location_id, buffer)"
        " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (channel_id, location_id) DO UPDATE SET"
        " external_location_id = excluded.external_location_id, buffer = excluded.buffer");
    if (!s)
        return store__end_tx(st, DEPOT_E_DB);
    sqlite3_bind_int64(s, 1, channel_id);
    sqlite3_bind_int64(s, 2, location_id);
    sqlite3_bind_text(s, 3, external_location_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, buffer);
    if ((e = store__step_done(st, s)) == DEPOT_OK)
        e = push_current_levels(st, channel_id, 0, location_id);
    if (e == DEPOT_OK) {
        snprintf(entity, sizeof entity, "channel:%lld", (long long)channel_id);
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "location", location);
        cJSON_AddNumberToObject(d, "buffer", (double)buffer);
        e = store__audit_json(st, actor, "channel.map_location", entity, d);
    }
    return store__end_tx(st, e);
}
