/* Users and API token tests: password hash format and checks, token lifecycle, and that
 * neither passwords nor tokens are stored or audited in plain text. */
#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include "testutil.h"

static struct test_db T;

static const char password[] = "correct horse battery staple";

/* The first column of the first row as a malloc'd string ("" if NULL, NULL on error). */
static char *sql_text(const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    char *v = NULL;
    if (sqlite3_open(T.path, &db) != SQLITE_OK)
        return NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW) {
            const char *t = (const char *)sqlite3_column_text(s, 0);
            v = strdup(t ? t : "");
        }
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return v;
}

static void pbkdf2(const char *pw, const uint8_t *salt, size_t salt_len, unsigned iter,
                   uint8_t out[32])
{
    mbedtls_md_context_t md;
    mbedtls_md_init(&md);
    CU_ASSERT_EQUAL_FATAL(mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                                           1), 0);
    CU_ASSERT_EQUAL(mbedtls_pkcs5_pbkdf2_hmac(&md, (const unsigned char *)pw, strlen(pw),
                                              salt, salt_len, iter, 32, out), 0);
    mbedtls_md_free(&md);
}

/* ---- users and passwords -------------------------------------------------------- */

/* "pbkdf2-sha256$210000$<16-byte salt b64>$<32-byte hash b64>", and the hash really is
 * PBKDF2-HMAC-SHA256 of the password with that salt and count. */
static void TEST_password_hash_has_documented_format(void)
{
    int64_t id = 0;
    uint8_t salt[32], dk[48], want[32];
    size_t salt_len, dk_len;
    char parts[4][128];
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL_FATAL(depot_user_add(T.st, "alice", "admin", password, "root", &id),
                          DEPOT_OK);
    CU_ASSERT_TRUE(id > 0);
    char *h = sql_text("SELECT password_hash FROM users WHERE name = 'alice'");
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_PTR_NULL(strstr(h, "horse"));
    CU_ASSERT_EQUAL_FATAL(sscanf(h, "%127[^$]$%127[^$]$%127[^$]$%127s", parts[0], parts[1],
                                 parts[2], parts[3]), 4);
    CU_ASSERT_STRING_EQUAL(parts[0], "pbkdf2-sha256");
    CU_ASSERT_STRING_EQUAL(parts[1], "210000");
    CU_ASSERT_EQUAL(mbedtls_base64_decode(salt, sizeof salt, &salt_len,
                                          (const unsigned char *)parts[2], strlen(parts[2])), 0);
    CU_ASSERT_EQUAL(salt_len, 16);
    CU_ASSERT_EQUAL(mbedtls_base64_decode(dk, sizeof dk, &dk_len,
                                          (const unsigned char *)parts[3], strlen(parts[3])), 0);
    CU_ASSERT_EQUAL_FATAL(dk_len, 32);
    pbkdf2(password, salt, salt_len, 210000, want);
    CU_ASSERT_EQUAL(memcmp(dk, want, 32), 0);
    free(h);

    /* Audited, without the password or its hash. */
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM audit WHERE action = 'user.add'"
                                     " AND entity = 'user:alice' AND actor = 'root'"
                                     " AND json_extract(detail, '$.role') = 'admin'"), 1);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM audit WHERE instr(detail, 'horse')"
                                     " OR instr(detail, 'pbkdf2')"), 0);
    test_db_close(&T);
}

