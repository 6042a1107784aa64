/* Carrier accounts, store side: adding FedEx/UPS/DHL accounts with their client
 * credentials sealed in the vault, finding and listing them (never their secrets). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "carriers.h"
#include "http_url.h"
#include "store_int.h"

#define CREDENTIAL_MAX 4096

static const char *const credential_fields[] = {
    "client_id", "client_secret", "username", "password", NULL,
};

static int valid_kind(const char *k)
{
    return k && (strcmp(k, "fedex") == 0 || strcmp(k, "ups") == 0 || strcmp(k, "dhl") == 0);
}

/* "v" and 1..8 digits: a pinned API version such as UPS's "v2409". */
static int valid_api_version(const char *v)
{
    size_t n = strlen(v);
    return n >= 2 && n <= 9 && v[0] == 'v' && strspn(v + 1, "0123456789") == n - 1;
}

/* config: an object with only known members, each a string, or (shipper) an object, or
 * (timeout_ms, one carrier call) a number of milliseconds. */
static const char *bad_config(const char *json)
{
    static const char *const known[] = {"shipper", "service", "profile", "billing_number",
                                        "timeout_ms", "api_version", NULL};
    if (!json)
        return NULL;
    if (strlen(json) >= sizeof(((struct depot_carrier *)0)->config))
        return "carrier config is longer than 1023 bytes";
    cJSON *doc = cJSON_ParseWithOpts(json, NULL, 1), *m;
    const char *why = doc && cJSON_IsObject(doc) ? NULL : "carrier config must be a JSON object";
    cJSON *members = why ? NULL : doc;
    cJSON_ArrayForEach(m, members) {
        int ok = 0;
        for (int i = 0; known[i]; i++)
            ok |= strcmp(m->string, known[i]) == 0;
        if (!ok)
            why = "carrier config members are shipper, service, profile, billing_number, "
                  "timeout_ms, api_version";
        else if (strcmp(m->string, "timeout_ms") == 0
                     ? !cJSON_IsNumber(m) || m->valuedouble < DEPOT_CARRIER_TIMEOUT_MIN_MS ||
                           m->valuedouble > DEPOT_CARRIER_TIMEOUT_MAX_MS
                     : strcmp(m->string, "shipper") == 0 ? !cJSON_IsObject(m)
                                                         : !cJSON_IsString(m))
            why = "carrier config: shipper is an object, timeout_ms a number 1000..120000, "
                  "the others strings";
        else if (strcmp(m->string, "api_version") == 0 && !valid_api_version(m->valuestring))
            why = "carrier config: api_version is like v2409";
    }
    cJSON_Delete(doc);
    return why;
}

/* The values of credential_fields, in their order. */
static void credential_values(const struct depot_carrier_in *in, const char *values[4])
{
    values[0] = in->client_id;
    values[1] = in->client_secret;
    values[2] = in->username;
    values[3] = in->password;
}

static depot_err validate(depot_store *st, const struct depot_carrier_in *in, const char *name)
{
    const char *values[4];
    const char *why;
    if (!valid_kind(in->kind))
        return store__fail(st, DEPOT_E_INVALID, "carrier kind must be fedex, ups or dhl");
    if (!store__valid_code(name, DEPOT_CARRIER_NAME_MAX))
        return store__fail(st, DEPOT_E_INVALID, "carrier name must be 1..%d printable characters",
                           DEPOT_CARRIER_NAME_MAX);
    if (in->account && in->account[0] &&
        !store__valid_code(in->account, DEPOT_CARRIER_ACCOUNT_MAX))
        return store__fail(st, DEPOT_E_INVALID, "account number must be 1..%d printable "
                           "characters", DEPOT_CARRIER_ACCOUNT_MAX);
    if (in->api_base && in->api_base[0] &&
        !depot_http_url_valid(in->api_base, DEPOT_CARRIER_URL_MAX))
        return store__fail(st, DEPOT_E_INVALID, "api base must be an http(s) URL");
    if (in->token_url && in->token_url[0] &&
        !depot_http_url_valid(in->token_url, DEPOT_CARRIER_URL_MAX))
        return store__fail(st, DEPOT_E_INVALID, "token url must be an http(s) URL");
    if ((why = bad_config(in->config_json)))
        return store__fail(st, DEPOT_E_INVALID, "%s", why);
    credential_values(in, values);
    for (int f = 0; credential_fields[f]; f++) {
        const char *v = values[f];
        if (v && strlen(v) > CREDENTIAL_MAX)
            return store__fail(st, DEPOT_E_INVALID, "%s is longer than %d bytes",
                               credential_fields[f], CREDENTIAL_MAX);
    }
    if (!in->client_id || !in->client_id[0] || !in->client_secret || !in->client_secret[0])
        return store__fail(st, DEPOT_E_INVALID, "a carrier needs its client id and secret");
    if (strcmp(in->kind, "dhl") == 0 &&
        (!in->username || !in->username[0] || !in->password || !in->password[0]))
        return store__fail(st, DEPOT_E_INVALID, "dhl (Parcel DE) also needs the business "
                           "customer portal username and password");
    return DEPOT_OK;
}

