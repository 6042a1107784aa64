/* Route tables of the packing station's endpoints (scans, pack, reprint) and the
 * back office's label printing, for the router (web/router.c). */
#ifndef DEPOT_WEB_API_PACK_H
#define DEPOT_WEB_API_PACK_H

#include "web_int.h"

extern const struct web_route web_routes_pack[]; /* api_pack.c: pack, reprint */
extern const struct web_route web_routes_scan[]; /* api_scan.c: keyboard-wedge scans */
extern const struct web_route web_routes_labels[]; /* api_labels.c: SKU and bin labels */

#endif
