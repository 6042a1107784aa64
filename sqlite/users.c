/* Users and API tokens: PBKDF2 password hashes, token issue/check/revoke, each change
 * audited without the password or token. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <mbedtls/base64.h>
#include <mbedtls/constant_time.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include "store_int.h"
#include "vault.h"

/* Rationale: passwords are PBKDF2-HMAC-SHA256 with 210,000 iterations (OWASP's figure for
 * this PRF) and a 16-byte random salt, stored as
 * "pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>". The iteration count is read back
 * from each hash, so it can be raised later without invalidating old hashes; it is
 * bounded so a damaged row can neither make a login spin for minutes nor accept a
 * trivially cheap hash. Tokens are 256 random bits; being unguessable they need no
 * slow hash, so only their SHA-256 is stored and looked up directly. */
#define PW_SCHEME "pbkdf2-sha256"
#define PW_ITERATIONS 210000
#define PW_ITER_MIN 1000UL
#define PW_ITER_MAX 10000000UL
#define PW_SALT_LEN 16
#define PW_SALT_MAX 64
#define PW_HASH_LEN 32
#define PW_ENCODED_MAX 256
#define PW_MIN_LEN 8
#define PW_MAX_LEN 1024
#define NAME_MAX_LEN 64
#define TOKEN_PREFIX "dpt_"
#define TOKEN_PREFIX_LEN 4
#define TOKEN_RAW_LEN 32
/* last_used_at is kept to the minute, so a busy client does not make every request a
 * disk write. */
#define TOKEN_LAST_USED_GRANULARITY 60

static depot_err pbkdf2(const char *password, const uint8_t *salt, size_t salt_len,
                        unsigned iterations, uint8_t out[PW_HASH_LEN])
{
    mbedtls_md_context_t md;
    int rc;
    mbedtls_md_init(&md);
    rc = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
    if (rc == 0)
        rc = mbedtls_pkcs5_pbkdf2_hmac(&md, (const unsigned char *)password,
                                       strlen(password), salt, salt_len, iterations,
                                       PW_HASH_LEN, out);
    mbedtls_md_free(&md); /* wipes the HMAC state */
    return rc == 0 ? DEPOT_OK : DEPOT_E_CRYPTO;
}

/* Hashes password with a fresh salt into out ("pbkdf2-sha256$..."). */
static depot_err hash_password(const char *password, char out[PW_ENCODED_MAX])
{
    uint8_t salt[PW_SALT_LEN], dk[PW_HASH_LEN];
    unsigned char salt_b64[32], dk_b64[48];
    size_t olen;
    depot_err e = depot_random_bytes(salt, sizeof salt);
    if (e == DEPOT_OK)
        e = pbkdf2(password, salt, sizeof salt, PW_ITERATIONS, dk);
    if (e == DEPOT_OK &&
        (mbedtls_base64_encode(salt_b64, sizeof salt_b64, &olen, salt, sizeof salt) != 0 ||
         mbedtls_base64_encode(dk_b64, sizeof dk_b64, &olen, dk, sizeof dk) != 0))
        e = DEPOT_E_CRYPTO;
    if (e == DEPOT_OK)
        snprintf(out, PW_ENCODED_MAX, PW_SCHEME "$%d$%s$%s", PW_ITERATIONS,
                 (const char *)salt_b64, (const char *)dk_b64);
    mbedtls_platform_zeroize(dk, sizeof dk);
    return e;
}

/* Splits a stored hash; 0 if well formed with a bounded iteration count. */
static int parse_hash(const char *stored, unsigned *iterations, uint8_t salt[PW_SALT_MAX],
                      size_t *salt_len, uint8_t dk[PW_HASH_LEN])
{
    static const char prefix[] = PW_SCHEME "$";
    const char *p = stored + sizeof prefix - 1, *dollar;
    char *end;
    unsigned long it;
    size_t dk_len;

    if (strncmp(stored, prefix, sizeof prefix - 1) != 0 || *p < '1' || *p > '9')
        return -1;
    errno = 0;
    it = strtoul(p, &end, 10);
    if (errno || *end != '$' || it < PW_ITER_MIN || it > PW_ITER_MAX)
        return -1;
    p = end + 1;
    if (!(dollar = strchr(p, '$')))
        return -1;
    if (mbedtls_base64_decode(salt, PW_SALT_MAX, salt_len, (const unsigned char *)p,
                              (size_t)(dollar - p)) != 0 || *salt_len == 0)
        return -1;
    p = dollar + 1;
    if (mbedtls_base64_decode(dk, PW_HASH_LEN, &dk_len, (const unsigned char *)p,
                              strlen(p)) != 0 || dk_len != PW_HASH_LEN)
        return -1;
    *iterations = (unsigned)it;
    return 0;
}