/* Within a transaction: drops the cached token of a carrier whose credentials changed. */
static depot_err forget_token(depot_store *st, int64_t id)
{
    char owner[DEPOT_TOKEN_OWNER_MAX], secret[64];
    snprintf(owner, sizeof owner, "carrier:%lld", (long long)id);
    snprintf(secret, sizeof secret, "carrier/%lld/token", (long long)id);
    sqlite3_stmt *a = store__stmt(st, "DELETE FROM token_cache WHERE owner = ?1");
    sqlite3_stmt *b = store__stmt(st, "DELETE FROM secrets WHERE name = ?1");
    if (!a || !b)
        return DEPOT_E_DB;
    sqlite3_bind_text(a, 1, owner, -1, SQLITE_STATIC);
    sqlite3_bind_text(b, 1, secret, -1, SQLITE_STATIC);
    depot_err e = store__step_done(st, a);
    return e == DEPOT_OK ? store__step_done(st, b) : e;
}

depot_err depot_carrier_add(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                            const struct depot_carrier_in *in, const char *actor,
                            int64_t *id_out)
{
    const char *name = in->name && in->name[0] ? in->name : in->kind;
    const char *values[4];
    char entity[32], detail[64];
    int64_t id = 0;
    depot_err e;

    store__clear_error(st);
    if ((e = validate(st, in, name)) != DEPOT_OK)
        return e;
    if ((e = store__begin(st)) != DEPOT_OK)
        return e;
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO carriers (kind, name, account, api_base, token_url, config, created_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, coalesce(?6, '{}'), ?7)"
        " ON CONFLICT (name) DO UPDATE SET account = excluded.account,"
        " api_base = excluded.api_base, token_url = excluded.token_url,"
        " config = coalesce(?6, carriers.config)"
        " WHERE carriers.kind = excluded.kind RETURNING id");
    if (!s) {
        store__rollback(st);
        return DEPOT_E_DB;
    }
    sqlite3_bind_text(s, 1, in->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    if (in->account && in->account[0])
        sqlite3_bind_text(s, 3, in->account, -1, SQLITE_STATIC);
    if (in->api_base && in->api_base[0])
        sqlite3_bind_text(s, 4, in->api_base, -1, SQLITE_STATIC);
    if (in->token_url && in->token_url[0])
        sqlite3_bind_text(s, 5, in->token_url, -1, SQLITE_STATIC);
    if (in->config_json)
        sqlite3_bind_text(s, 6, in->config_json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, store__now());
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        id = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        e = store__fail(st, DEPOT_E_CONFLICT, "a carrier of another kind is named %s", name);
    else if (rc != SQLITE_ROW)
        e = store__dberr(st, "add carrier");
    credential_values(in, values);
    if (e == DEPOT_OK)
        e = store__credentials_write(st, key, "carrier", id, credential_fields, values);
    if (e == DEPOT_OK)
        e = forget_token(st, id);
    if (e == DEPOT_OK) {
        snprintf(entity, sizeof entity, "carrier:%lld", (long long)id);
        snprintf(detail, sizeof detail, "{\"kind\":\"%s\"}", in->kind);
        e = store__audit(st, actor, "CHANNEL_CONNECTED", entity, detail);
    }
    if (e == DEPOT_OK)
        e = store__commit(st);
    if (e != DEPOT_OK) {
        store__rollback(st);
        return e;
    }
    if (id_out)
        *id_out = id;
    return DEPOT_OK;
}

#define CARRIER_COLUMNS "id, kind, name, account, api_base, token_url, config, enabled"

