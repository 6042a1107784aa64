/* The logs' safety net against leaking customer data and secrets: code must not log PII
 * or secrets in the first place; this catches what slips through. */
#ifndef DEPOT_LOG_REDACT_H
#define DEPOT_LOG_REDACT_H

#include <stddef.h>

#define DEPOT_LOG_REDACTED "[redacted]"

/* 1 if a field with this key may carry a secret or customer data (token, secret,
 * password, authorization, cookie, email, phone, address, first/last name, customer...),
 * whose value is then logged as DEPOT_LOG_REDACTED. Case-insensitive. */
int depot_log_key_is_sensitive(const char *key);

/* Copies text into out (cap bytes, always NUL-terminated, truncated if needed) with
 * e-mail addresses replaced by "[email]", international phone numbers (+ and 7..15
 * digits, spaces, dots, dashes, brackets between) by "[phone]", and the value after
 * "Bearer ", a Shopify access token (shpat_/shpca_/shppa_...) or a WooCommerce key
 * (ck_/cs_ + 40 hex) by DEPOT_LOG_REDACTED. */
void depot_log_redact_text(const char *text, char *out, size_t cap);

#endif
