/* Vault and secrets tests: AES-GCM seal/open, tamper detection, and secrets that never
 * reach the database file or the audit log in plain text. */
#include <dirent.h>
#include "testutil.h"
#include "vault.h"

static struct test_db T;

static const uint8_t key_a[DEPOT_MASTER_KEY_LEN] = {
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e,
    0x1f, 0x20,
};
static const uint8_t key_b[DEPOT_MASTER_KEY_LEN] = { 0x01 }; /* differs from key_a */

static const char value[] = "shpat_0123456789abcdef-unique-needle";

/* 1 if needle occurs in any file of dir (the database, its WAL and shared memory). */
static int dir_contains(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    int found = 0;
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    while (!found && (ent = readdir(d))) {
        char path[512];
        if (ent->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        FILE *f = fopen(path, "rb");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        rewind(f);
        char *buf = malloc((size_t)n + 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
        CU_ASSERT_EQUAL(fread(buf, 1, (size_t)n, f), (size_t)n);
        fclose(f);
        found = memmem(buf, (size_t)n, needle, strlen(needle)) != NULL;
        free(buf);
    }
    closedir(d);
    return found;
}

static void seal(const uint8_t *key, const char *aad, const char *pt, uint8_t **out,
                 size_t *outn)
{
    CU_ASSERT_EQUAL_FATAL(depot_vault_seal(key, aad, (const uint8_t *)pt, strlen(pt), out,
                                           outn), DEPOT_OK);
}

static void TEST_seal_open_round_trip(void)
{
    uint8_t *sealed, *pt;
    size_t n, ptn;
    seal(key_a, "shopify.token", value, &sealed, &n);
    CU_ASSERT_EQUAL(n, strlen(value) + DEPOT_VAULT_OVERHEAD);
    CU_ASSERT_PTR_NULL(memmem(sealed, n, value, strlen(value)));
    CU_ASSERT_EQUAL_FATAL(depot_vault_open(key_a, "shopify.token", sealed, n, &pt, &ptn),
                          DEPOT_OK);
    CU_ASSERT_EQUAL(ptn, strlen(value));
    CU_ASSERT_STRING_EQUAL((char *)pt, value); /* also checks the NUL terminator */
    free(pt);
    free(sealed);

    /* The empty plaintext is sealed and authenticated too. */
    CU_ASSERT_EQUAL_FATAL(depot_vault_seal(key_a, "x", NULL, 0, &sealed, &n), DEPOT_OK);
    CU_ASSERT_EQUAL(n, DEPOT_VAULT_OVERHEAD);
    CU_ASSERT_EQUAL_FATAL(depot_vault_open(key_a, "x", sealed, n, &pt, &ptn), DEPOT_OK);
    CU_ASSERT_EQUAL(ptn, 0);
    CU_ASSERT_EQUAL(pt[0], '\0');
    free(pt);
    free(sealed);
}

static void TEST_same_plaintext_seals_differently(void)
{
    uint8_t *s1, *s2;
    size_t n1, n2;
    seal(key_a, "n", value, &s1, &n1);
    seal(key_a, "n", value, &s2, &n2);
    CU_ASSERT_EQUAL(n1, n2);
    CU_ASSERT_NOT_EQUAL(memcmp(s1, s2, DEPOT_VAULT_NONCE_LEN), 0); /* fresh nonce */
    CU_ASSERT_NOT_EQUAL(memcmp(s1, s2, n1), 0);
    free(s1);
    free(s2);
}

static void TEST_wrong_key_fails(void)
{
    uint8_t *sealed, *pt = (uint8_t *)"sentinel";
    size_t n, ptn = 99;
    seal(key_a, "n", value, &sealed, &n);
    CU_ASSERT_EQUAL(depot_vault_open(key_b, "n", sealed, n, &pt, &ptn), DEPOT_E_CRYPTO);
    CU_ASSERT_PTR_NULL(pt);
    CU_ASSERT_EQUAL(ptn, 0);
    free(sealed);
}

static void TEST_wrong_aad_fails(void)
{
    uint8_t *sealed, *pt;
    size_t n, ptn;
    seal(key_a, "shopify.token", value, &sealed, &n);
    CU_ASSERT_EQUAL(depot_vault_open(key_a, "shopify.token2", sealed, n, &pt, &ptn),
                    DEPOT_E_CRYPTO);
    CU_ASSERT_EQUAL(depot_vault_open(key_a, "", sealed, n, &pt, &ptn), DEPOT_E_CRYPTO);
    free(sealed);
}

/* One flipped bit anywhere — nonce, ciphertext or tag — is detected. */
static void TEST_flipped_bit_anywhere_fails(void)
{
    uint8_t *sealed, *pt;
    size_t n, ptn, caught = 0;
    seal(key_a, "n", value, &sealed, &n);
    for (size_t i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit++) {
            sealed[i] ^= (uint8_t)(1u << bit);
            if (depot_vault_open(key_a, "n", sealed, n, &pt, &ptn) == DEPOT_E_CRYPTO &&
                pt == NULL)
                caught++;
            else
                free(pt);
            sealed[i] ^= (uint8_t)(1u << bit);
        }
    }
    CU_ASSERT_EQUAL(caught, n * 8);
    /* And the untouched buffer still opens. */
    CU_ASSERT_EQUAL(depot_vault_open(key_a, "n", sealed, n, &pt, &ptn), DEPOT_OK);
    free(pt);
    free(sealed);
}

static void TEST_truncated_or_extended_input_fails(void)
{
    uint8_t *sealed, *pt, longer[128];
    size_t n, ptn;
    seal(key_a, "n", value, &sealed, &n);
    CU_ASSERT_EQUAL(depot_vault_open(key_a, "n", sealed, n - 1, &pt, &ptn), DEPOT_E_CRYPTO);
    CU_ASSERT_EQUAL(depot_vault_open(key_a, "n", sealed, DEPOT_VAULT_OVERHEAD - 1, &pt, &ptn),
                    DEPOT_E_CRYPTO);
    CU_ASSERT_EQUAL(depot_vault_open(key_a, "n", sealed, 0, &pt, &ptn), DEPOT_E_CRYPTO);
    CU_ASSERT_FATAL(n + 1 <= sizeof longer);
    memcpy(longer, sealed, n);
    longer[n] = 0;
    CU_ASSERT_EQUAL(depot_vault_open(key_a, "n", longer, n + 1, &pt, &ptn), DEPOT_E_CRYPTO);
    free(sealed);
}

static void TEST_oversized_plaintext_is_refused(void)
{
    uint8_t *sealed = (uint8_t *)"sentinel";
    size_t n = 99;
    static const uint8_t one = 0;
    /* The length is checked before pt is read, so a 1-byte buffer is enough here. */
    CU_ASSERT_EQUAL(depot_vault_seal(key_a, "n", &one, DEPOT_VAULT_MAX_PLAINTEXT + 1,
                                     &sealed, &n), DEPOT_E_INVALID);
    CU_ASSERT_PTR_NULL(sealed);
    CU_ASSERT_EQUAL(n, 0);
}

static void TEST_random_bytes_are_random(void)
{
    uint8_t a[32], b[32], zero[32] = { 0 };
    CU_ASSERT_EQUAL(depot_random_bytes(a, sizeof a), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_random_bytes(b, sizeof b), DEPOT_OK);
    CU_ASSERT_NOT_EQUAL(memcmp(a, b, sizeof a), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(a, zero, sizeof a), 0);
    CU_ASSERT_EQUAL(depot_random_bytes(a, 0), DEPOT_OK);
}

/* ---- secrets in the store ------------------------------------------------------- */

static depot_err put(const uint8_t *key, const char *name, const char *v)
{
    return depot_secret_put(T.st, key, name, (const uint8_t *)v, strlen(v), "tester");
}

static void TEST_secret_put_get_round_trip(void)
{
    uint8_t *v;
    size_t n;
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL_FATAL(put(key_a, "channel:1:token", value), DEPOT_OK);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT length(sealed) FROM secrets"),
                    (long long)(strlen(value) + DEPOT_VAULT_OVERHEAD));
    CU_ASSERT_EQUAL_FATAL(depot_secret_get(T.st, key_a, "channel:1:token", &v, &n), DEPOT_OK);
    CU_ASSERT_EQUAL(n, strlen(value));
    CU_ASSERT_STRING_EQUAL((char *)v, value);
    free(v);

    /* put again replaces (upsert), and both puts are audited. */
    CU_ASSERT_EQUAL_FATAL(put(key_a, "channel:1:token", "second"), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_secret_get(T.st, key_a, "channel:1:token", &v, &n), DEPOT_OK);
    CU_ASSERT_STRING_EQUAL((char *)v, "second");
    free(v);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM secrets"), 1);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM audit WHERE action = 'secret.put'"
                                     " AND entity = 'secret:channel:1:token'"
                                     " AND actor = 'tester'"), 2);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT json_extract(detail, '$.replaced') FROM audit"
                                     " ORDER BY id DESC LIMIT 1"), 1);

    CU_ASSERT_EQUAL(depot_secret_get(T.st, key_a, "nope", &v, &n), DEPOT_E_NOT_FOUND);
    CU_ASSERT_PTR_NULL(v);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(T.st), "nope"));
    test_db_close(&T);
}