/* Spends the time of one real verification, so an unknown user or one without a password
 * cannot be told from a wrong password by the response time. */
static void burn_one_hash(const char *password)
{
    static const uint8_t salt[PW_SALT_LEN] = { 0 };
    uint8_t dk[PW_HASH_LEN];
    pbkdf2(password, salt, sizeof salt, PW_ITERATIONS, dk);
    mbedtls_platform_zeroize(dk, sizeof dk);
}

depot_err depot_user_add(depot_store *st, const char *name, const char *role,
                         const char *password, const char *actor, int64_t *id_out)
{
    char hash[PW_ENCODED_MAX], entity[8 + NAME_MAX_LEN], detail[96];
    depot_err e;
    sqlite3_stmt *s;
    int64_t id;

    store__clear_error(st);
    if (id_out)
        *id_out = 0;
    if (!store__valid_code(name, NAME_MAX_LEN))
        return store__fail(st, DEPOT_E_INVALID,
                           "user name must be 1..%d printable characters (no commas, "
                           "quotes or surrounding spaces)", NAME_MAX_LEN);
    if (!store__valid_role(role))
        return store__fail(st, DEPOT_E_INVALID, "role must be packer, supervisor or admin");
    if (password && (strlen(password) < PW_MIN_LEN || strlen(password) > PW_MAX_LEN))
        return store__fail(st, DEPOT_E_INVALID, "password must be %d..%d bytes",
                           PW_MIN_LEN, PW_MAX_LEN);
    /* Hash before taking the write lock: it takes a noticeable fraction of a second. */
    if (password && (e = hash_password(password, hash)) != DEPOT_OK)
        return store__fail(st, e, "cannot hash the password of user %s", name);

    if ((e = store__begin(st)) != DEPOT_OK)
        return e;
    if (!(s = store__stmt(st, "SELECT 1 FROM users WHERE name = ?1"))) {
        e = DEPOT_E_DB;
        goto out;
    }
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_ROW) {
        e = store__fail(st, DEPOT_E_CONFLICT, "user %s already exists", name);
        goto out;
    }
    if (rc != SQLITE_DONE) {
        e = store__dberr(st, "read users");
        goto out;
    }
    if (!(s = store__stmt(st, "INSERT INTO users (name, role, password_hash, created_at)"
                              " VALUES (?1, ?2, ?3, ?4)"))) {
        e = DEPOT_E_DB;
        goto out;
    }
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, role, -1, SQLITE_STATIC);
    if (password)
        sqlite3_bind_text(s, 3, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, store__now());
    if ((e = store__step_done(st, s)) != DEPOT_OK)
        goto out;
    id = sqlite3_last_insert_rowid(st->db);
    snprintf(entity, sizeof entity, "user:%s", name);
    snprintf(detail, sizeof detail, "{\"id\":%lld,\"role\":\"%s\",\"password\":%s}",
             (long long)id, role, password ? "true" : "false");
    if ((e = store__audit(st, actor, "user.add", entity, detail)) != DEPOT_OK ||
        (e = store__commit(st)) != DEPOT_OK)
        goto out;
    if (id_out)
        *id_out = id;
out:
    if (e != DEPOT_OK)
        store__rollback(st);
    return e;
}

