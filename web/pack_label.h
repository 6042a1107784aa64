/* The "manual label" a packing station prints when no carrier issued one: our own ZPL
 * 4x6 address label for a shipment, built from the packing view of its order. */
#ifndef DEPOT_WEB_PACK_LABEL_H
#define DEPOT_WEB_PACK_LABEL_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "zpl.h"

/* Appends the label for shipment_id of order (depot_pack_order_json's document) to out,
 * laid out for a printer of dpi (203 or 300):
 * ship-to address, order number and shipment, and a QR code of "ORDER-<id>" so scanning
 * the label finds the order again. The same order and shipment always give the same
 * label, so a reprint matches the original. Returns 0, or -1 with a one-line reason in
 * err. */
int pack_label_build(struct depot_zpl_buf *out, const cJSON *order, int64_t shipment_id,
                     int dpi, char *err, size_t errlen);

#endif