static void TEST_secret_with_wrong_master_key_fails(void)
{
    uint8_t *v;
    size_t n;
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL_FATAL(put(key_a, "s", value), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_secret_get(T.st, key_b, "s", &v, &n), DEPOT_E_CRYPTO);
    CU_ASSERT_PTR_NULL(v);
    CU_ASSERT_PTR_NOT_NULL(strstr(depot_store_errmsg(T.st), "master key"));
    test_db_close(&T);
}

/* The name is the associated data: a row renamed, or a sealed value copied to another
 * name, in the database does not decrypt. */
static void TEST_secret_moved_to_another_name_fails(void)
{
    uint8_t *v;
    size_t n;
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL_FATAL(put(key_a, "shop-a.token", value), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(put(key_a, "shop-b.token", "other"), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(test_sql(&T, "UPDATE secrets SET name = 'shop-c.token'"
                                       " WHERE name = 'shop-a.token'"), SQLITE_OK);
    CU_ASSERT_EQUAL(depot_secret_get(T.st, key_a, "shop-c.token", &v, &n), DEPOT_E_CRYPTO);
    CU_ASSERT_PTR_NULL(v);
    CU_ASSERT_EQUAL_FATAL(test_sql(&T, "UPDATE secrets SET sealed = (SELECT sealed FROM"
                                       " secrets WHERE name = 'shop-c.token')"
                                       " WHERE name = 'shop-b.token'"), SQLITE_OK);
    CU_ASSERT_EQUAL(depot_secret_get(T.st, key_a, "shop-b.token", &v, &n), DEPOT_E_CRYPTO);
    CU_ASSERT_PTR_NULL(v);
    test_db_close(&T);
}

/* Flips one bit of the stored sealed value of name, through a raw connection. */
static void flip_stored_bit(const char *name, size_t byte)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    uint8_t buf[256];
    int n = 0;
    CU_ASSERT_EQUAL_FATAL(sqlite3_open(T.path, &db), SQLITE_OK);
    CU_ASSERT_EQUAL_FATAL(sqlite3_prepare_v2(db, "SELECT sealed FROM secrets WHERE name = ?1",
                                             -1, &s, NULL), SQLITE_OK);
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW && (n = sqlite3_column_bytes(s, 0)) <= (int)sizeof buf)
        memcpy(buf, sqlite3_column_blob(s, 0), (size_t)n);
    sqlite3_finalize(s);
    CU_ASSERT_FATAL(n > 0 && n <= (int)sizeof buf && byte < (size_t)n);
    buf[byte] ^= 0x01;
    CU_ASSERT_EQUAL_FATAL(sqlite3_prepare_v2(db, "UPDATE secrets SET sealed = ?2 WHERE name = ?1",
                                             -1, &s, NULL), SQLITE_OK);
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, buf, n, SQLITE_STATIC);
    CU_ASSERT_EQUAL(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static void TEST_tampered_secret_row_fails(void)
{
    uint8_t *v;
    size_t n;
    const size_t where[] = { 0, DEPOT_VAULT_NONCE_LEN, strlen(value) + DEPOT_VAULT_OVERHEAD - 1 };
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        CU_ASSERT_EQUAL_FATAL(put(key_a, "s", value), DEPOT_OK);
        flip_stored_bit("s", where[i]); /* nonce, ciphertext, tag */
        CU_ASSERT_EQUAL(depot_secret_get(T.st, key_a, "s", &v, &n), DEPOT_E_CRYPTO);
        CU_ASSERT_PTR_NULL(v);
    }
    test_db_close(&T);
}