depot_err depot_user_check_password(depot_store *st, const char *name,
                                    const char *password, char role_out[16])
{
    char role[16] = "", stored[PW_ENCODED_MAX] = "";
    uint8_t salt[PW_SALT_MAX], want[PW_HASH_LEN], got[PW_HASH_LEN];
    size_t salt_len;
    unsigned iterations;
    int found, disabled = 0, same;
    depot_err e;
    sqlite3_stmt *s;

    store__clear_error(st);
    if (role_out)
        role_out[0] = '\0';
    if (!name || !password)
        return store__fail(st, DEPOT_E_INVALID, "user name and password are required");
    if (!(s = store__stmt(st, "SELECT role, password_hash, disabled FROM users"
                              " WHERE name = ?1")))
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    found = rc == SQLITE_ROW;
    if (found) {
        const char *h = (const char *)sqlite3_column_text(s, 1);
        snprintf(role, sizeof role, "%s", (const char *)sqlite3_column_text(s, 0));
        snprintf(stored, sizeof stored, "%s", h ? h : "");
        disabled = sqlite3_column_int(s, 2);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__dberr(st, "read users");
    if (!found || !stored[0]) {
        burn_one_hash(password);
        return found ? store__fail(st, DEPOT_E_CRYPTO, "user %s has no password", name)
                     : store__fail(st, DEPOT_E_NOT_FOUND, "no user named %s", name);
    }
    if (parse_hash(stored, &iterations, salt, &salt_len, want) != 0)
        return store__fail(st, DEPOT_E_SCHEMA, "stored password hash of user %s is "
                                               "malformed", name);
    if ((e = pbkdf2(password, salt, salt_len, iterations, got)) != DEPOT_OK)
        return store__fail(st, e, "cannot hash the password of user %s", name);
    same = mbedtls_ct_memcmp(got, want, PW_HASH_LEN) == 0; /* all bytes, constant time */
    mbedtls_platform_zeroize(got, sizeof got);
    if (!same)
        return store__fail(st, DEPOT_E_CRYPTO, "wrong password for user %s", name);
    /* Only someone who knows the password learns that the account is disabled. */
    if (disabled)
        return store__fail(st, DEPOT_E_STATE, "user %s is disabled", name);
    if (role_out)
        memcpy(role_out, role, sizeof role);
    return DEPOT_OK;
}

depot_err depot_token_create(depot_store *st, const char *name, const char *role,
                             const char *actor, char token_out[DEPOT_TOKEN_LEN + 1],
                             int64_t *id_out)
{
    char hash[65], entity[32], *detail = NULL;
    cJSON *d = NULL;
    depot_err e;
    sqlite3_stmt *s;
    int64_t id;

    store__clear_error(st);
    token_out[0] = '\0';
    if (id_out)
        *id_out = 0;
    if (!store__valid_code(name, NAME_MAX_LEN))
        return store__fail(st, DEPOT_E_INVALID,
                           "token name must be 1..%d printable characters (no commas, "
                           "quotes or surrounding spaces)", NAME_MAX_LEN);
    if (!store__valid_role(role))
        return store__fail(st, DEPOT_E_INVALID, "role must be packer, supervisor or admin");
    if ((e = store__random_hex(token_out + TOKEN_PREFIX_LEN, TOKEN_RAW_LEN)) != DEPOT_OK)
        return store__fail(st, e, "cannot read random bytes for a token");
    memcpy(token_out, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
    store__sha256_hex(token_out, hash);

    if ((e = store__begin(st)) != DEPOT_OK) {
        mbedtls_platform_zeroize(token_out, DEPOT_TOKEN_LEN + 1);
        return e;
    }
    if (!(s = store__stmt(st, "INSERT INTO api_tokens (name, role, token_hash, created_at)"
                              " VALUES (?1, ?2, ?3, ?4)"))) {
        e = DEPOT_E_DB;
        goto out;
    }
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, role, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, hash, 64, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, store__now());
    if ((e = store__step_done(st, s)) != DEPOT_OK)
        goto out;
    id = sqlite3_last_insert_rowid(st->db);
    snprintf(entity, sizeof entity, "token:%lld", (long long)id);
    if (!(d = cJSON_CreateObject()) || !cJSON_AddStringToObject(d, "name", name) ||
        !cJSON_AddStringToObject(d, "role", role) || !(detail = cJSON_PrintUnformatted(d))) {
        e = store__fail(st, DEPOT_E_NOMEM, "out of memory");
        goto out;
    }
    if ((e = store__audit(st, actor, "token.create", entity, detail)) != DEPOT_OK ||
        (e = store__commit(st)) != DEPOT_OK)
        goto out;
    if (id_out)
        *id_out = id;
out:
    if (e != DEPOT_OK) {
        store__rollback(st);
        mbedtls_platform_zeroize(token_out, DEPOT_TOKEN_LEN + 1);
    }
    cJSON_free(detail);
    cJSON_Delete(d);
    return e;
}

/* "dpt_" followed by 64 lowercase hex digits, nothing else. */
static int token_well_formed(const char *t)
{
    return strncmp(t, TOKEN_PREFIX, TOKEN_PREFIX_LEN) == 0 &&
           store__is_lower_hex(t + TOKEN_PREFIX_LEN, DEPOT_TOKEN_LEN - TOKEN_PREFIX_LEN);
}

depot_err depot_token_check(depot_store *st, const char *token, char role_out[16],
                            char name_out[65])
{
    char hash[65], role[16] = "", name[65] = "";
    int64_t id = 0, now = store__now();
    int stale = 0;
    sqlite3_stmt *s;

    store__clear_error(st);
    if (role_out)
        role_out[0] = '\0';
    if (name_out)
        name_out[0] = '\0';
    if (!token || !token_well_formed(token))
        return store__fail(st, DEPOT_E_NOT_FOUND, "unknown or revoked token");
    store__sha256_hex(token, hash);
    if (!(s = store__stmt(st, "SELECT id, role, last_used_at, name FROM api_tokens"
                              " WHERE token_hash = ?1 AND revoked_at IS NULL")))
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, hash, 64, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        id = sqlite3_column_int64(s, 0);
        snprintf(role, sizeof role, "%s", (const char *)sqlite3_column_text(s, 1));
        snprintf(name, sizeof name, "%s", (const char *)sqlite3_column_text(s, 3));
        stale = sqlite3_column_type(s, 2) == SQLITE_NULL ||
                now - sqlite3_column_int64(s, 2) >= TOKEN_LAST_USED_GRANULARITY;
    }
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return store__fail(st, DEPOT_E_NOT_FOUND, "unknown or revoked token");
    if (rc != SQLITE_ROW)
        return store__dberr(st, "read api_tokens");
    if (stale) {
        /* One statement, so its own transaction; it re-checks revocation, which may have
         * happened since the SELECT. */
        if (!(s = store__stmt(st, "UPDATE api_tokens SET last_used_at = ?2"
                                  " WHERE id = ?1 AND revoked_at IS NULL")))
            return DEPOT_E_DB;
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, now);
        depot_err e = store__step_done(st, s);
        if (e != DEPOT_OK)
            return e;
        if (sqlite3_changes(st->db) == 0)
            return store__fail(st, DEPOT_E_NOT_FOUND, "unknown or revoked token");
    }
    if (role_out)
        memcpy(role_out, role, sizeof role);
    if (name_out)
        memcpy(name_out, name, sizeof name);
    return DEPOT_OK;
}

