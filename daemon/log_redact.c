/* Redaction of log messages and fields: e-mail addresses, phone numbers, bearer and
 * platform tokens in text; whole values of fields whose key names sensitive data. */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include "log_redact.h"

static const char *const sensitive_words[] = {
    "secret", "token", "password", "passwd", "authorization", "cookie", "credential",
    "email", "phone", "address", "first_name", "last_name", "firstname", "lastname",
    "customer", "billing", "shipping_to", "ship_to", NULL,
};

int depot_log_key_is_sensitive(const char *key)
{
    char low[64];
    size_t n = 0;
    if (!key)
        return 0;
    for (; key[n] && n < sizeof low - 1; n++)
        low[n] = (char)tolower((unsigned char)key[n]);
    low[n] = '\0';
    for (int i = 0; sensitive_words[i]; i++)
        if (strstr(low, sensitive_words[i]))
            return 1;
    return 0;
}

static int is_email_local(int c)
{
    return isalnum(c) || (c && strchr("._%+-", c));
}

static int is_domain_char(int c)
{
    return isalnum(c) || c == '-' || c == '.';
}

/* Length of an e-mail address starting at s (s is at a word start), else 0. */
static size_t email_len(const char *s)
{
    size_t i = 0, dots = 0, at;
    while (is_email_local((unsigned char)s[i]))
        i++;
    if (i == 0 || s[i] != '@')
        return 0;
    at = ++i;
    while (is_domain_char((unsigned char)s[i]))
        dots += s[i++] == '.';
    while (i > at && (s[i - 1] == '.' || s[i - 1] == '-'))
        dots -= s[--i] == '.';
    return i > at && dots > 0 ? i : 0;
}

/* Length of "+<7..15 digits with separators>" at s, else 0. */
static size_t phone_len(const char *s)
{
    size_t i = 1, digits = 0, end = 0;
    if (s[0] != '+')
        return 0;
    for (; s[i]; i++) {
        if (isdigit((unsigned char)s[i])) {
            digits++;
            end = i + 1;
        } else if (!strchr(" .-()", s[i])) {
            break;
        }
    }
    return digits >= 7 && digits <= 15 ? end : 0;
}

static size_t token_chars(const char *s)
{
    size_t i = 0;
    while (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-' || s[i] == '.' ||
           s[i] == '~' || s[i] == '+' || s[i] == '/' || s[i] == '=')
        i++;
    return i;
}

/* Length of a secret-looking word at s (a token prefix followed by its value), else 0;
 * *keep is how much of it stays readable (the prefix). */
static size_t secret_len(const char *s, size_t *keep)
{
    static const char *const prefixes[] = {"shpat_", "shpca_", "shppa_", "shpss_", NULL};
    *keep = 0;
    if (strncasecmp(s, "Bearer ", 7) == 0 && token_chars(s + 7) > 0) {
        *keep = 7;
        return 7 + token_chars(s + 7);
    }
    for (int i = 0; prefixes[i]; i++)
        if (strncmp(s, prefixes[i], 6) == 0 && token_chars(s + 6) >= 8)
            return 6 + token_chars(s + 6);
    if ((strncmp(s, "ck_", 3) == 0 || strncmp(s, "cs_", 3) == 0)) {
        size_t n = 0;
        while (isxdigit((unsigned char)s[3 + n]))
            n++;
        if (n >= 32)
            return 3 + n;
    }
    return 0;
}

/* Appends n bytes of src to out at *len, keeping room for the NUL. */
static void put(char *out, size_t cap, size_t *len, const char *src, size_t n)
{
    if (*len + 1 >= cap)
        return;
    if (n > cap - 1 - *len)
        n = cap - 1 - *len;
    memcpy(out + *len, src, n);
    *len += n;
}

void depot_log_redact_text(const char *text, char *out, size_t cap)
{
    size_t len = 0, n, keep;
    if (cap == 0)
        return;
    for (size_t i = 0; text && text[i];) {
        int word_start = i == 0 || !(isalnum((unsigned char)text[i - 1]) ||
                                     strchr("._%+-@", text[i - 1]));
        if (word_start && (n = email_len(text + i))) {
            put(out, cap, &len, "[email]", 7);
            i += n;
        } else if (word_start && (n = phone_len(text + i))) {
            put(out, cap, &len, "[phone]", 7);
            i += n;
        } else if (word_start && (n = secret_len(text + i, &keep))) {
            put(out, cap, &len, text + i, keep);
            put(out, cap, &len, DEPOT_LOG_REDACTED, strlen(DEPOT_LOG_REDACTED));
            i += n;
        } else {
            put(out, cap, &len, text + i, 1);
            i++;
        }
    }
    out[len] = '\0';
}
