/* Returns received at the back office: units of a shipped order scanned back in, each
 * with its disposition (back on the shelf, to quarantine, written off), booked in one
 * transaction. Channel refunds take the inbound path (depot_ingest_returns). */
#ifndef DEPOT_RETURNS_RECEIVE_H
#define DEPOT_RETURNS_RECEIVE_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "inbound.h"

#define DEPOT_RETURN_UNITS_MAX 1000 /* units in one received return */

/* One unit scanned back in: its SKU code and what becomes of it. */
struct depot_return_unit {
    const char *sku;
    enum depot_return_disposition disposition;
};

/* "sellable" | "damaged" | "unsellable" -> *out. Returns 0, or -1 for anything else. */
int depot_return_disposition_parse(const char *s, enum depot_return_disposition *out);

/* Receives n (1..DEPOT_RETURN_UNITS_MAX) units of shipped order order_id, all or
 * nothing: units are grouped per (SKU, disposition) into returns rows; sellable ones go
 * back through the ledger (kind "return") at the location the SKU shipped from, damaged
 * ones are booked to location "QUARANTINE" with an order alert, unsellable ones are
 * written off; each row audited "return.create". DEPOT_E_NOT_FOUND for an unknown order,
 * DEPOT_E_STATE if it has not shipped, DEPOT_E_INVALID naming the SKU that is not on the
 * order or would be returned more often than it shipped. *out (caller frees):
 * {"order_id","returns":[{"id","sku","quantity","disposition"}]}. */
depot_err depot_return_receive(depot_store *st, int64_t order_id,
                               const struct depot_return_unit *units, size_t n,
                               const char *actor, cJSON **out);

#endif
