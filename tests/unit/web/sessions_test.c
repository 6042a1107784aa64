/* Session and badge tests on a real database: create, look up, expire, log out, disabled
 * users; badge issue and check; only hashes are stored and nothing secret is audited. */
#include <ctype.h>
#include "testutil.h"

static struct test_db T;

static int is_lower_hex(const char *s, size_t len)
{
    if (strlen(s) != len)
        return 0;
    for (; *s; s++)
        if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
            return 0;
    return 1;
}

/* How many rows of the database's text mention needle anywhere a secret could leak. */
static long long mentions(const char *needle)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT count(*) FROM audit WHERE instr(actor || entity || detail, '%s'))"
             " + (SELECT count(*) FROM sessions WHERE instr(token_hash || csrf_token, '%s'))"
             " + (SELECT count(*) FROM users WHERE instr(coalesce(badge_hash, ''), '%s'))",
             needle, needle, needle);
    return test_sql_int(&T, sql);
}

static void open_with_users(void)
{
    CU_ASSERT_EQUAL_FATAL(test_db_open(&T), 0);
    CU_ASSERT_EQUAL_FATAL(depot_user_add(T.st, "alice", "supervisor", NULL, "root", NULL),
                          DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_user_add(T.st, "bob", "packer", NULL, "root", NULL), DEPOT_OK);
}

/* ---- sessions ------------------------------------------------------------------- */

static void TEST_session_create_and_lookup(void)
{
    char token[DEPOT_SESSION_TOKEN_LEN + 1], hash[65], sql[256];
    struct depot_session s, found;
    open_with_users();
    time_t before = time(NULL);
    CU_ASSERT_EQUAL_FATAL(depot_session_create(T.st, "alice", 3600, "password", "192.0.2.7",
                                               token, &s), DEPOT_OK);
    CU_ASSERT_TRUE(is_lower_hex(token, DEPOT_SESSION_TOKEN_LEN));
    CU_ASSERT_TRUE(is_lower_hex(s.csrf, DEPOT_CSRF_TOKEN_LEN));
    CU_ASSERT_STRING_NOT_EQUAL(token, s.csrf);
    CU_ASSERT_STRING_EQUAL(s.user, "alice");
    CU_ASSERT_STRING_EQUAL(s.role, "supervisor");
    CU_ASSERT_TRUE(s.id > 0 && s.user_id > 0);
    CU_ASSERT_TRUE(s.expires_at >= before + 3600 && s.expires_at <= time(NULL) + 3600);

    CU_ASSERT_EQUAL(depot_session_lookup(T.st, token, &found), DEPOT_OK);
    CU_ASSERT_EQUAL(found.id, s.id);
    CU_ASSERT_EQUAL(found.user_id, s.user_id);
    CU_ASSERT_STRING_EQUAL(found.user, "alice");
    CU_ASSERT_STRING_EQUAL(found.role, "supervisor");
    CU_ASSERT_STRING_EQUAL(found.csrf, s.csrf);
    CU_ASSERT_EQUAL(found.expires_at, s.expires_at);

    /* Only the SHA-256 of the token is stored; the audit row names neither. */
    test_sha256_hex(token, hash);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM sessions WHERE token_hash = '%s'", hash);
    CU_ASSERT_EQUAL(test_sql_int(&T, sql), 1);
    CU_ASSERT_EQUAL(mentions(token), 0);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM audit WHERE action ="
                                      " 'session.create' AND actor = 'user:alice'"
                                      " AND json_extract(detail, '$.via') = 'password'"
                                      " AND json_extract(detail, '$.peer') = '192.0.2.7'"), 1);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM audit WHERE instr(detail, '%s')", hash);
    CU_ASSERT_EQUAL(test_sql_int(&T, sql), 0);
    test_db_close(&T);
}

