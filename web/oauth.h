/* Route tables of the OAuth install flows (oauth_shopify.c, oauth_woocommerce.c), the
 * carrier endpoints (api_carriers.c) and the helpers they share (oauth_common.c).
 * Loop-thread code: nothing here waits on the network; the Shopify code exchange runs on
 * a short-lived thread of its own, carrier calls on the carrier worker. */
#ifndef DEPOT_WEB_OAUTH_H
#define DEPOT_WEB_OAUTH_H

#include <stddef.h>
#include "web_int.h"

extern const struct web_route web_routes_oauth_shopify[];
extern const struct web_route web_routes_oauth_woocommerce[];
extern const struct web_route web_routes_carriers[];

#define OAUTH_STATE_TTL 600 /* seconds an authorize URL's nonce stays valid */

/* "http(s)://<Host header><path>" for links back to us (the scheme follows cfg.tls);
 * -1 when the request has no usable Host header. */
int oauth_self_url(struct web_request *req, const char *path, char *out, size_t cap);

#endif
