/* The vault: AES-256-GCM sealing of secrets under the master key, and the program's one
 * source of cryptographically secure random bytes. Pure functions, no database. */
#ifndef DEPOT_VAULT_H
#define DEPOT_VAULT_H

#include <stddef.h>
#include <stdint.h>
#include "store.h"

#define DEPOT_VAULT_NONCE_LEN 12
#define DEPOT_VAULT_TAG_LEN 16
/* A sealed value is nonce || ciphertext || tag: the plaintext plus this many bytes. */
#define DEPOT_VAULT_OVERHEAD (DEPOT_VAULT_NONCE_LEN + DEPOT_VAULT_TAG_LEN)
/* Largest plaintext depot_vault_seal accepts (secrets are tokens and keys, not files). */
#define DEPOT_VAULT_MAX_PLAINTEXT (1024 * 1024)

/* Fills buf with n bytes from the kernel's CSPRNG. Thread- and fork-safe. DEPOT_OK, or
 * DEPOT_E_CRYPTO if the kernel refuses (buf is then zeroed). */
depot_err depot_random_bytes(void *buf, size_t n);

/* Encrypts pt (n bytes, 0..DEPOT_VAULT_MAX_PLAINTEXT; pt may be NULL when n is 0) under
 * key with a fresh random nonce, binding aad (a NUL-terminated string, e.g. the secret's
 * name) as associated data. On DEPOT_OK *out is a malloc'd buffer of *outn = n +
 * DEPOT_VAULT_OVERHEAD bytes that the caller frees; on error *out is NULL and *outn 0.
 * Errors: DEPOT_E_INVALID (too long), DEPOT_E_NOMEM, DEPOT_E_CRYPTO (RNG or cipher). */
depot_err depot_vault_seal(const uint8_t key[DEPOT_MASTER_KEY_LEN], const char *aad,
                           const uint8_t *pt, size_t n, uint8_t **out, size_t *outn);

/* Authenticates and decrypts a sealed buffer of n bytes made by depot_vault_seal with the
 * same key and aad. On DEPOT_OK *out is a malloc'd buffer holding *outn plaintext bytes
 * followed by a NUL (not counted); the caller should wipe it before freeing. On error
 * *out is NULL and *outn 0: DEPOT_E_CRYPTO if the key or aad is wrong, the buffer was
 * altered or is too short; DEPOT_E_NOMEM. */
depot_err depot_vault_open(const uint8_t key[DEPOT_MASTER_KEY_LEN], const char *aad,
                           const uint8_t *sealed, size_t n, uint8_t **out, size_t *outn);

#endif
