/* The vault: AES-256-GCM seal/open of secrets and the shared random-bytes helper. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <mbedtls/gcm.h>
#include <mbedtls/platform_util.h>
#include "vault.h"

/* Rationale: random bytes come from getrandom(2), not an mbedTLS CTR-DRBG. A DRBG is
 * state in user space: shared between the daemon's threads it needs a lock, and after a
 * fork() parent and child would hand out the same "random" nonces until reseeded — a
 * nonce reused under one GCM key breaks both confidentiality and authenticity. The
 * kernel's CSPRNG has neither problem, blocks only until it is seeded at boot, and
 * answers requests of up to 256 bytes in full. Nonces are random 96-bit values; NIST
 * SP 800-38D allows 2^32 seals per key that way, a count Depot will never approach. */
depot_err depot_random_bytes(void *buf, size_t n)
{
    uint8_t *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(p + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            mbedtls_platform_zeroize(buf, n);
            return DEPOT_E_CRYPTO;
        }
        got += (size_t)r;
    }
    return DEPOT_OK;
}

/* A GCM context keyed with the 256-bit key; the caller frees it (mbedtls_gcm_free wipes
 * the key schedule). */
static depot_err gcm_with_key(mbedtls_gcm_context *gcm, const uint8_t *key)
{
    mbedtls_gcm_init(gcm);
    if (mbedtls_gcm_setkey(gcm, MBEDTLS_CIPHER_ID_AES, key, DEPOT_MASTER_KEY_LEN * 8) != 0)
        return DEPOT_E_CRYPTO;
    return DEPOT_OK;
}

depot_err depot_vault_seal(const uint8_t key[DEPOT_MASTER_KEY_LEN], const char *aad,
                           const uint8_t *pt, size_t n, uint8_t **out, size_t *outn)
{
    mbedtls_gcm_context gcm;
    size_t aad_len = strlen(aad);
    uint8_t *buf;
    depot_err e;

    *out = NULL;
    *outn = 0;
    if (n > DEPOT_VAULT_MAX_PLAINTEXT)
        return DEPOT_E_INVALID;
    if (!(buf = malloc(n + DEPOT_VAULT_OVERHEAD)))
        return DEPOT_E_NOMEM;
    if ((e = depot_random_bytes(buf, DEPOT_VAULT_NONCE_LEN)) != DEPOT_OK) {
        free(buf);
        return e;
    }
    e = gcm_with_key(&gcm, key);
    if (e == DEPOT_OK &&
        mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, n, buf, DEPOT_VAULT_NONCE_LEN,
                                  (const unsigned char *)aad, aad_len,
                                  pt ? pt : (const uint8_t *)"", buf + DEPOT_VAULT_NONCE_LEN,
                                  DEPOT_VAULT_TAG_LEN,
                                  buf + DEPOT_VAULT_NONCE_LEN + n) != 0)
        e = DEPOT_E_CRYPTO;
    mbedtls_gcm_free(&gcm);
    if (e != DEPOT_OK) {
        /* The buffer may hold a partial encryption; wipe it like plaintext. */
        mbedtls_platform_zeroize(buf, n + DEPOT_VAULT_OVERHEAD);
        free(buf);
        return e;
    }
    *out = buf;
    *outn = n + DEPOT_VAULT_OVERHEAD;
    return DEPOT_OK;
}

depot_err depot_vault_open(const uint8_t key[DEPOT_MASTER_KEY_LEN], const char *aad,
                           const uint8_t *sealed, size_t n, uint8_t **out, size_t *outn)
{
    mbedtls_gcm_context gcm;
    size_t aad_len = strlen(aad), ct_len;
    uint8_t *buf;
    depot_err e;

    *out = NULL;
    *outn = 0;
    if (n < DEPOT_VAULT_OVERHEAD)
        return DEPOT_E_CRYPTO;
    ct_len = n - DEPOT_VAULT_OVERHEAD;
    if (!(buf = malloc(ct_len + 1)))
        return DEPOT_E_NOMEM;
    e = gcm_with_key(&gcm, key);
    if (e == DEPOT_OK &&
        mbedtls_gcm_auth_decrypt(&gcm, ct_len, sealed, DEPOT_VAULT_NONCE_LEN,
                                 (const unsigned char *)aad, aad_len,
                                 sealed + DEPOT_VAULT_NONCE_LEN + ct_len,
                                 DEPOT_VAULT_TAG_LEN, sealed + DEPOT_VAULT_NONCE_LEN,
                                 buf) != 0)
        e = DEPOT_E_CRYPTO;
    mbedtls_gcm_free(&gcm);
    if (e != DEPOT_OK) {
        /* Never let unauthenticated plaintext escape, not even in freed memory. */
        mbedtls_platform_zeroize(buf, ct_len + 1);
        free(buf);
        return e;
    }
    buf[ct_len] = '\0';
    *out = buf;
    *outn = ct_len;
    return DEPOT_OK;
}
