/* Login sessions and badges: create, look up, end and purge sessions; issue and check
 * badges. Only SHA-256 hashes of session tokens and badges are stored; neither is
 * audited. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include "store_int.h"
#include "vault.h"

/* Rationale: session tokens and badges are random (256 and 120 bits), so, like API
 * tokens, they need no slow hash: the SHA-256 hex is stored and looked up directly, and a
 * stolen database yields nothing usable. The CSRF token is not a credential on its own
 * (it is useless without the HttpOnly cookie) and is stored as is, to be handed back to
 * the UI on /api/v1/session. A badge is "BADGE-" plus 15 random bytes in base32 (RFC
 * 4648 alphabet): upper case and digits only, so it survives Code 128 and keyboard-wedge
 * scanners; it is canonicalised to upper case before hashing. */
#define SESSION_RAW_LEN 32
#define BADGE_PREFIX "BADGE-"
#define BADGE_PREFIX_LEN 6
#define BADGE_RAW_LEN 15
#define BADGE_CHARS (BADGE_RAW_LEN * 8 / 5)
_Static_assert(DEPOT_SESSION_TOKEN_LEN == 2 * SESSION_RAW_LEN &&
               DEPOT_CSRF_TOKEN_LEN == 2 * SESSION_RAW_LEN, "session token sizes");
_Static_assert(DEPOT_BADGE_LEN == BADGE_PREFIX_LEN + BADGE_CHARS, "badge size");

/* Within a transaction: the user's id, role and disabled flag. */
static depot_err user_row(depot_store *st, const char *name, int64_t *id, char role[16],
                          int *disabled)
{
    sqlite3_stmt *s = store__stmt(st, "SELECT id, role, disabled FROM users WHERE name = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        snprintf(role, 16, "%s", (const char *)sqlite3_column_text(s, 1));
        *disabled = sqlite3_column_int(s, 2);
    }
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return store__fail(st, DEPOT_E_NOT_FOUND, "no user named %s", name);
    return rc == SQLITE_ROW ? DEPOT_OK : store__dberr(st, "read users");
}

/* Within a transaction: the session row and its audit row. */
static depot_err insert_session(depot_store *st, const char *hash, const char *via,
                                const char *peer, struct depot_session *out)
{
    char entity[32], actor[8 + DEPOT_USER_NAME_MAX], *detail = NULL;
    cJSON *d = NULL;
    depot_err e;
    sqlite3_stmt *s = store__stmt(st, "INSERT INTO sessions (token_hash, user_id, csrf_token,"
                                      " created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, hash, 64, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, out->user_id);
    sqlite3_bind_text(s, 3, out->csrf, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, store__now());
    sqlite3_bind_int64(s, 5, out->expires_at);
    if ((e = store__step_done(st, s)) != DEPOT_OK)
        return e;
    out->id = sqlite3_last_insert_rowid(st->db);
    snprintf(actor, sizeof actor, "user:%s", out->user);
    snprintf(entity, sizeof entity, "session:%lld", (long long)out->id);
    if (!(d = cJSON_CreateObject()) || !cJSON_AddStringToObject(d, "user", out->user) ||
        !cJSON_AddStringToObject(d, "via", via) ||
        !cJSON_AddStringToObject(d, "peer", peer ? peer : "") ||
        !cJSON_AddNumberToObject(d, "expires_at", (double)out->expires_at) ||
        !(detail = cJSON_PrintUnformatted(d)))
        e = store__fail(st, DEPOT_E_NOMEM, "out of memory");
    else
        e = store__audit(st, actor, "session.create", entity, detail);
    cJSON_free(detail);
    cJSON_Delete(d);
    return e;
}

depot_err depot_session_create(depot_store *st, const char *name, int64_t ttl_seconds,
                               const char *via, const char *peer,
                               char token_out[DEPOT_SESSION_TOKEN_LEN + 1],
                               struct depot_session *out)
{
    char hash[65];
    int disabled = 0;
    depot_err e;

    store__clear_error(st);
    token_out[0] = '\0';
    memset(out, 0, sizeof *out);
    if (!store__valid_code(name, DEPOT_USER_NAME_MAX))
        return store__fail(st, DEPOT_E_NOT_FOUND, "no such user");
    if (ttl_seconds <= 0 || !via)
        return store__fail(st, DEPOT_E_INVALID, "a session needs a positive lifetime and "
                                                "a login method");
    if ((e = store__random_hex(token_out, SESSION_RAW_LEN)) != DEPOT_OK ||
        (e = store__random_hex(out->csrf, SESSION_RAW_LEN)) != DEPOT_OK) {
        mbedtls_platform_zeroize(token_out, DEPOT_SESSION_TOKEN_LEN + 1);
        return store__fail(st, e, "cannot read random bytes for a session");
    }
    store__sha256_hex(token_out, hash);
    snprintf(out->user, sizeof out->user, "%s", name);
    out->expires_at = store__now() + ttl_seconds;

    if ((e = store__begin(st)) != DEPOT_OK)
        goto out;
    if ((e = user_row(st, name, &out->user_id, out->role, &disabled)) != DEPOT_OK)
        goto out;
    if (disabled) {
        e = store__fail(st, DEPOT_E_STATE, "user %s is disabled", name);
        goto out;
    }
    if ((e = insert_session(st, hash, via, peer, out)) == DEPOT_OK)
        e = store__commit(st);
out:
    if (e != DEPOT_OK) {
        store__rollback(st);
        mbedtls_platform_zeroize(token_out, DEPOT_SESSION_TOKEN_LEN + 1);
        memset(out, 0, sizeof *out);
    }
    return e;
}

depot_err depot_session_lookup(depot_store *st, const char *token, struct depot_session *out)
{
    char hash[65];
    sqlite3_stmt *s;

    store__clear_error(st);
    memset(out, 0, sizeof *out);
    if (!token || !store__is_lower_hex(token, DEPOT_SESSION_TOKEN_LEN))
        return store__fail(st, DEPOT_E_NOT_FOUND, "unknown or expired session");
    store__sha256_hex(token, hash);
    if (!(s = store__stmt(st, "SELECT s.id, s.user_id, u.name, u.role, s.csrf_token,"
                              " s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id"
                              " WHERE s.token_hash = ?1 AND s.expires_at > ?2"
                              " AND u.disabled = 0")))
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, hash, 64, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, store__now());
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(s, 0);
        out->user_id = sqlite3_column_int64(s, 1);
        snprintf(out->user, sizeof out->user, "%s", (const char *)sqlite3_column_text(s, 2));
        snprintf(out->role, sizeof out->role, "%s", (const char *)sqlite3_column_text(s, 3));
        snprintf(out->csrf, sizeof out->csrf, "%s", (const char *)sqlite3_column_text(s, 4));
        out->expires_at = sqlite3_column_int64(s, 5);
    }
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return store__fail(st, DEPOT_E_NOT_FOUND, "unknown or expired session");
    return rc == SQLITE_ROW ? DEPOT_OK : store__dberr(st, "read sessions");
}