static void TEST_session_lookup_refuses_unknown_and_malformed(void)
{
    char token[DEPOT_SESSION_TOKEN_LEN + 1], hash[65], upper[DEPOT_SESSION_TOKEN_LEN + 1];
    struct depot_session s, found;
    open_with_users();
    CU_ASSERT_EQUAL_FATAL(depot_session_create(T.st, "bob", 60, "badge", NULL, token, &s),
                          DEPOT_OK);
    test_sha256_hex(token, hash);
    CU_ASSERT_EQUAL(depot_session_lookup(T.st, hash, &found), DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(found.id, 0);
    CU_ASSERT_EQUAL(depot_session_lookup(T.st, "", &found), DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(depot_session_lookup(T.st, NULL, &found), DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(depot_session_lookup(T.st, "' OR 1=1 --", &found), DEPOT_E_NOT_FOUND);
    for (size_t i = 0; i <= DEPOT_SESSION_TOKEN_LEN; i++)
        upper[i] = (char)toupper((unsigned char)token[i]);
    if (strcmp(upper, token) != 0)
        CU_ASSERT_EQUAL(depot_session_lookup(T.st, upper, &found), DEPOT_E_NOT_FOUND);
    token[DEPOT_SESSION_TOKEN_LEN - 1] = '\0';
    CU_ASSERT_EQUAL(depot_session_lookup(T.st, token, &found), DEPOT_E_NOT_FOUND);
    test_db_close(&T);
}

static void TEST_session_create_refuses_unknown_disabled_and_bad_ttl(void)
{
    char token[DEPOT_SESSION_TOKEN_LEN + 1];
    struct depot_session s;
    open_with_users();
    CU_ASSERT_EQUAL(depot_session_create(T.st, "carol", 60, "password", NULL, token, &s),
                    DEPOT_E_NOT_FOUND);
    CU_ASSERT_STRING_EQUAL(token, "");
    CU_ASSERT_EQUAL(depot_session_create(T.st, "alice", 0, "password", NULL, token, &s),
                    DEPOT_E_INVALID);
    CU_ASSERT_EQUAL(test_sql(&T, "UPDATE users SET disabled = 1 WHERE name = 'alice'"),
                    SQLITE_OK);
    CU_ASSERT_EQUAL(depot_session_create(T.st, "alice", 60, "password", NULL, token, &s),
                    DEPOT_E_STATE);
    CU_ASSERT_STRING_EQUAL(token, "");
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM sessions"), 0);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM audit"
                                      " WHERE action = 'session.create'"), 0);
    test_db_close(&T);
}

static void TEST_session_expires_and_is_purged(void)
{
    char t1[DEPOT_SESSION_TOKEN_LEN + 1], t2[DEPOT_SESSION_TOKEN_LEN + 1];
    struct depot_session s1, s2, found;
    int n = -1;
    open_with_users();
    CU_ASSERT_EQUAL_FATAL(depot_session_create(T.st, "alice", 60, "password", NULL, t1, &s1),
                          DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_session_create(T.st, "bob", 60, "badge", NULL, t2, &s2),
                          DEPOT_OK);
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE sessions SET expires_at = %lld WHERE id = %lld",
             (long long)time(NULL), (long long)s1.id);
    CU_ASSERT_EQUAL(test_sql(&T, sql), SQLITE_OK);
    CU_ASSERT_EQUAL(depot_session_lookup(T.st, t1, &found), DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(depot_session_lookup(T.st, t2, &found), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_sessions_purge(T.st, time(NULL), &n), DEPOT_OK);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM sessions"), 1);
    CU_ASSERT_EQUAL(depot_sessions_purge(T.st, time(NULL) + 61, &n), DEPOT_OK);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(depot_session_lookup(T.st, t2, &found), DEPOT_E_NOT_FOUND);
    test_db_close(&T);
}

static void TEST_logout_ends_only_that_session(void)
{
    char t1[DEPOT_SESSION_TOKEN_LEN + 1], t2[DEPOT_SESSION_TOKEN_LEN + 1];
    struct depot_session s1, s2, found;
    open_with_users();
    CU_ASSERT_EQUAL_FATAL(depot_session_create(T.st, "alice", 600, "password", NULL, t1, &s1),
                          DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_session_create(T.st, "alice", 600, "password", NULL, t2, &s2),
                          DEPOT_OK);
    CU_ASSERT_STRING_NOT_EQUAL(t1, t2);
    CU_ASSERT_STRING_NOT_EQUAL(s1.csrf, s2.csrf);
    CU_ASSERT_EQUAL(depot_session_delete(T.st, s1.id, "user:alice"), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_session_lookup(T.st, t1, &found), DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(depot_session_lookup(T.st, t2, &found), DEPOT_OK);
    CU_ASSERT_EQUAL(depot_session_delete(T.st, s1.id, "user:alice"), DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM audit WHERE action ="
                                      " 'session.delete' AND actor = 'user:alice'"), 1);
    CU_ASSERT_EQUAL(mentions(t1), 0);
    CU_ASSERT_EQUAL(mentions(t2), 0);
    cJSON *problems = NULL;
    CU_ASSERT_EQUAL(depot_store_verify(T.st, &problems), DEPOT_OK);
    cJSON_Delete(problems);
    test_db_close(&T);
}

static void TEST_disabled_users_sessions_stop_working(void)
{
    char token[DEPOT_SESSION_TOKEN_LEN + 1];
    struct depot_session s, found;
    open_with_users();
    CU_ASSERT_EQUAL_FATAL(depot_session_create(T.st, "bob", 600, "badge", NULL, token, &s),
                          DEPOT_OK);
    CU_ASSERT_EQUAL(test_sql(&T, "UPDATE users SET disabled = 1 WHERE name = 'bob'"),
                    SQLITE_OK);
    CU_ASSERT_EQUAL(depot_session_lookup(T.st, token, &found), DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(test_sql(&T, "UPDATE users SET disabled = 0 WHERE name = 'bob'"),
                    SQLITE_OK);
    CU_ASSERT_EQUAL(depot_session_lookup(T.st, token, &found), DEPOT_OK);
    test_db_close(&T);
}

/* ---- badges --------------------------------------------------------------------- */

static int badge_well_formed(const char *b)
{
    if (strlen(b) != DEPOT_BADGE_LEN || strncmp(b, "BADGE-", 6) != 0)
        return 0;
    for (b += 6; *b; b++)
        if (!((*b >= 'A' && *b <= 'Z') || (*b >= '2' && *b <= '7')))
            return 0;
    return 1;
}

static void TEST_badge_issue_stores_only_its_hash(void)
{
    char badge[DEPOT_BADGE_LEN + 1], hash[65], sql[256], name[DEPOT_USER_NAME_MAX + 1],
        role[16];
    open_with_users();
    CU_ASSERT_EQUAL_FATAL(depot_user_badge_issue(T.st, "bob", "user:admin", badge), DEPOT_OK);
    CU_ASSERT_TRUE(badge_well_formed(badge));
    test_sha256_hex(badge, hash);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM users WHERE name = 'bob' AND"
                              " badge_hash = '%s'", hash);
    CU_ASSERT_EQUAL(test_sql_int(&T, sql), 1);
    CU_ASSERT_EQUAL(mentions(badge), 0);
    CU_ASSERT_EQUAL(mentions(badge + 6), 0);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM audit WHERE action = 'badge.issue'"
                                      " AND entity = 'user:bob' AND actor = 'user:admin'"
                                      " AND json_extract(detail, '$.replaced') = 0"), 1);
    CU_ASSERT_EQUAL(depot_user_check_badge(T.st, badge, name, role), DEPOT_OK);
    CU_ASSERT_STRING_EQUAL(name, "bob");
    CU_ASSERT_STRING_EQUAL(role, "packer");
    test_db_close(&T);
}

