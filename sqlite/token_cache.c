/* The token cache, store side: access tokens of carriers and channels sealed in the
 * vault, their expiry, and the lease that lets exactly one caller (thread or process)
 * refresh an owner's token while the others wait for its result.
 *
 * Why a lease row rather than a mutex: depotd's worker threads, the web server and every
 * depotctl process share only the database file. Taking the lease is one BEGIN
 * IMMEDIATE transaction that re-checks the cached token first, so of any number of
 * racing callers exactly one sees "expired and no live lease" and refreshes; the rest
 * poll the row (plain reads, no write lock) until the token or the failure appears. A
 * crashed holder's lease simply runs out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "carriers.h"
#include "store_int.h"


/* "carrier:12" -> "carrier/12/<what>"; -1 unless owner is "carrier:<n>" or "channel:<n>". */
static int secret_name(const char *owner, const char *what, char *out, size_t cap)
{
    const char *colon = owner ? strchr(owner, ':') : NULL;
    if (!colon || strlen(owner) >= DEPOT_TOKEN_OWNER_MAX)
        return -1;
    size_t kind = (size_t)(colon - owner);
    if (!((kind == 7 && strncmp(owner, "carrier", 7) == 0) ||
          (kind == 7 && strncmp(owner, "channel", 7) == 0)))
        return -1;
    const char *id = colon + 1;
    if (*id < '1' || *id > '9' || strspn(id, "0123456789") != strlen(id))
        return -1;
    int n = snprintf(out, cap, "%.*s/%s/%s", (int)kind, owner, id, what);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

static int valid_owner(const char *owner)
{
    char name[64];
    return secret_name(owner, "token", name, sizeof name) == 0;
}

static depot_err bad_owner(depot_store *st)
{
    return store__fail(st, DEPOT_E_INVALID, "token owner must be carrier:<id> or channel:<id>");
}

depot_err depot_token_read(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                           const char *owner, char **token, struct depot_token_state *out)
{
    char name[64];
    uint8_t *v = NULL;
    size_t len = 0;

    *token = NULL;
    memset(out, 0, sizeof *out);
    store__clear_error(st);
    if (secret_name(owner, "token", name, sizeof name) != 0)
        return bad_owner(st);
    sqlite3_stmt *s = store__stmt(st,
        "SELECT token_hash IS NOT NULL, coalesce(expires_at, 0), coalesce(refreshed_at, 0),"
        " lease_until_ms, failed_at_ms, coalesce(last_error, '')"
        "  FROM token_cache WHERE owner = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->have = sqlite3_column_int(s, 0);
        out->expires_at = sqlite3_column_int64(s, 1);
        out->refreshed_at = sqlite3_column_int64(s, 2);
        out->lease_until_ms = sqlite3_column_int64(s, 3);
        out->failed_at_ms = sqlite3_column_int64(s, 4);
        snprintf(out->last_error, sizeof out->last_error, "%s", sqlite3_column_text(s, 5));
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__dberr(st, "read token cache");
    /* A channel added with a token by hand (Shopify custom app) has no cache row: its
     * token never expires. */
    if (rc == SQLITE_DONE && strncmp(owner, "channel:", 8) != 0)
        return DEPOT_OK;
    depot_err e = depot_secret_get(st, key, name, &v, &len);
    if (e == DEPOT_E_NOT_FOUND) {
        out->have = 0;
        store__clear_error(st);
        return DEPOT_OK;
    }
    if (e != DEPOT_OK)
        return e;
    out->have = 1;
    *token = (char *)v;
    return DEPOT_OK;
}

depot_err depot_token_refresh_secret(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                                     const char *owner, char **refresh_token)
{
    char name[64];
    uint8_t *v = NULL;
    size_t len = 0;
    *refresh_token = NULL;
    store__clear_error(st);
    if (secret_name(owner, "refresh_token", name, sizeof name) != 0)
        return bad_owner(st);
    depot_err e = depot_secret_get(st, key, name, &v, &len);
    if (e == DEPOT_E_NOT_FOUND)
        return store__fail(st, e, "%s has no refresh token", owner);
    if (e == DEPOT_OK)
        *refresh_token = (char *)v;
    return e;
}

/* Checks owner and opens a transaction in which it has a cache row; nothing stays open
 * on failure. */
static depot_err begin_with_row(depot_store *st, const char *owner)
{
    if (!valid_owner(owner))
        return bad_owner(st);
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO token_cache (owner, updated_at) VALUES (?1, ?2)"
        " ON CONFLICT (owner) DO NOTHING");
    if (!s) {
        e = DEPOT_E_DB;
    } else {
        sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, store__now());
        e = store__step_done(st, s);
    }
    if (e != DEPOT_OK)
        store__rollback(st);
    return e;
}