/* Fills the struct depot_carrier at out from CARRIER_COLUMNS. */
static void carrier_from_row(sqlite3_stmt *s, void *out)
{
    struct depot_carrier *c = out;
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(s, 0);
    store__copy_text(c->kind, sizeof c->kind, sqlite3_column_text(s, 1));
    store__copy_text(c->name, sizeof c->name, sqlite3_column_text(s, 2));
    store__copy_text(c->account, sizeof c->account, sqlite3_column_text(s, 3));
    store__copy_text(c->api_base, sizeof c->api_base, sqlite3_column_text(s, 4));
    store__copy_text(c->token_url, sizeof c->token_url, sqlite3_column_text(s, 5));
    store__copy_text(c->config, sizeof c->config, sqlite3_column_text(s, 6));
    c->enabled = sqlite3_column_int(s, 7);
}

depot_err depot_carrier_find(depot_store *st, const char *name, struct depot_carrier *out)
{
    store__clear_error(st);
    if (!store__valid_code(name, DEPOT_CARRIER_NAME_MAX))
        return store__fail(st, DEPOT_E_NOT_FOUND, "unknown carrier: not a valid name");
    sqlite3_stmt *s = store__stmt(st, "SELECT " CARRIER_COLUMNS " FROM carriers WHERE name = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    return store__fetch_row(st, s, carrier_from_row, out, "carrier", name);
}

depot_err depot_carrier_get(depot_store *st, int64_t id, struct depot_carrier *out)
{
    store__clear_error(st);
    sqlite3_stmt *s = store__stmt(st, "SELECT " CARRIER_COLUMNS " FROM carriers WHERE id = ?1");
    if (!s)
        return DEPOT_E_DB;
    return store__fetch_id(st, s, id, carrier_from_row, out, "carrier");
}

depot_err depot_carrier_credential(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                                   int64_t carrier_id, const char *field, char **value)
{
    return store__credential_read(st, key, "carrier", carrier_id, credential_fields, field,
                                  value);
}

depot_err depot_carrier_list_json(depot_store *st, cJSON **out)
{
    int rc = SQLITE_DONE;
    *out = NULL;
    store__clear_error(st);
    sqlite3_stmt *s = store__stmt(st,
        "SELECT " CARRIER_COLUMNS ", created_at,"
        "  (SELECT t.token_hash IS NOT NULL FROM token_cache t"
        "    WHERE t.owner = 'carrier:' || carriers.id),"
        "  (SELECT t.expires_at FROM token_cache t WHERE t.owner = 'carrier:' || carriers.id)"
        "  FROM carriers ORDER BY id");
    sqlite3_stmt *sec = store__stmt(st,
        "SELECT substr(name, length(?1) + 1) FROM secrets"
        " WHERE substr(name, 1, length(?1)) = ?1 AND substr(name, length(?1) + 1) <> 'token'"
        " ORDER BY name");
    if (!s || !sec)
        return DEPOT_E_DB;
    cJSON *doc = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(doc, "items");
    while (items && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct depot_carrier c;
        carrier_from_row(s, &c);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(items, o);
        cJSON_AddNumberToObject(o, "id", (double)c.id);
        cJSON_AddStringToObject(o, "kind", c.kind);
        cJSON_AddStringToObject(o, "name", c.name);
        cJSON_AddStringToObject(o, "account", c.account);
        cJSON_AddStringToObject(o, "api_base", c.api_base);
        cJSON_AddStringToObject(o, "token_url", c.token_url);
        cJSON_AddBoolToObject(o, "enabled", c.enabled);
        cJSON_AddNumberToObject(o, "created_at", (double)sqlite3_column_int64(s, 8));
        store__credential_names(sec, "carrier", c.id, cJSON_AddArrayToObject(o, "credentials"));
        if (sqlite3_column_int(s, 9)) {
            cJSON *t = cJSON_AddObjectToObject(o, "token");
            if (sqlite3_column_type(s, 10) == SQLITE_NULL)
                cJSON_AddNullToObject(t, "expires_at");
            else
                cJSON_AddNumberToObject(t, "expires_at", (double)sqlite3_column_int64(s, 10));
        } else {
            cJSON_AddNullToObject(o, "token");
        }
    }
    return store__list_end(st, s, rc, doc, items, "list carriers", out);
}
