/* What the packing endpoint (api_pack.c) uses from the carrier endpoints: shipping an
 * order with a carrier's label instead of the manual one. */
#ifndef DEPOT_WEB_API_CARRIERS_H
#define DEPOT_WEB_API_CARRIERS_H

#include <stdint.h>
#include "store.h"

/* Ships the order and commits its label request for carrier in one transaction
 * (depot_order_ship_labelled): weight_g (> 0) in grams, the label (ZPL) queued to
 * printer when the carrier worker has it, and the channel's fulfillment held for its
 * tracking number. The carrier call happens later on the carrier worker, so a carrier
 * that is down never blocks packing. Store errors as usual (message in
 * depot_store_errmsg). */
depot_err api_carriers_pack_ship(depot_store *st, int64_t order_id, const char *carrier,
                                 const char *printer, int64_t weight_g, const char *actor,
                                 int64_t *shipment_id, int64_t *label_request);

#endif