depot_err depot_token_lease(depot_store *st, const char *owner, int64_t now_ms,
                            int64_t lease_ms, int64_t margin_s, int *acquired)
{
    depot_err e;

    *acquired = 0;
    store__clear_error(st);
    if ((e = begin_with_row(st, owner)) != DEPOT_OK)
        return e;
    /* Good enough: a token is cached (hash known) and does not expire within margin. */
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE token_cache SET lease_until_ms = ?2, updated_at = ?3"
        " WHERE owner = ?1 AND lease_until_ms <= ?4"
        "   AND NOT (token_hash IS NOT NULL"
        "            AND (expires_at IS NULL OR expires_at - ?5 > ?3))");
    if (!s)
        return store__end_tx(st, DEPOT_E_DB);
    sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now_ms + lease_ms);
    sqlite3_bind_int64(s, 3, now_ms / 1000);
    sqlite3_bind_int64(s, 4, now_ms);
    sqlite3_bind_int64(s, 5, margin_s);
    if ((e = store__step_done(st, s)) == DEPOT_OK)
        *acquired = sqlite3_changes(st->db) == 1;
    return store__end_tx(st, e);
}

depot_err depot_token_store(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                            const char *owner, const char *token, int64_t expires_at,
                            const char *refresh_token, const char *actor)
{
    char name[64], refresh_name[64], hash[65], detail[64];
    int replaced;
    depot_err e;

    store__clear_error(st);
    if (secret_name(owner, "token", name, sizeof name) != 0 ||
        secret_name(owner, "refresh_token", refresh_name, sizeof refresh_name) != 0)
        return bad_owner(st);
    if (!token || !token[0])
        return store__fail(st, DEPOT_E_INVALID, "empty access token");
    store__sha256_hex(token, hash);
    if ((e = begin_with_row(st, owner)) != DEPOT_OK)
        return e;
    if ((e = store__secret_write(st, key, name, (const uint8_t *)token, strlen(token),
                                 &replaced)) != DEPOT_OK)
        return store__end_tx(st, e);
    if (refresh_token && refresh_token[0] &&
        (e = store__secret_write(st, key, refresh_name, (const uint8_t *)refresh_token,
                                 strlen(refresh_token), &replaced)) != DEPOT_OK)
        return store__end_tx(st, e);
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE token_cache SET token_hash = ?2, expires_at = ?3, refreshed_at = ?4,"
        " lease_until_ms = 0, failed_at_ms = 0, last_error = NULL, updated_at = ?4"
        " WHERE owner = ?1");
    if (!s)
        return store__end_tx(st, DEPOT_E_DB);
    sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, hash, -1, SQLITE_STATIC);
    if (expires_at > 0)
        sqlite3_bind_int64(s, 3, expires_at);
    sqlite3_bind_int64(s, 4, store__now());
    if ((e = store__step_done(st, s)) == DEPOT_OK) {
        snprintf(detail, sizeof detail, "{\"expires_at\":%lld}", (long long)expires_at);
        e = store__audit(st, actor, "TOKEN_REFRESHED", owner, detail);
    }
    return store__end_tx(st, e);
}

depot_err depot_token_fail(depot_store *st, const char *owner, const char *reason,
                           int64_t now_ms, const char *actor)
{
    depot_err e;

    store__clear_error(st);
    if ((e = begin_with_row(st, owner)) != DEPOT_OK)
        return e;
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE token_cache SET lease_until_ms = 0, failed_at_ms = ?2,"
        " last_error = substr(?3, 1, 240), updated_at = ?4 WHERE owner = ?1");
    if (!s)
        return store__end_tx(st, DEPOT_E_DB);
    sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now_ms);
    sqlite3_bind_text(s, 3, reason ? reason : "unknown", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, store__now());
    if ((e = store__step_done(st, s)) == DEPOT_OK) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "reason", reason ? reason : "unknown");
        e = store__audit_json(st, actor, "TOKEN_FAILED", owner, d);
    }
    return store__end_tx(st, e);
}

depot_err depot_token_reject(depot_store *st, const char *owner, const char *token)
{
    char hash[65];
    store__clear_error(st);
    if (!valid_owner(owner))
        return bad_owner(st);
    if (!token)
        return store__fail(st, DEPOT_E_INVALID, "no token to reject");
    store__sha256_hex(token, hash);
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE token_cache SET expires_at = 1, updated_at = ?3"
        " WHERE owner = ?1 AND token_hash = ?2");
    if (!s)
        return store__end_tx(st, DEPOT_E_DB);
    sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, store__now());
    return store__end_tx(st, store__step_done(st, s));
}

depot_err depot_token_expiring_json(depot_store *st, cJSON **out)
{
    int rc = SQLITE_DONE;
    *out = NULL;
    store__clear_error(st);
    sqlite3_stmt *s = store__stmt(st,
        "SELECT owner, expires_at, coalesce(refreshed_at, 0), failed_at_ms FROM token_cache"
        " WHERE expires_at IS NOT NULL AND token_hash IS NOT NULL ORDER BY expires_at LIMIT 1000");
    if (!s)
        return DEPOT_E_DB;
    cJSON *doc = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(doc, "items");
    while (items && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(items, o);
        cJSON_AddStringToObject(o, "owner", (const char *)sqlite3_column_text(s, 0));
        cJSON_AddNumberToObject(o, "expires_at", (double)sqlite3_column_int64(s, 1));
        cJSON_AddNumberToObject(o, "refreshed_at", (double)sqlite3_column_int64(s, 2));
        cJSON_AddNumberToObject(o, "failed_at_ms", (double)sqlite3_column_int64(s, 3));
    }
    return store__list_end(st, s, rc, doc, items, "list expiring tokens", out);
}