depot_err depot_session_delete(depot_store *st, int64_t id, const char *actor)
{
    char entity[32];
    depot_err e;
    sqlite3_stmt *s;

    store__clear_error(st);
    if ((e = store__begin(st)) != DEPOT_OK)
        return e;
    if (!(s = store__stmt(st, "DELETE FROM sessions WHERE id = ?1"))) {
        e = DEPOT_E_DB;
        goto out;
    }
    sqlite3_bind_int64(s, 1, id);
    if ((e = store__step_done(st, s)) != DEPOT_OK)
        goto out;
    if (sqlite3_changes(st->db) == 0) {
        e = store__fail(st, DEPOT_E_NOT_FOUND, "no session with id %lld", (long long)id);
        goto out;
    }
    snprintf(entity, sizeof entity, "session:%lld", (long long)id);
    if ((e = store__audit(st, actor, "session.delete", entity, "{}")) == DEPOT_OK)
        e = store__commit(st);
out:
    if (e != DEPOT_OK)
        store__rollback(st);
    return e;
}

depot_err depot_sessions_purge(depot_store *st, int64_t now, int *n_purged)
{
    sqlite3_stmt *s;
    depot_err e;

    store__clear_error(st);
    if (n_purged)
        *n_purged = 0;
    if (!(s = store__stmt(st, "DELETE FROM sessions WHERE expires_at <= ?1")))
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, now);
    if ((e = store__step_done(st, s)) == DEPOT_OK && n_purged)
        *n_purged = sqlite3_changes(st->db);
    return e;
}

/* ---- Badges --------------------------------------------------------------------- */

static depot_err badge_generate(char badge[DEPOT_BADGE_LEN + 1])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    uint8_t raw[BADGE_RAW_LEN];
    depot_err e = depot_random_bytes(raw, sizeof raw);
    if (e != DEPOT_OK)
        return e;
    memcpy(badge, BADGE_PREFIX, BADGE_PREFIX_LEN);
    /* Every 5 bytes are 40 bits, 8 characters. */
    for (size_t g = 0; g < BADGE_RAW_LEN / 5; g++) {
        uint64_t bits = 0;
        for (size_t i = 0; i < 5; i++)
            bits = bits << 8 | raw[5 * g + i];
        for (size_t i = 0; i < 8; i++)
            badge[BADGE_PREFIX_LEN + 8 * g + i] = alphabet[(bits >> (35 - 5 * i)) & 31];
    }
    badge[DEPOT_BADGE_LEN] = '\0';
    mbedtls_platform_zeroize(raw, sizeof raw);
    return DEPOT_OK;
}

