/* The audit log: append-only rows chained by SHA-256, so any edit, deletion or
 * re-ordering of history is detectable by `depotctl verify`. */
#include <stdio.h>
#include <string.h>
#include <mbedtls/sha256.h>
#include "store_int.h"

static const char zero_hash[65] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* Rationale: each field is fed as "<length>:<bytes>;" so no two different rows can
 * produce the same byte stream (no ambiguity from separators inside fields). */
static void feed(mbedtls_sha256_context *c, const char *s)
{
    char len[24];
    size_t n = s ? strlen(s) : 0;
    int k = snprintf(len, sizeof len, "%zu:", n);
    mbedtls_sha256_update_ret(c, (const unsigned char *)len, (size_t)k);
    if (n)
        mbedtls_sha256_update_ret(c, (const unsigned char *)s, n);
    mbedtls_sha256_update_ret(c, (const unsigned char *)";", 1);
}

void store__audit_hash(const char *prev_hex, int64_t id, int64_t at, const char *actor,
                       const char *action, const char *entity, const char *detail,
                       char out_hex[65])
{
    char num[2][24];
    unsigned char digest[32];
    mbedtls_sha256_context c;
    snprintf(num[0], sizeof num[0], "%lld", (long long)id);
    snprintf(num[1], sizeof num[1], "%lld", (long long)at);
    mbedtls_sha256_init(&c);
    mbedtls_sha256_starts_ret(&c, 0);
    feed(&c, prev_hex);
    feed(&c, num[0]);
    feed(&c, num[1]);
    feed(&c, actor);
    feed(&c, action);
    feed(&c, entity);
    feed(&c, detail);
    mbedtls_sha256_finish_ret(&c, digest);
    mbedtls_sha256_free(&c);
    for (int i = 0; i < 32; i++)
        snprintf(out_hex + 2 * i, 3, "%02x", digest[i]);
}

depot_err store__audit(depot_store *st, const char *actor, const char *action,
                       const char *entity, const char *detail_json)
{
    char prev[65], hash[65];
    int64_t id = 1, at = store__now();
    const char *detail = detail_json ? detail_json : "{}";
    if (!actor || !*actor)
        actor = "unknown";
    sqlite3_stmt *s = store__stmt(st, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1");
    if (!s)
        return DEPOT_E_DB;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        id = sqlite3_column_int64(s, 0) + 1;
        snprintf(prev, sizeof prev, "%s", (const char *)sqlite3_column_text(s, 1));
    } else {
        memcpy(prev, zero_hash, sizeof prev);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__dberr(st, "read audit tail");
    store__audit_hash(prev, id, at, actor, action, entity, detail, hash);
    s = store__stmt(st,
        "INSERT INTO audit (id, at, actor, action, entity, detail, prev_hash, hash)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, at);
    sqlite3_bind_text(s, 3, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, entity, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, detail, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, prev, 64, SQLITE_STATIC);
    sqlite3_bind_text(s, 8, hash, 64, SQLITE_STATIC);
    return store__step_done(st, s);
}

depot_err depot_audit_append(depot_store *st, const char *actor, const char *action,
                             const char *entity, const char *detail_json)
{
    if (!store__valid_text(action, 64) || !store__valid_text(entity, 200))
        return store__fail(st, DEPOT_E_INVALID, "audit action and entity are required");
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    if ((e = store__audit(st, actor, action, entity, detail_json)) != DEPOT_OK) {
        store__rollback(st);
        return e;
    }
    return store__commit(st);
}
