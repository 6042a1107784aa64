/* Webhook signatures: base64(HMAC-SHA256(body, secret)) accepted; any changed byte of
 * body, secret or signature, a truncated or malformed signature refused. The expected
 * value was computed independently with openssl (command below). */
#include <string.h>
#include "testutil.h"
#include "webhooks.h"

/* printf -n '{"id":1}' | openssl dgst -sha256 -hmac secret -binary | base64 */
#define BODY "{\"id\":1}"
#define SIG "A971iWIMgT8Zj9A9eWfikrFj7wQ16/Qwcc4OlRl2PLc="

static void TEST_valid_signature_is_accepted(void)
{
    CU_ASSERT_TRUE(web_webhook_signature_ok("secret", BODY, strlen(BODY), SIG));
}

static void TEST_changed_body_secret_or_signature_is_refused(void)
{
    char body[] = BODY, sig[] = SIG;
    body[2] ^= 1;
    CU_ASSERT_FALSE(web_webhook_signature_ok("secret", body, strlen(body), SIG));
    CU_ASSERT_FALSE(web_webhook_signature_ok("secreT", BODY, strlen(BODY), SIG));
    for (size_t i = 0; i + 1 < strlen(SIG); i++) {
        memcpy(sig, SIG, sizeof sig);
        sig[i] = sig[i] == 'A' ? 'B' : 'A';
        CU_ASSERT_FALSE(web_webhook_signature_ok("secret", BODY, strlen(BODY), sig));
    }
}

static void TEST_malformed_signatures_are_refused(void)
{
    CU_ASSERT_FALSE(web_webhook_signature_ok("secret", BODY, strlen(BODY), NULL));
    CU_ASSERT_FALSE(web_webhook_signature_ok("secret", BODY, strlen(BODY), ""));
    CU_ASSERT_FALSE(web_webhook_signature_ok("secret", BODY, strlen(BODY), "A971iWIMgT8Z"));
    CU_ASSERT_FALSE(web_webhook_signature_ok("secret", BODY, strlen(BODY), "!!!not base64!!!"));
    CU_ASSERT_FALSE(web_webhook_signature_ok(NULL, BODY, strlen(BODY), SIG));
}

int main(void)
{
    static const struct test_case cases[] = {
        {"valid signature is accepted", TEST_valid_signature_is_accepted},
        {"changed body, secret or signature is refused",
         TEST_changed_body_secret_or_signature_is_refused},
        {"malformed signatures are refused", TEST_malformed_signatures_are_refused},
        {NULL, NULL},
    };
    return test_run("webhook_hmac", cases);
}