depot_err depot_token_revoke(depot_store *st, int64_t id, const char *actor)
{
    char entity[32];
    depot_err e;
    sqlite3_stmt *s;

    store__clear_error(st);
    if ((e = store__begin(st)) != DEPOT_OK)
        return e;
    if (!(s = store__stmt(st, "SELECT revoked_at IS NOT NULL FROM api_tokens"
                              " WHERE id = ?1"))) {
        e = DEPOT_E_DB;
        goto out;
    }
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    int revoked = rc == SQLITE_ROW && sqlite3_column_int(s, 0);
    sqlite3_reset(s);
    if (rc == SQLITE_DONE) {
        e = store__fail(st, DEPOT_E_NOT_FOUND, "no token with id %lld", (long long)id);
        goto out;
    }
    if (rc != SQLITE_ROW) {
        e = store__dberr(st, "read api_tokens");
        goto out;
    }
    if (revoked) {
        e = store__fail(st, DEPOT_E_STATE, "token %lld is already revoked", (long long)id);
        goto out;
    }
    if (!(s = store__stmt(st, "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1"))) {
        e = DEPOT_E_DB;
        goto out;
    }
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, store__now());
    if ((e = store__step_done(st, s)) != DEPOT_OK)
        goto out;
    snprintf(entity, sizeof entity, "token:%lld", (long long)id);
    if ((e = store__audit(st, actor, "token.revoke", entity, "{}")) == DEPOT_OK)
        e = store__commit(st);
out:
    if (e != DEPOT_OK)
        store__rollback(st);
    return e;
}
