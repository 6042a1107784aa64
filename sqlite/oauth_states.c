/* OAuth install support, store side: the app credentials a platform's authorization
 * flow needs (sealed in the vault) and single-use, expiring nonces (Shopify `state`,
 * WooCommerce `user_id`) of which only the SHA-256 is stored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "carriers.h"
#include "store_int.h"

#define APP_FIELD_MAX 4096
#define SUBJECT_MAX 512

static int valid_platform(const char *p)
{
    return p && strcmp(p, "shopify") == 0;
}

static int valid_scopes(const char *s)
{
    if (strlen(s) > 255)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || *s == '_' || *s == ','))
            return 0;
    return 1;
}

depot_err depot_oauth_app_set(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                              const char *platform, const char *client_id,
                              const char *client_secret, const char *scopes,
                              const char *actor)
{
    const char *fields[3] = {"client_id", "client_secret", "scopes"};
    const char *values[3] = {client_id, client_secret, scopes};
    char name[64], entity[48];
    int replaced;
    depot_err e;

    store__clear_error(st);
    if (!valid_platform(platform))
        return store__fail(st, DEPOT_E_INVALID, "app platform must be shopify");
    if (!client_id || !client_id[0] || !client_secret || !client_secret[0] ||
        strlen(client_id) > APP_FIELD_MAX || strlen(client_secret) > APP_FIELD_MAX)
        return store__fail(st, DEPOT_E_INVALID, "an app needs its client id and secret "
                           "(1..%d bytes each)", APP_FIELD_MAX);
    if (!scopes || !scopes[0] || !valid_scopes(scopes))
        return store__fail(st, DEPOT_E_INVALID,
                           "scopes must be a comma-separated list like "
                           "read_orders,write_inventory");
    if ((e = store__begin(st)) != DEPOT_OK)
        return e;
    for (int i = 0; i < 3 && e == DEPOT_OK; i++) {
        snprintf(name, sizeof name, "app/%s/%s", platform, fields[i]);
        e = store__secret_write(st, key, name, (const uint8_t *)values[i], strlen(values[i]),
                                &replaced);
    }
    if (e == DEPOT_OK) {
        snprintf(entity, sizeof entity, "app:%s", platform);
        e = store__audit(st, actor, "app.set", entity, "{}");
    }
    return store__end_tx(st, e);
}

depot_err depot_oauth_app_get(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                              const char *platform, char **client_id, char **client_secret,
                              char scopes[256])
{
    char name[64];
    uint8_t *v[3] = {NULL, NULL, NULL};
    size_t len;
    const char *fields[3] = {"client_id", "client_secret", "scopes"};
    depot_err e = DEPOT_OK;

    *client_id = *client_secret = NULL;
    scopes[0] = '\0';
    store__clear_error(st);
    if (!valid_platform(platform))
        return store__fail(st, DEPOT_E_INVALID, "app platform must be shopify");
    for (int i = 0; i < 3 && e == DEPOT_OK; i++) {
        snprintf(name, sizeof name, "app/%s/%s", platform, fields[i]);
        e = depot_secret_get(st, key, name, &v[i], &len);
    }
    if (e == DEPOT_E_NOT_FOUND)
        e = store__fail(st, e, "the %s app is not configured (depotctl app set %s)", platform,
                        platform);
    if (e != DEPOT_OK) {
        for (int i = 0; i < 3; i++) {
            if (v[i])
                explicit_bzero(v[i], strlen((char *)v[i]));
            free(v[i]);
        }
        return e;
    }
    *client_id = (char *)v[0];
    *client_secret = (char *)v[1];
    snprintf(scopes, 256, "%s", (char *)v[2]);
    free(v[2]);
    return DEPOT_OK;
}

static int valid_purpose(const char *p)
{
    return p && (strcmp(p, "shopify_install") == 0 || strcmp(p, "woocommerce_keys") == 0);
}

depot_err depot_oauth_nonce_create(depot_store *st, const char *purpose, const char *subject,
                                   int64_t ttl_s, const char *actor,
                                   char nonce_out[DEPOT_OAUTH_NONCE_LEN + 1])
{
    char hash[65];
    depot_err e;

    store__clear_error(st);
    if (!valid_purpose(purpose))
        return store__fail(st, DEPOT_E_INVALID, "unknown nonce purpose");
    if (!store__valid_text(subject, SUBJECT_MAX))
        return store__fail(st, DEPOT_E_INVALID, "nonce subject must be 1..%d characters",
                           SUBJECT_MAX);
    if (ttl_s < 1 || ttl_s > 86400)
        return store__fail(st, DEPOT_E_INVALID, "nonce lifetime must be 1..86400 s");
    if ((e = store__random_hex(nonce_out, DEPOT_OAUTH_NONCE_LEN / 2)) != DEPOT_OK)
        return store__fail(st, e, "no random bytes for a nonce");
    store__sha256_hex(nonce_out, hash);
    if ((e = store__begin(st)) != DEPOT_OK)
        return e;
    int64_t now = store__now();
    sqlite3_stmt *purge = store__stmt(st, "DELETE FROM oauth_states WHERE expires_at < ?1");
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO oauth_states (nonce_hash, purpose, subject, actor, created_at, expires_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!purge || !s)
        return store__end_tx(st, DEPOT_E_DB);
    sqlite3_bind_int64(purge, 1, now - 86400);
    if ((e = store__step_done(st, purge)) != DEPOT_OK)
        return store__end_tx(st, e);
    sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, purpose, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, subject, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, actor ? actor : "system", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, now);
    sqlite3_bind_int64(s, 6, now + ttl_s);
    e = store__step_done(st, s);
    if (e != DEPOT_OK)
        explicit_bzero(nonce_out, DEPOT_OAUTH_NONCE_LEN + 1);
    return store__end_tx(st, e);
}

depot_err depot_oauth_nonce_consume(depot_store *st, const char *purpose, const char *nonce,
                                    char subject_out[SUBJECT_MAX + 1])
{
    char hash[65];
    depot_err e;

    subject_out[0] = '\0';
    store__clear_error(st);
    if (!valid_purpose(purpose) || !nonce || !store__is_lower_hex(nonce, DEPOT_OAUTH_NONCE_LEN))
        return store__fail(st, DEPOT_E_NOT_FOUND, "unknown or expired state");
    store__sha256_hex(nonce, hash);
    if ((e = store__begin(st)) != DEPOT_OK)
        return e;
    int64_t now = store__now();
    sqlite3_stmt *s = store__stmt(st,
        "SELECT subject, expires_at, used_at FROM oauth_states"
        " WHERE nonce_hash = ?1 AND purpose = ?2");
    if (!s)
        return store__end_tx(st, DEPOT_E_DB);
    sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, purpose, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s), used = 0;
    int64_t expires = 0;
    if (rc == SQLITE_ROW) {
        snprintf(subject_out, SUBJECT_MAX + 1, "%s", sqlite3_column_text(s, 0));
        expires = sqlite3_column_int64(s, 1);
        used = sqlite3_column_type(s, 2) != SQLITE_NULL;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__end_tx(st, store__dberr(st, "read oauth state"));
    if (rc == SQLITE_DONE || expires < now) {
        subject_out[0] = '\0';
        return store__end_tx(st, store__fail(st, DEPOT_E_NOT_FOUND, "unknown or expired state"));
    }
    if (used) {
        subject_out[0] = '\0';
        return store__end_tx(st, store__fail(st, DEPOT_E_STATE, "state was already used"));
    }
    sqlite3_stmt *u = store__stmt(st, "UPDATE oauth_states SET used_at = ?2 WHERE nonce_hash = ?1");
    if (!u)
        return store__end_tx(st, DEPOT_E_DB);
    sqlite3_bind_text(u, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(u, 2, now);
    e = store__end_tx(st, store__step_done(st, u));
    if (e != DEPOT_OK)
        subject_out[0] = '\0';
    return e;
}
