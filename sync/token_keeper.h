/* The token keeper: a daemon thread that refreshes every expiring cached token (carrier
 * client-credentials tokens, Shopify expiring offline tokens) ahead of its expiry
 * through the token service, so API callers -- the outbound worker reading a channel's
 * token, a packer's label request -- find a valid one. Failures back off for a minute
 * and are logged without secrets (the token service audits them). */
#ifndef DEPOT_SYNC_TOKEN_KEEPER_H
#define DEPOT_SYNC_TOKEN_KEEPER_H

#include <stddef.h>
#include <stdint.h>
#include "store.h"

struct depot_token_keeper;

/* Opens its own connection to db_path and starts the thread; key is copied. NULL with a
 * reason in err on failure. */
struct depot_token_keeper *depot_token_keeper_start(const char *db_path,
                                                    const uint8_t key[DEPOT_MASTER_KEY_LEN],
                                                    char *err, size_t errlen);
/* Wakes the thread, joins it (a refresh in progress finishes first) and frees it. */
void depot_token_keeper_stop(struct depot_token_keeper *k);

#endif