static void TEST_password_check_accepts_only_the_right_password(void)
{
    char role[16] = "x";
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL_FATAL(depot_user_add(T.st, "alice", "supervisor", password, "root", NULL),
                          DEPOT_OK);
    CU_ASSERT_EQUAL(depot_user_check_password(T.st, "alice", password, role), DEPOT_OK);
    CU_ASSERT_STRING_EQUAL(role, "supervisor");
    CU_ASSERT_EQUAL(depot_user_check_password(T.st, "alice", "correct horse battery stapl",
                                              role), DEPOT_E_CRYPTO);
    CU_ASSERT_STRING_EQUAL(role, "");
    CU_ASSERT_EQUAL(depot_user_check_password(T.st, "bob", password, role),
                    DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(depot_user_check_password(T.st, "alice", NULL, role), DEPOT_E_INVALID);

    /* A disabled user is refused, but only the password's owner learns why. */
    CU_ASSERT_EQUAL_FATAL(test_sql(&T, "UPDATE users SET disabled = 1"), SQLITE_OK);
    CU_ASSERT_EQUAL(depot_user_check_password(T.st, "alice", password, role), DEPOT_E_STATE);
    CU_ASSERT_STRING_EQUAL(role, "");
    test_db_close(&T);
}

static void TEST_same_password_gets_different_salts(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL_FATAL(depot_user_add(T.st, "alice", "packer", password, "root", NULL),
                          DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_user_add(T.st, "bob", "packer", password, "root", NULL),
                          DEPOT_OK);
    char *a = sql_text("SELECT password_hash FROM users WHERE name = 'alice'");
    char *b = sql_text("SELECT password_hash FROM users WHERE name = 'bob'");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
    /* The salts themselves differ, not only the hashes. */
    CU_ASSERT_NOT_EQUAL(strncmp(a, b, strlen("pbkdf2-sha256$210000$") + 24), 0);
    free(a);
    free(b);
    test_db_close(&T);
}

/* The count is read from the stored hash (so it can change later) and bounded. */
static void TEST_stored_iteration_count_is_honoured_and_bounded(void)
{
    static const uint8_t salt[16] = "0123456789abcdef";
    uint8_t dk[32];
    char salt_b64[32], dk_b64[64];
    size_t n;
    char sql[512];
    char role[16];
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL_FATAL(depot_user_add(T.st, "alice", "admin", NULL, "root", NULL),
                          DEPOT_OK);
    pbkdf2("hunter2hunter2", salt, sizeof salt, 1000, dk);
    mbedtls_base64_encode((unsigned char *)salt_b64, sizeof salt_b64, &n, salt, sizeof salt);
    mbedtls_base64_encode((unsigned char *)dk_b64, sizeof dk_b64, &n, dk, sizeof dk);

    snprintf(sql, sizeof sql, "UPDATE users SET password_hash = 'pbkdf2-sha256$1000$%s$%s'",
             salt_b64, dk_b64);
    CU_ASSERT_EQUAL_FATAL(test_sql(&T, sql), SQLITE_OK);
    CU_ASSERT_EQUAL(depot_user_check_password(T.st, "alice", "hunter2hunter2", role),
                    DEPOT_OK);
    CU_ASSERT_EQUAL(depot_user_check_password(T.st, "alice", "hunter3hunter3", role),
                    DEPOT_E_CRYPTO);

    /* head, then the valid salt$hash (0), salt only (1) or $hash with no salt (2), tail */
    static const struct { const char *head; int body; const char *tail; } bad[] = {
        {"pbkdf2-sha256$999$", 0, ""},      {"pbkdf2-sha256$10000001$", 0, ""},
        {"pbkdf2-sha256$01000$", 0, ""},    {"pbkdf2-sha256$-1000$", 0, ""},
        {"pbkdf2-sha256$1000 $", 0, ""},    {"pbkdf2-sha1$1000$", 0, ""},
        {"pbkdf2-sha256$1000$", 1, ""},     {"pbkdf2-sha256$1000$", 2, ""},
        {"pbkdf2-sha256$1000$", 0, "=="},   {"pbkdf2-sha256$1000$", 0, "AAAA"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[128];
        if (bad[i].body == 0)
            snprintf(body, sizeof body, "%s$%s", salt_b64, dk_b64);
        else if (bad[i].body == 1)
            snprintf(body, sizeof body, "%s", salt_b64);
        else
            snprintf(body, sizeof body, "$%s", dk_b64);
        snprintf(sql, sizeof sql, "UPDATE users SET password_hash = '%s%s%s'", bad[i].head,
                 body, bad[i].tail);
        CU_ASSERT_EQUAL_FATAL(test_sql(&T, sql), SQLITE_OK);
        CU_ASSERT_EQUAL(depot_user_check_password(T.st, "alice", "hunter2hunter2", role),
                        DEPOT_E_SCHEMA);
    }
    test_db_close(&T);
}

static void TEST_user_without_password_cannot_log_in(void)
{
    char role[16];
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL_FATAL(depot_user_add(T.st, "scanner-1", "packer", NULL, "root", NULL),
                          DEPOT_OK);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT password_hash IS NULL FROM users"), 1);
    CU_ASSERT_EQUAL(depot_user_check_password(T.st, "scanner-1", "anything-at-all", role),
                    DEPOT_E_CRYPTO);
    CU_ASSERT_EQUAL(depot_user_check_password(T.st, "scanner-1", "", role), DEPOT_E_CRYPTO);
    test_db_close(&T);
}

static void TEST_user_add_validates_and_writes_nothing_on_error(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL_FATAL(depot_user_add(T.st, "alice", "packer", NULL, "root", NULL),
                          DEPOT_OK);
    CU_ASSERT_EQUAL(depot_user_add(T.st, "alice", "admin", NULL, "root", NULL),
                    DEPOT_E_CONFLICT);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(T.st), "user alice already exists"));
    CU_ASSERT_EQUAL(depot_user_add(T.st, "bob", "root", NULL, "root", NULL), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(depot_user_add(T.st, "bob", NULL, NULL, "root", NULL), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(depot_user_add(T.st, "", "packer", NULL, "root", NULL), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(depot_user_add(T.st, "bob ", "packer", NULL, "root", NULL),
                    DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(depot_user_add(T.st, "b\"ob", "packer", NULL, "root", NULL),
                    DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(depot_user_add(T.st, "bob", "packer", "short", "root", NULL),
                    DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM users"), 1);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM audit"), 1);
    test_db_close(&T);
}

/* ---- API tokens ----------------------------------------------------------------- */

static void TEST_token_create_check_revoke(void)
{
    char tok[DEPOT_TOKEN_LEN + 1], role[16] = "x";
    int64_t id = 0;
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL_FATAL(depot_token_create(T.st, "ci-bot", "supervisor", "root", tok, &id),
                          DEPOT_OK);
    CU_ASSERT_TRUE(id > 0);
    CU_ASSERT_EQUAL(strlen(tok), DEPOT_TOKEN_LEN);
    CU_ASSERT_EQUAL(strncmp(tok, "dpt_", 4), 0);
    CU_ASSERT_EQUAL(strspn(tok + 4, "0123456789abcdef"), 64);

    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT last_used_at IS NULL FROM api_tokens"), 1);
    CU_ASSERT_EQUAL(depot_token_check(T.st, tok, role, NULL), DEPOT_OK);
    CU_ASSERT_STRING_EQUAL(role, "supervisor");
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT last_used_at >= created_at FROM api_tokens"), 1);

    CU_ASSERT_EQUAL(depot_token_revoke(T.st, id, "root"), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_token_check(T.st, tok, role, NULL), DEPOT_E_NOT_FOUND);
    CU_ASSERT_STRING_EQUAL(role, "");
    CU_ASSERT_EQUAL(depot_token_revoke(T.st, id, "root"), DEPOT_E_STATE);
    CU_ASSERT_EQUAL(depot_token_revoke(T.st, id + 100, "root"), DEPOT_E_NOT_FOUND);

    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM audit WHERE action = 'token.create'"
                                     " AND json_extract(detail, '$.name') = 'ci-bot'"), 1);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM audit"
                                     " WHERE action = 'token.revoke'"), 1);
    test_db_close(&T);
}

