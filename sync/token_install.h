/* The first step of a Shopify OAuth install, shared by the admin API (web/oauth_shopify.c)
 * and `depotctl app install`: the shop domain check and the authorize URL with the app's
 * client id, scopes, redirect URI and a fresh single-use `state` nonce. The callback
 * (web/oauth_shopify.c) consumes the nonce, whoever issued it. Also the query building
 * and nonce subject that the WooCommerce key flow (web/oauth_woocommerce.c) uses too. */
#ifndef DEPOT_SYNC_TOKEN_INSTALL_H
#define DEPOT_SYNC_TOKEN_INSTALL_H

#include <stddef.h>
#include <stdint.h>
#include "store.h"

#define SHOPIFY_SHOP_MAX 100
#define SHOPIFY_STATE_TTL_S 600 /* seconds an authorize URL's state stays valid */
#define INSTALL_URL_MAX 200     /* bytes of a store, api base, redirect or return URL */

/* Appends "&key=<escaped value>" (or "?key=..." when first) to out; -1 if it does not fit. */
int oauth_append_param(char *out, size_t cap, int first, const char *key, const char *value);
/* The subject an install nonce is bound to: {"<name>": value, "api_base": api_base (when
 * not NULL)} as JSON text to free with cJSON_free; NULL when out of memory. */
char *oauth_nonce_subject(const char *name, const char *value, const char *api_base);

/* 1 if in matches ^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$ (at most SHOPIFY_SHOP_MAX
 * bytes), lower-cased into out; else 0. */
int shopify_shop_valid(const char *in, char out[SHOPIFY_SHOP_MAX + 1]);

/* Validates shop_in (copied lower-cased into shop), creates the state nonce bound to
 * {"shop","api_base"} for SHOPIFY_STATE_TTL_S seconds, and writes
 * https://{shop}/admin/oauth/authorize?client_id&scope&redirect_uri&state into url (on
 * api_base instead of the shop when given, for test servers). Returns DEPOT_OK;
 * DEPOT_E_INVALID for a bad shop, api base or redirect URI, DEPOT_E_NOT_FOUND when the
 * app is not configured (`depotctl app set shopify`), others from the store; err says
 * why, never with a secret. */
depot_err shopify_install_start(depot_store *st, const uint8_t key[DEPOT_MASTER_KEY_LEN],
                                const char *shop_in, const char *api_base,
                                const char *redirect_uri, const char *actor, char *url,
                                size_t cap, char shop[SHOPIFY_SHOP_MAX + 1], char *err,
                                size_t errlen);

#endif
