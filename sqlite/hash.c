/* Hex encoding and SHA-256 digests of secrets (API tokens, session tokens, badges): the
 * store keeps only these digests, never the secrets themselves. */
#include <string.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include "store_int.h"
#include "vault.h"

void store__hex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

void store__sha256_hex(const char *s, char out[65])
{
    uint8_t digest[32];
    mbedtls_sha256_ret((const unsigned char *)s, strlen(s), digest, 0);
    store__hex(digest, sizeof digest, out);
}

depot_err store__random_hex(char *out, size_t n)
{
    uint8_t raw[32];
    if (n > sizeof raw)
        return DEPOT_E_INVALID;
    depot_err e = depot_random_bytes(raw, n);
    if (e == DEPOT_OK)
        store__hex(raw, n, out);
    mbedtls_platform_zeroize(raw, sizeof raw);
    return e;
}

int store__is_lower_hex(const char *s, size_t len)
{
    if (strlen(s) != len)
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return 0;
    return 1;
}