/* Only SHA-256(token) is stored: not the token in any table, the audit log or the file. */
static void TEST_token_is_stored_only_as_its_hash(void)
{
    char tok[DEPOT_TOKEN_LEN + 1], tok2[DEPOT_TOKEN_LEN + 1], want[65], sql[512];
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL_FATAL(depot_token_create(T.st, "a", "admin", "root", tok, NULL), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_token_create(T.st, "a", "admin", "root", tok2, NULL),
                          DEPOT_OK);
    CU_ASSERT_STRING_NOT_EQUAL(tok, tok2);
    test_sha256_hex(tok, want);
    char *h = sql_text("SELECT token_hash FROM api_tokens ORDER BY id LIMIT 1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_STRING_EQUAL(h, want);
    free(h);
    snprintf(sql, sizeof sql, "SELECT (SELECT count(*) FROM api_tokens WHERE instr(name || "
             "token_hash, '%s')) + (SELECT count(*) FROM audit WHERE instr(detail || entity, "
             "'%s'))", tok + 4, tok + 4);
    CU_ASSERT_EQUAL(test_sql_int(&T, sql), 0);

    CU_ASSERT_EQUAL_FATAL(test_sql(&T, "PRAGMA wal_checkpoint(TRUNCATE)"), SQLITE_OK);
    FILE *f = fopen(T.path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    CU_ASSERT_TRUE(n > 0 && n < sizeof buf);
    CU_ASSERT_PTR_NULL(memmem(buf, n, tok + 4, 64));
    CU_ASSERT_PTR_NOT_NULL(memmem(buf, n, want, 64)); /* the scan does see the hash */
    test_db_close(&T);
}

static void TEST_malformed_tokens_are_not_found(void)
{
    char tok[DEPOT_TOKEN_LEN + 1], bad[DEPOT_TOKEN_LEN + 2], role[16];
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL_FATAL(depot_token_create(T.st, "a", "packer", "root", tok, NULL),
                          DEPOT_OK);
    CU_ASSERT_EQUAL(depot_token_check(T.st, "", role, NULL), DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(depot_token_check(T.st, "dpt_", role, NULL), DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(depot_token_check(T.st, NULL, role, NULL), DEPOT_E_NOT_FOUND);
    snprintf(bad, sizeof bad, "%s", tok);
    bad[4] = bad[4] == '0' ? '1' : '0'; /* well formed, but a different token */
    CU_ASSERT_EQUAL(depot_token_check(T.st, bad, role, NULL), DEPOT_E_NOT_FOUND);
    snprintf(bad, sizeof bad, "%s", tok);
    for (char *p = bad + 4; *p; p++) /* the same token with upper-case hex */
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    CU_ASSERT_EQUAL(depot_token_check(T.st, bad, role, NULL), DEPOT_E_NOT_FOUND);
    snprintf(bad, sizeof bad, "%sx", tok); /* too long */
    CU_ASSERT_EQUAL(depot_token_check(T.st, bad, role, NULL), DEPOT_E_NOT_FOUND);
    snprintf(bad, sizeof bad, "dpx_%s", tok + 4);
    CU_ASSERT_EQUAL(depot_token_check(T.st, bad, role, NULL), DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(depot_token_check(T.st, tok, role, NULL), DEPOT_OK);
    test_db_close(&T);
}

static void TEST_token_create_validates(void)
{
    char tok[DEPOT_TOKEN_LEN + 1] = "x";
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL(depot_token_create(T.st, "a", "owner", "root", tok, NULL),
                    DEPOT_E_INVALID);
    CU_ASSERT_STRING_EQUAL(tok, "");
    CU_ASSERT_EQUAL(depot_token_create(T.st, "", "admin", "root", tok, NULL), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM api_tokens"), 0);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM audit"), 0);
    test_db_close(&T);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"password hash has documented format", TEST_password_hash_has_documented_format},
        {"password check accepts only the right password",
         TEST_password_check_accepts_only_the_right_password},
        {"same password gets different salts", TEST_same_password_gets_different_salts},
        {"stored iteration count honoured and bounded",
         TEST_stored_iteration_count_is_honoured_and_bounded},
        {"user without password cannot log in", TEST_user_without_password_cannot_log_in},
        {"user add validates, writes nothing on error",
         TEST_user_add_validates_and_writes_nothing_on_error},
        {"token create/check/revoke", TEST_token_create_check_revoke},
        {"token stored only as its hash", TEST_token_is_stored_only_as_its_hash},
        {"malformed tokens are not found", TEST_malformed_tokens_are_not_found},
        {"token create validates", TEST_token_create_validates},
        {NULL, NULL},
    };
    return test_run("users", cases);
}