/* What keyboard-wedge scanners deliver: a trailing CR/LF, caps lock inverted case. */
static void TEST_badge_check_accepts_scanner_input(void)
{
    char badge[DEPOT_BADGE_LEN + 1], scanned[64], name[DEPOT_USER_NAME_MAX + 1], role[16];
    open_with_users();
    CU_ASSERT_EQUAL_FATAL(depot_user_badge_issue(T.st, "alice", "root", badge), DEPOT_OK);
    snprintf(scanned, sizeof scanned, "  %s\r\n", badge);
    CU_ASSERT_EQUAL(depot_user_check_badge(T.st, scanned, name, role), DEPOT_OK);
    CU_ASSERT_STRING_EQUAL(name, "alice");
    for (char *p = scanned; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    CU_ASSERT_EQUAL(depot_user_check_badge(T.st, scanned, name, role), DEPOT_OK);
    CU_ASSERT_STRING_EQUAL(role, "supervisor");
    test_db_close(&T);
}

static void TEST_badge_check_refuses_unknown_malformed_replaced_disabled(void)
{
    char b1[DEPOT_BADGE_LEN + 1], b2[DEPOT_BADGE_LEN + 1], name[DEPOT_USER_NAME_MAX + 1],
        role[16];
    open_with_users();
    CU_ASSERT_EQUAL(depot_user_check_badge(T.st, "BADGE-AAAAAAAAAAAAAAAAAAAAAAAA", name, role),
                    DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(depot_user_check_badge(T.st, "", name, role), DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(depot_user_check_badge(T.st, "BADGE-", name, role), DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(depot_user_check_badge(T.st, "BADGE-AAAAAAAAAAAAAAAAAAAAAAA1", name, role),
                    DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(depot_user_badge_issue(T.st, "nobody", "root", b1), DEPOT_E_NOT_FOUND);
    CU_ASSERT_STRING_EQUAL(b1, "");

    CU_ASSERT_EQUAL_FATAL(depot_user_badge_issue(T.st, "bob", "root", b1), DEPOT_OK);
    CU_ASSERT_EQUAL_FATAL(depot_user_badge_issue(T.st, "bob", "root", b2), DEPOT_OK);
    CU_ASSERT_STRING_NOT_EQUAL(b1, b2);
    CU_ASSERT_EQUAL(depot_user_check_badge(T.st, b1, name, role), DEPOT_E_NOT_FOUND);
    CU_ASSERT_EQUAL(depot_user_check_badge(T.st, b2, name, role), DEPOT_OK);
    CU_ASSERT_EQUAL(test_sql_int(&T, "SELECT count(*) FROM audit WHERE action = 'badge.issue'"
                                      " AND json_extract(detail, '$.replaced') = 1"), 1);

    CU_ASSERT_EQUAL(test_sql(&T, "UPDATE users SET disabled = 1 WHERE name = 'bob'"),
                    SQLITE_OK);
    CU_ASSERT_EQUAL(depot_user_check_badge(T.st, b2, name, role), DEPOT_E_STATE);
    CU_ASSERT_STRING_EQUAL(name, "");
    CU_ASSERT_STRING_EQUAL(role, "");
    test_db_close(&T);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"session create and lookup", TEST_session_create_and_lookup},
        {"session lookup refuses unknown and malformed",
         TEST_session_lookup_refuses_unknown_and_malformed},
        {"session create refuses unknown, disabled, bad ttl",
         TEST_session_create_refuses_unknown_disabled_and_bad_ttl},
        {"session expires and is purged", TEST_session_expires_and_is_purged},
        {"logout ends only that session", TEST_logout_ends_only_that_session},
        {"a disabled user's sessions stop working", TEST_disabled_users_sessions_stop_working},
        {"badge issue stores only its hash", TEST_badge_issue_stores_only_its_hash},
        {"badge check accepts scanner input", TEST_badge_check_accepts_scanner_input},
        {"badge check refuses unknown, malformed, replaced, disabled",
         TEST_badge_check_refuses_unknown_malformed_replaced_disabled},
        {NULL, NULL},
    };
    return test_run("sessions", cases);
}
