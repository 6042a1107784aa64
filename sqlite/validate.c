/* Validation of identifiers and values that enter the store: codes, free text, roles and
 * GTIN check digits. Pure functions; the CSV import and every operation use them. */
#include <string.h>
#include "store_int.h"

int store__valid_code(const char *s, size_t maxlen)
{
    if (!s)
        return 0;
    size_t n = strlen(s);
    if (n == 0 || n > maxlen || s[0] == ' ' || s[n - 1] == ' ')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c >= 0x80 || c == ',' || c == '"')
            return 0;
    }
    return 1;
}

/* UTF-8 well-formedness, without overlongs or surrogates. */
static int valid_utf8(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        size_t len;
        unsigned cp;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; }
        else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; }
        else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; }
        else return 0;
        if (i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

int store__valid_text(const char *s, size_t maxlen)
{
    if (!s)
        return 0;
    size_t n = strlen(s);
    if (n == 0 || n > maxlen)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return valid_utf8((const unsigned char *)s, n);
}

int store__valid_role(const char *role)
{
    return role && (!strcmp(role, "packer") || !strcmp(role, "supervisor") ||
                    !strcmp(role, "admin"));
}

int store__valid_gtin(const char *s)
{
    if (!s)
        return 0;
    size_t n = strlen(s);
    if (n != 8 && n != 12 && n != 13 && n != 14)
        return 0;
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
    }
    /* GS1: weights 3,1,3,... from the digit left of the check digit. */
    for (size_t i = 0; i + 1 < n; i++) {
        int d = s[n - 2 - i] - '0';
        sum += (i % 2 == 0) ? 3 * d : d;
    }
    return (10 - sum % 10) % 10 == s[n - 1] - '0';
}