/* A scanned badge in canonical form (trimmed, upper case) into out; 0 if well formed. */
static int badge_canonical(const char *in, char out[DEPOT_BADGE_LEN + 1])
{
    size_t n;
    while (*in && isspace((unsigned char)*in))
        in++;
    n = strlen(in);
    while (n > 0 && isspace((unsigned char)in[n - 1]))
        n--;
    if (n != DEPOT_BADGE_LEN)
        return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)toupper((unsigned char)in[i]);
    out[n] = '\0';
    if (strncmp(out, BADGE_PREFIX, BADGE_PREFIX_LEN) != 0)
        return -1;
    for (size_t i = BADGE_PREFIX_LEN; i < n; i++)
        if (!((out[i] >= 'A' && out[i] <= 'Z') || (out[i] >= '2' && out[i] <= '7')))
            return -1;
    return 0;
}

depot_err depot_user_badge_issue(depot_store *st, const char *name, const char *actor,
                                 char badge_out[DEPOT_BADGE_LEN + 1])
{
    char hash[65], entity[8 + DEPOT_USER_NAME_MAX], detail[32];
    int64_t id = 0;
    int replaced = 0;
    depot_err e;
    sqlite3_stmt *s;

    store__clear_error(st);
    badge_out[0] = '\0';
    if (!store__valid_code(name, DEPOT_USER_NAME_MAX))
        return store__fail(st, DEPOT_E_NOT_FOUND, "no such user");
    if ((e = badge_generate(badge_out)) != DEPOT_OK)
        return store__fail(st, e, "cannot read random bytes for a badge");
    store__sha256_hex(badge_out, hash);

    if ((e = store__begin(st)) != DEPOT_OK)
        goto out;
    if (!(s = store__stmt(st, "SELECT id, badge_hash IS NOT NULL FROM users"
                              " WHERE name = ?1"))) {
        e = DEPOT_E_DB;
        goto out;
    }
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        id = sqlite3_column_int64(s, 0);
        replaced = sqlite3_column_int(s, 1);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW) {
        e = rc == SQLITE_DONE ? store__fail(st, DEPOT_E_NOT_FOUND, "no user named %s", name)
                              : store__dberr(st, "read users");
        goto out;
    }
    if (!(s = store__stmt(st, "UPDATE users SET badge_hash = ?2 WHERE id = ?1"))) {
        e = DEPOT_E_DB;
        goto out;
    }
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, hash, 64, SQLITE_STATIC);
    if ((e = store__step_done(st, s)) != DEPOT_OK)
        goto out;
    snprintf(entity, sizeof entity, "user:%s", name);
    snprintf(detail, sizeof detail, "{\"replaced\":%s}", replaced ? "true" : "false");
    if ((e = store__audit(st, actor, "badge.issue", entity, detail)) == DEPOT_OK)
        e = store__commit(st);
out:
    if (e != DEPOT_OK) {
        store__rollback(st);
        mbedtls_platform_zeroize(badge_out, DEPOT_BADGE_LEN + 1);
    }
    return e;
}

depot_err depot_user_check_badge(depot_store *st, const char *badge,
                                 char name_out[DEPOT_USER_NAME_MAX + 1], char role_out[16])
{
    char canon[DEPOT_BADGE_LEN + 1], hash[65];
    int disabled = 0;
    sqlite3_stmt *s;

    store__clear_error(st);
    name_out[0] = '\0';
    role_out[0] = '\0';
    if (!badge || badge_canonical(badge, canon) != 0)
        return store__fail(st, DEPOT_E_NOT_FOUND, "unknown badge");
    store__sha256_hex(canon, hash);
    mbedtls_platform_zeroize(canon, sizeof canon);
    if (!(s = store__stmt(st, "SELECT name, role, disabled FROM users WHERE badge_hash = ?1")))
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, hash, 64, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        snprintf(name_out, DEPOT_USER_NAME_MAX + 1, "%s",
                 (const char *)sqlite3_column_text(s, 0));
        snprintf(role_out, 16, "%s", (const char *)sqlite3_column_text(s, 1));
        disabled = sqlite3_column_int(s, 2);
    }
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return store__fail(st, DEPOT_E_NOT_FOUND, "unknown badge");
    if (rc != SQLITE_ROW)
        return store__dberr(st, "read users");
    if (disabled) {
        name_out[0] = role_out[0] = '\0';
        return store__fail(st, DEPOT_E_STATE, "user is disabled");
    }
    return DEPOT_OK;
}
