/* Store API for carrier labels of shipments: the durable label request (an outbox row,
 * target "carrier", written before any carrier call), claiming it with a lease so one
 * worker at a time calls the carrier, and storing the label, its print job and the
 * outcome in one transaction -- so a label is printed exactly once whatever crashes. */
#ifndef DEPOT_SHIPMENTS_H
#define DEPOT_SHIPMENTS_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "store.h"

#define DEPOT_LABEL_MAX_ATTEMPTS 8
/* How long a shipment's fulfillment waits for its carrier label (and tracking number)
 * before it goes to the channel without one. */
#define DEPOT_LABEL_FULFILLMENT_HOLD_S (6 * 3600)

struct depot_label_in {
    const char *carrier;     /* carrier name */
    const char *service;     /* NULL = the carrier's default */
    double weight_kg;        /* 0 < w <= 1000 */
    const char *format;      /* "zpl", "pdf" or "png" (paper printers: no printer) */
    const char *printer;     /* queue the (zpl) label there, or NULL */
};

/* Records that shipment_id needs a label from the carrier: an outbox row (target
 * "carrier", topic "label.create", key "label:<shipment id>") whose payload holds the
 * request and the order's ship-to address; the shipment's channel fulfillment, if not
 * gone yet, is held for the label (DEPOT_LABEL_FULFILLMENT_HOLD_S). Re-requesting a
 * label that is pending returns the same row; a dead one is made due again.
 * DEPOT_E_STATE if the shipment already has a label or is voided; DEPOT_E_INVALID for a
 * printer with a pdf/png label (printers take zpl); DEPOT_E_NOT_FOUND for an unknown
 * shipment or carrier. */
depot_err depot_label_request(depot_store *st, int64_t shipment_id,
                              const struct depot_label_in *in, const char *actor,
                              int64_t *outbox_id);

struct depot_label_job {
    int64_t outbox_id, shipment_id, carrier_id;
    int attempts;    /* including this one: > 1 means an earlier call may have happened */
    cJSON *payload;  /* {"shipment_id","order_id","reference","service","weight_kg",
                      *  "format","printer","ship_to":{...}}; freed by _free */
};
void depot_label_job_free(struct depot_label_job *j);

/* Claims a due label request (outbox_id, or the oldest due one when 0): attempts + 1,
 * leased for lease_s seconds (a crashed holder's request comes due again after it).
 * DEPOT_E_NOT_FOUND when nothing is due. */
depot_err depot_label_claim(depot_store *st, int64_t outbox_id, int64_t lease_s,
                            struct depot_label_job *job);

/* One transaction: the shipment gets its tracking number and label, the label is queued
 * to printer (if any; *print_job_id, may be NULL, is the job), a held fulfillment gets
 * the carrier and tracking number and is due now, the request is done. */
depot_err depot_label_store(depot_store *st, const struct depot_label_job *job,
                            const char *tracking, const char *format, const void *label,
                            size_t len, const char *actor, int64_t *print_job_id);

/* The call failed: due again at next_attempt_at, or dead-lettered when give_up. clean
 * says the carrier answered (a refusal or 5xx: certainly nothing created); it is counted
 * in the payload's "clean_failures", so a retry can tell these from attempts that may
 * have created a shipment (crash, timeout). */
depot_err depot_label_failed(depot_store *st, const struct depot_label_job *job,
                             const char *error, int give_up, int64_t next_attempt_at,
                             int clean);
/* The attempt was not made (the carrier's breaker is open): gives the attempt back and
 * makes the request due at next_attempt_at. */
depot_err depot_label_defer(depot_store *st, const struct depot_label_job *job,
                            int64_t next_attempt_at);

/* The shipment's stored carrier label: its format ("zpl", "pdf", "png") and bytes
 * (malloc'd, caller frees). DEPOT_E_NOT_FOUND for an unknown shipment or one without a
 * label. */
depot_err depot_shipment_label_get(depot_store *st, int64_t shipment_id, char format[8],
                                   unsigned char **data, size_t *len);

