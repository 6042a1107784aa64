/* Private interface shared by the inbound files of sqlite/ (inbox.c, ingest_*.c): the
 * steps they run inside one another's transactions. Nothing outside sqlite/ includes
 * this. */
#ifndef DEPOT_INBOUND_INT_H
#define DEPOT_INBOUND_INT_H

#include "inbound.h"
#include "store_int.h"

/* Within a transaction: marks inbox delivery id processed with status "done" or
 * "ignored" and an optional note; id 0 does nothing. */
depot_err store__inbox_done(depot_store *st, int64_t id, const char *status,
                            const char *note);

/* Within a transaction: an open alert about an order (order_id 0 for none). */
depot_err store__order_alert(depot_store *st, int64_t order_id, const char *kind,
                             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* DEPOT_OK if external_id is a channel's order id (1..128 printable characters), else
 * DEPOT_E_INVALID with that reason (ingest_order.c). */
depot_err store__check_order_id(depot_store *st, const char *external_id);

#define STORE_QUARANTINE_LOCATION "QUARANTINE" /* where damaged returns are booked */

/* The words of enum depot_return_disposition (returns_receive.c): as the returns table
 * stores them, and as people call them (the API and the audit). */
extern const char *const store__return_disposition_words[3];
extern const char *const store__return_disposition_labels[3];

/* Within a transaction: the quarantine location's id in *id, the location created on
 * first use (ingest_stock.c). */
depot_err store__quarantine_location(depot_store *st, int64_t *id);

#endif
