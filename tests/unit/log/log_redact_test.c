/* Log redaction tests: e-mail addresses, phone numbers and tokens are scrubbed from
 * messages; sensitive field keys are recognised; ordinary text, order numbers, SKUs and
 * GTINs pass unchanged; output is always bounded and terminated. And through depot_log_kv
 * itself: what reaches stderr carries no PII. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"
#include "log.h"
#include "log_redact.h"

static void check(const char *in, const char *want)
{
    char out[512];
    depot_log_redact_text(in, out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, want);
    if (strcmp(out, want) != 0)
        fprintf(stderr, "\n  in:   %s\n  got:  %s\n  want: %s\n", in, out, want);
}

static void TEST_emails_are_replaced(void)
{
    check("customer jane.doe+shop@example.co.uk wrote", "customer [email] wrote");
    check("<bob@mail.example.com>.", "<[email]>.");
    check("a@b.c", "[email]");
    check("no at sign here", "no at sign here");
    check("user@localhost", "user@localhost"); /* no dot: not an address we can tell */
    check("trailing@example.com.", "[email].");
}

static void TEST_phone_numbers_are_replaced(void)
{
    check("call +1 (555) 010-9999 now", "call [phone] now");
    check("tel:+4930123456", "tel:[phone]");
    check("+49.30.1234.5678", "[phone]");
    check("+123 is short", "+123 is short");
    check("order 1234567890 shipped", "order 1234567890 shipped");
}

static void TEST_tokens_are_replaced(void)
{
    check("Authorization: Bearer eyJhbGciOi.abc-def_123",
          "Authorization: Bearer [redacted]");
    check("token shpat_0123456789abcdef0123 refused", "token [redacted] refused");
    check("key ck_0123456789abcdef0123456789abcdef01234567 bad", "key [redacted] bad");
    check("cs_ab is not a key", "cs_ab is not a key");
}

static void TEST_ordinary_text_is_unchanged(void)
{
    check("reserved order 42 (SKU MUG-1, GTIN 04006381333931) at MAIN/A-01",
          "reserved order 42 (SKU MUG-1, GTIN 04006381333931) at MAIN/A-01");
    check("", "");
}

static void TEST_output_is_bounded(void)
{
    char out[8];
    memset(out, 'x', sizeof out);
    depot_log_redact_text("a long message with mail x@example.com", out, sizeof out);
    CU_ASSERT_EQUAL(strlen(out), 7);
    depot_log_redact_text("x@example.com", out, 4);
    CU_ASSERT_STRING_EQUAL(out, "[em");
}

static void TEST_sensitive_keys(void)
{
    const char *yes[] = {"token", "webhook_secret", "Password", "authorization", "email",
                         "customer_email", "phone", "ship_to", "address1", "first_name",
                         "customer", NULL};
    const char *no[] = {"order_id", "sku", "channel", "request_id", "location", "status",
                        NULL};
    for (int i = 0; yes[i]; i++)
        CU_ASSERT_TRUE(depot_log_key_is_sensitive(yes[i]));
    for (int i = 0; no[i]; i++)
        CU_ASSERT_FALSE(depot_log_key_is_sensitive(no[i]));
    CU_ASSERT_FALSE(depot_log_key_is_sensitive(NULL));
}

/* The whole path: depot_log_kv's JSON line on stderr (redirected to a file). */
static void TEST_log_output_carries_no_pii(void)
{
    char path[] = "/tmp/depot-log-XXXXXX", line[4096] = "";
    int fd = mkstemp(path), saved = dup(STDERR_FILENO);
    CU_ASSERT_FATAL(fd >= 0 && saved >= 0);
    dup2(fd, STDERR_FILENO);
    depot_log_setup("test", DEPOT_LOG_INFO, DEPOT_LOG_FORMAT_JSON);
    depot_log_kv(DEPOT_LOG_INFO, "inbound",
                 DEPOT_KV({"order_id", "1001"}, {"email", "jane@example.com"},
                          {"note", "ring +44 20 7946 0958"}),
                 "order from %s", "jane@example.com");
    dup2(saved, STDERR_FILENO);
    close(saved);
    FILE *f = fdopen(fd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    rewind(f);
    size_t n = fread(line, 1, sizeof line - 1, f);
    line[n] = '\0';
    fclose(f);
    unlink(path);
    CU_ASSERT_PTR_NULL(strstr(line, "jane"));
    CU_ASSERT_PTR_NULL(strstr(line, "7946"));
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "\"order_id\":\"1001\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "\"email\":\"[redacted]\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "\"msg\":\"order from [email]\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "\"note\":\"ring [phone]\""));
}

int main(void)
{
    static const struct test_case cases[] = {
        {"e-mail addresses are replaced", TEST_emails_are_replaced},
        {"phone numbers are replaced", TEST_phone_numbers_are_replaced},
        {"tokens are replaced", TEST_tokens_are_replaced},
        {"ordinary text is unchanged", TEST_ordinary_text_is_unchanged},
        {"output is bounded", TEST_output_is_bounded},
        {"sensitive keys", TEST_sensitive_keys},
        {"log output carries no PII", TEST_log_output_carries_no_pii},
        {NULL, NULL},
    };
    return test_run("log_redact", cases);
}
