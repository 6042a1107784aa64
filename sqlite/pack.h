/* The packing station's store operations: find the order a packer scanned, show it with
 * what the packer needs (names, GTINs, bins), check the scanned units against its lines,
 * and find a shipment again for a reprint. Shipping itself is depot_order_ship. */
#ifndef DEPOT_PACK_H
#define DEPOT_PACK_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "store.h"

#define DEPOT_PACK_CODE_MAX 128 /* longest scanned order code */

/* The order a scanned code names: "42" or "#42" (the order id), "ORDER-42" (our
 * order/tote label), the order's display number ("#1001" or "1001" as the channel shows
 * it) or its external id. Surrounding whitespace is ignored. When several orders match
 * a number, the newest that is not shipped or cancelled wins. DEPOT_E_NOT_FOUND with
 * the code in the message if none. */
depot_err depot_pack_order_find(depot_store *st, const char *code, int64_t *order_id);

/* depot_order_show_json's document, each line also with "name" (the SKU's name, else
 * the line title), "gtins" [..] and "bins" [..] (bin codes where its units are reserved,
 * else where the SKU is in stock), "shipments" [{"id","carrier","tracking_number",
 * "status","created_at"}] and the order's open "alerts" (depot_order_alerts_json: why it
 * needs attention). Caller frees *out. */
depot_err depot_pack_order_json(depot_store *st, int64_t order_id, cJSON **out);

/* What happened to the order, newest first: its audit rows (created, reserved, packed,
 * shipped, returns, ...) as {"items":[{"id","at","actor","action","detail":{...}}]}, at
 * most limit (1..200). An unknown order has none. Caller frees *out. */
depot_err depot_pack_order_events_json(depot_store *st, int64_t order_id, int limit,
                                       cJSON **out);

/* One SKU and how many units of it were scanned into the box. */
struct depot_pack_count {
    const char *sku;
    int64_t quantity;
};

/* Checks that counts (one entry per SKU, n <= 1000) are exactly the order's lines summed
 * per SKU: DEPOT_E_INVALID naming the first SKU that is missing, short, extra or not on
 * the order; DEPOT_E_STATE for an order with an unresolved line or one that is not open,
 * reserved or packed. Writes nothing. */
depot_err depot_pack_verify(depot_store *st, int64_t order_id,
                            const struct depot_pack_count *counts, size_t n);

/* The order a shipment belongs to and the shipment's status ("shipped", "voided", ...).
 * DEPOT_E_NOT_FOUND if there is no such shipment. */
depot_err depot_pack_shipment_get(depot_store *st, int64_t shipment_id, int64_t *order_id,
                                  char status[16]);

#endif