/* The value must not appear in the database file, its WAL, or the audit log. */
static void TEST_secret_value_is_never_stored_in_plain_text(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL_FATAL(put(key_a, "carrier:fedex:client_secret", value), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(put(key_a, "carrier:fedex:client_secret", value), DEPOT_OK);
    CU_ASSERT_FALSE(dir_contains(T.dir, value)); /* in the WAL, before a checkpoint */
    CU_ASSERT_EQUAL_FATAL(test_sql(&T, "PRAGMA wal_checkpoint(TRUNCATE)"), SQLITE_OK);
    CU_ASSERT_FALSE(dir_contains(T.dir, value)); /* in the main file */
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM audit"), 2);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM audit WHERE instr(detail, 'shpat')"
                                     " OR instr(entity, 'shpat') OR instr(actor, 'shpat')"), 0);
    depot_store_close(T.st);
    T.st = NULL;
    CU_ASSERT_FALSE(dir_contains(T.dir, value)); /* after the final checkpoint on close */
    test_db_close(&T);
}

static void TEST_secret_put_validates_and_writes_nothing_on_error(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL(put(key_a, "", value), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(put(key_a, " padded", value), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(put(key_a, "s", ""), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(depot_secret_put(T.st, key_a, "s", NULL, 3, "t"), DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM secrets"), 0);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM audit"), 0);
    test_db_close(&T);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"seal/open round trip", TEST_seal_open_round_trip},
        {"same plaintext seals differently", TEST_same_plaintext_seals_differently},
        {"wrong key fails", TEST_wrong_key_fails},
        {"wrong associated data fails", TEST_wrong_aad_fails},
        {"flipped bit in nonce/ciphertext/tag fails", TEST_flipped_bit_anywhere_fails},
        {"truncated or extended input fails", TEST_truncated_or_extended_input_fails},
        {"oversized plaintext is refused", TEST_oversized_plaintext_is_refused},
        {"random bytes are random", TEST_random_bytes_are_random},
        {"secret put/get round trip, audited", TEST_secret_put_get_round_trip},
        {"secret with wrong master key fails", TEST_secret_with_wrong_master_key_fails},
        {"secret moved to another name fails", TEST_secret_moved_to_another_name_fails},
        {"tampered secret row fails", TEST_tampered_secret_row_fails},
        {"secret value never stored in plain text",
         TEST_secret_value_is_never_stored_in_plain_text},
        {"secret put validates, writes nothing on error",
         TEST_secret_put_validates_and_writes_nothing_on_error},
        {NULL, NULL},
    };
    return test_run("vault", cases);
}