/* The shipment's carrier name and tracking number (for void/track). */
depot_err depot_shipment_carrier(depot_store *st, int64_t shipment_id, char carrier[33],
                                 char tracking[65], char status[16]);
/* The carrier voided the label: depot_shipment_void_finish with DEPOT_VOID_NONE. */
depot_err depot_shipment_mark_voided(depot_store *st, int64_t shipment_id, const char *actor);

/* What happens to a voided shipment's goods (the user's choice): nothing (handled by
 * hand, e.g. as a return); "release" -- back on hand and reserved for the order again,
 * which goes back to "reserved" to be packed with a new label; "restock" -- back on the
 * shelf as available stock, the order goes back to "open". */
enum depot_void_then { DEPOT_VOID_NONE, DEPOT_VOID_RELEASE, DEPOT_VOID_RESTOCK };
/* "none", "release", "restock" -> *out; -1 for anything else. */
int depot_void_then_parse(const char *s, enum depot_void_then *out);

struct depot_void_result {
    enum depot_void_then then;
    int64_t order_id;
    char order_status[24];  /* the order's status afterwards */
    int channel_told;       /* the fulfillment had already gone to the channel */
};

/* Call only after the carrier confirmed the void. One transaction: the shipment becomes
 * "voided"; its fulfillment, if the channel has not been told yet, is withdrawn
 * (outbox row "superseded"); the goods go back as `then` says (ledger rows of kind
 * "return"; release re-reserves the order's lines, and if the units were taken
 * meanwhile the order is left "open"; from an order that is no longer "shipped" nothing
 * goes back and out->then says none); audited as shipment.voided. DEPOT_E_STATE if the
 * shipment is already voided. out (may be NULL) tells what happened. */
depot_err depot_shipment_void_finish(depot_store *st, int64_t shipment_id,
                                     enum depot_void_then then, const char *actor,
                                     struct depot_void_result *out);

/* Records that the user wants shipment_id's carrier label voided, then its goods handled
 * as `then` says: an outbox row (target "carrier", topic "label.void", key
 * "void:<shipment id>", payload {"shipment_id","tracking_number","then"}) worked by
 * depot_void_claim + carrier_void_process (the CLI at once, depotd's carrier worker
 * otherwise). Asking again updates the choice and makes a waiting request due now.
 * DEPOT_E_STATE when the shipment is voided or has no carrier label, or goods should go
 * back from an order that is not shipped; DEPOT_E_NOT_FOUND for an unknown shipment. */
depot_err depot_void_request(depot_store *st, int64_t shipment_id, enum depot_void_then then,
                             const char *actor, int64_t *outbox_id);
/* Claims a due void request, like depot_label_claim (failures: depot_label_failed,
 * depot_label_defer). */
depot_err depot_void_claim(depot_store *st, int64_t outbox_id, int64_t lease_s,
                           struct depot_label_job *job);
/* The carrier voided the label: depot_shipment_void_finish with the request's choice and
 * the request done, in one transaction. (Goods go back only if the order is still
 * shipped; otherwise out->then is DEPOT_VOID_NONE.) */
depot_err depot_void_done(depot_store *st, const struct depot_label_job *job, const char *actor,
                          struct depot_void_result *out);

/* Ships the order (depot_order_ship with in->carrier) and requests its carrier label
 * (depot_label_request) in one transaction: both or neither. The fulfillment for the
 * channel is written held, and goes out with the tracking number once the label is
 * stored. */
depot_err depot_order_ship_labelled(depot_store *st, int64_t order_id,
                                    const struct depot_label_in *in, const char *actor,
                                    int64_t *shipment_id, int64_t *outbox_id);

/* Labelled, not voided, not yet delivered shipments last asked about before
 * now - interval_s (never asked first): {"items":[{"id","carrier","tracking_number",
 * "tracking_status"}]}, at most limit (1..100). */
depot_err depot_shipments_to_track(depot_store *st, int64_t interval_s, int limit, cJSON **out);
/* Records a tracking answer; a changed status is stored and audited (shipment.tracking)
 * and *changed set. */
depot_err depot_shipment_tracked(depot_store *st, int64_t shipment_id, const char *status,
                                 const char *actor, int *changed);

#endif
