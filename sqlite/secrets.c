/* Secrets at rest: the `secrets` table, each value sealed by the vault under the master
 * key with its name as associated data, and every change audited without the value;
 * and the named credentials of channels and carriers kept there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_int.h"
#include "vault.h"

#define SECRET_NAME_MAX 128

depot_err store__secret_write(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                              const char *name, const uint8_t *value, size_t len,
                              int *replaced)
{
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    depot_err e;
    sqlite3_stmt *s;

    if (!store__valid_code(name, SECRET_NAME_MAX))
        return store__fail(st, DEPOT_E_INVALID,
                           "secret name must be 1..%d printable characters", SECRET_NAME_MAX);
    if (!value || len == 0)
        return store__fail(st, DEPOT_E_INVALID, "secret %s: value is empty", name);
    if (len > DEPOT_VAULT_MAX_PLAINTEXT)
        return store__fail(st, DEPOT_E_INVALID, "secret %s: value longer than %d bytes",
                           name, DEPOT_VAULT_MAX_PLAINTEXT);
    if ((e = depot_vault_seal(key, name, value, len, &sealed, &sealed_len)) != DEPOT_OK)
        return store__fail(st, e, "secret %s: cannot encrypt (%s)", name, depot_err_code(e));
    if (!(s = store__stmt(st, "SELECT 1 FROM secrets WHERE name = ?1"))) {
        e = DEPOT_E_DB;
        goto out;
    }
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        e = store__dberr(st, "read secret");
        goto out;
    }
    *replaced = rc == SQLITE_ROW;
    if (!(s = store__stmt(st,
            "INSERT INTO secrets (name, sealed, updated_at) VALUES (?1, ?2, ?3)"
            " ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed,"
            " updated_at = excluded.updated_at"))) {
        e = DEPOT_E_DB;
        goto out;
    }
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, sealed, (int)sealed_len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, store__now());
    e = store__step_done(st, s);
out:
    free(sealed);
    return e;
}

depot_err depot_secret_put(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                           const char *name, const uint8_t *value, size_t len,
                           const char *actor)
{
    char entity[16 + SECRET_NAME_MAX];
    depot_err e;
    int replaced = 0;

    store__clear_error(st);
    if ((e = store__begin(st)) != DEPOT_OK)
        return e;
    e = store__secret_write(st, key, name, value, len, &replaced);
    /* The detail says what happened, never what the value is (nor its length). */
    if (e == DEPOT_OK) {
        snprintf(entity, sizeof entity, "secret:%s", name);
        e = store__audit(st, actor, "secret.put", entity,
                         replaced ? "{\"replaced\":true}" : "{\"replaced\":false}");
    }
    if (e == DEPOT_OK)
        e = store__commit(st);
    if (e != DEPOT_OK)
        store__rollback(st);
    return e;
}

depot_err depot_secret_get(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                           const char *name, uint8_t **value, size_t *len)
{
    depot_err e;
    sqlite3_stmt *s;

    *value = NULL;
    *len = 0;
    store__clear_error(st);
    if (!store__valid_code(name, SECRET_NAME_MAX))
        return store__fail(st, DEPOT_E_INVALID,
                           "secret name must be 1..%d printable characters", SECRET_NAME_MAX);
    if (!(s = store__stmt(st, "SELECT sealed FROM secrets WHERE name = ?1")))
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(s);
        return store__fail(st, DEPOT_E_NOT_FOUND, "no secret named %s", name);
    }
    if (rc != SQLITE_ROW) {
        sqlite3_reset(s);
        return store__dberr(st, "read secret");
    }
    e = depot_vault_open(key, name, sqlite3_column_blob(s, 0),
                         (size_t)sqlite3_column_bytes(s, 0), value, len);
    sqlite3_reset(s);
    if (e == DEPOT_E_CRYPTO)
        return store__fail(st, e, "secret %s cannot be decrypted: wrong master key, or the "
                                  "row was altered", name);
    if (e != DEPOT_OK)
        return store__fail(st, e, "secret %s: %s", name, depot_err_code(e));
    return DEPOT_OK;
}

depot_err store__credentials_write(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                                   const char *kind, int64_t id,
                                   const char *const fields[], const char *const values[])
{
    char name[64];
    depot_err e = DEPOT_OK;
    for (int f = 0; e == DEPOT_OK && fields[f]; f++) {
        const char *v = values[f];
        int replaced;
        if (!v || !v[0])
            continue;
        snprintf(name, sizeof name, "%s/%lld/%s", kind, (long long)id, fields[f]);
        e = store__secret_write(st, key, name, (const uint8_t *)v, strlen(v), &replaced);
    }
    return e;
}

depot_err store__credential_read(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                                 const char *kind, int64_t id, const char *const fields[],
                                 const char *field, char **value)
{
    char name[64];
    uint8_t *v = NULL;
    size_t len = 0;
    int known = 0;

    *value = NULL;
    for (int f = 0; fields[f]; f++)
        known |= field && strcmp(field, fields[f]) == 0;
    if (!known)
        return store__fail(st, DEPOT_E_INVALID, "unknown %s credential", kind);
    snprintf(name, sizeof name, "%s/%lld/%s", kind, (long long)id, field);
    depot_err e = depot_secret_get(st, key, name, &v, &len);
    if (e == DEPOT_E_NOT_FOUND)
        return store__fail(st, e, "%s %lld has no %s", kind, (long long)id, field);
    if (e == DEPOT_OK)
        *value = (char *)v;
    return e;
}

void store__credential_names(sqlite3_stmt *sec, const char *kind, int64_t id, cJSON *names)
{
    char prefix[48];
    snprintf(prefix, sizeof prefix, "%s/%lld/", kind, (long long)id);
    sqlite3_bind_text(sec, 1, prefix, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(sec) == SQLITE_ROW)
        cJSON_AddItemToArray(names, cJSON_CreateString((const char *)sqlite3_column_text(sec, 0)));
    sqlite3_reset(sec);
}
