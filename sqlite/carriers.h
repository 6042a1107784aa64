/* Store API for carriers and OAuth: carrier accounts with their credentials sealed in the
 * vault, the encrypted token cache shared by carriers and channels (with the lease that
 * makes a token refresh single-flight across threads and processes), OAuth app
 * credentials, and the single-use nonces of the Shopify install and WooCommerce key
 * flows. Every mutating call is one transaction; no call returns or logs a secret
 * except the explicit credential/token readers, whose results the caller must wipe. */
#ifndef DEPOT_CARRIERS_H
#define DEPOT_CARRIERS_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "store.h"

/* ---- Carrier accounts ------------------------------------------------------------- */

#define DEPOT_CARRIER_NAME_MAX 64
#define DEPOT_CARRIER_URL_MAX 512
#define DEPOT_CARRIER_ACCOUNT_MAX 64
/* Bounds of the config's "timeout_ms" (one call to the carrier; default 20000). */
#define DEPOT_CARRIER_TIMEOUT_MIN_MS 1000
#define DEPOT_CARRIER_TIMEOUT_MAX_MS 120000

struct depot_carrier {
    int64_t id;
    char kind[8];                               /* "fedex", "ups" or "dhl" */
    char name[DEPOT_CARRIER_NAME_MAX + 1];
    char account[DEPOT_CARRIER_ACCOUNT_MAX + 1]; /* "" if none */
    char api_base[DEPOT_CARRIER_URL_MAX + 1];    /* "" = the carrier's production host */
    char token_url[DEPOT_CARRIER_URL_MAX + 1];   /* "" = derived from api_base */
    char config[1024];                           /* JSON object (shipper address, ...) */
    int enabled;
};

/* What `carrier add` stores. client_id/client_secret are required; username/password
 * only for DHL Parcel DE (its password grant); config_json may be NULL (an object with
 * at most "shipper", "service", "profile", "billing_number", "timeout_ms" and
 * "api_version" -- UPS's pinned Shipping API version, default CARRIER_UPS_API_VERSION). */
struct depot_carrier_in {
    const char *kind, *name, *account, *api_base, *token_url, *config_json;
    const char *client_id, *client_secret, *username, *password;
};

/* Adds a carrier, or replaces the account/URLs/credentials of the one with that name
 * (rotating secrets; the cached token is dropped). name NULL = kind. Credentials are
 * sealed under "carrier/<id>/<field>". Audited as CHANNEL_CONNECTED without secrets. */
depot_err depot_carrier_add(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                            const struct depot_carrier_in *in, const char *actor,
                            int64_t *id_out);
/* By name, or by id. DEPOT_E_NOT_FOUND if unknown. */
depot_err depot_carrier_find(depot_store *st, const char *name, struct depot_carrier *out);
depot_err depot_carrier_get(depot_store *st, int64_t id, struct depot_carrier *out);
/* {"items":[{"id","kind","name","account","api_base","token_url","enabled","created_at",
 * "credentials":["client_id",...],"token":{"expires_at":n|null}|null}]} -- never values. */
depot_err depot_carrier_list_json(depot_store *st, cJSON **out);
/* Decrypts "client_id", "client_secret", "username" or "password" of a carrier into a
 * malloc'd string the caller wipes and frees. DEPOT_E_NOT_FOUND if it has none. */
depot_err depot_carrier_credential(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                                   int64_t carrier_id, const char *field, char **value);

/* ---- Token cache ------------------------------------------------------------------ */

/* Owners are "carrier:<id>" or "channel:<id>"; their tokens live in the vault under
 * "carrier/<id>/token" and "channel/<id>/token" (+ "/refresh_token"). */
#define DEPOT_TOKEN_OWNER_MAX 40

struct depot_token_state {
    int have;                /* a token is cached */
    int64_t expires_at;      /* unix seconds; 0 = does not expire */
    int64_t refreshed_at;    /* unix seconds the token was stored */
    int64_t lease_until_ms;  /* a refresh is in flight until then (unix ms) */
    int64_t failed_at_ms;    /* last refresh failure (unix ms), 0 if none */
    char last_error[241];
};

/* The cached token (malloc'd, wipe and free; NULL when none) and its state. */
depot_err depot_token_read(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                           const char *owner, char **token, struct depot_token_state *s);
/* The refresh token of an owner (malloc'd; NOT_FOUND if none). */
depot_err depot_token_refresh_secret(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                                     const char *owner, char **refresh_token);
/* One transaction: unless the cached token is still good at now (expires_at - margin >
 * now, or it never expires) or another lease is live, takes the lease until
 * now_ms + lease_ms. *acquired is 1 when the caller must refresh, else 0. */
depot_err depot_token_lease(depot_store *st, const char *owner, int64_t now_ms,
                            int64_t lease_ms, int64_t margin_s, int *acquired);
/* Stores a fresh token (sealed), its expiry (0 = never) and, when given, a new refresh
 * token; clears the lease and any failure; audits TOKEN_REFRESHED (no secret). */
depot_err depot_token_store(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                            const char *owner, const char *token, int64_t expires_at,
                            const char *refresh_token, const char *actor);
/* The refresh failed: clears the lease, records the reason (no secret in it: the caller
 * scrubs it) and audits TOKEN_FAILED. */
depot_err depot_token_fail(depot_store *st, const char *owner, const char *reason,
                           int64_t now_ms, const char *actor);
/* The API refused token (HTTP 401): if it is still the cached one, marks it expired so
 * the next read refreshes it. Tokens others already replaced are left alone. */
depot_err depot_token_reject(depot_store *st, const char *owner, const char *token);

/* Owners whose cached token expires: {"items":[{"owner","expires_at","refreshed_at",
 * "failed_at_ms"}]}, soonest first -- what the token keeper refreshes ahead of time. */
depot_err depot_token_expiring_json(depot_store *st, cJSON **out);

/* ---- OAuth apps and single-use nonces --------------------------------------------- */

/* The app credentials of a platform ("shopify"): sealed under "app/<platform>/client_id"
 * and "app/<platform>/client_secret"; scopes kept in clear. Audited as app.set. */
depot_err depot_oauth_app_set(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                              const char *platform, const char *client_id,
                              const char *client_secret, const char *scopes,
                              const char *actor);
/* Decrypted app credentials (malloc'd, wipe and free) and scopes (copied, may be "").
 * DEPOT_E_NOT_FOUND when the app is not configured. */
depot_err depot_oauth_app_get(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                              const char *platform, char **client_id, char **client_secret,
                              char scopes[256]);

#define DEPOT_OAUTH_NONCE_LEN 64 /* hex of 32 random bytes */

/* A fresh single-use nonce for purpose ("shopify_install" or "woocommerce_keys") bound
 * to subject (shop domain / store URL), valid ttl_s seconds; only its hash is stored. */
depot_err depot_oauth_nonce_create(depot_store *st, const char *purpose, const char *subject,
                                   int64_t ttl_s, const char *actor,
                                   char nonce_out[DEPOT_OAUTH_NONCE_LEN + 1]);
/* Consumes a nonce in one transaction: DEPOT_OK and its subject when it exists for that
 * purpose, is unexpired and unused; DEPOT_E_NOT_FOUND when unknown or expired,
 * DEPOT_E_STATE when already used (a replay). Expired nonces are purged on the way. */
depot_err depot_oauth_nonce_consume(depot_store *st, const char *purpose, const char *nonce,
                                    char subject_out[513]);

#endif
