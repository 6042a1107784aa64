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

struct depot_label_in {
    const char *carrier;     /* carrier name */
    const char *service;     /* NULL = the carrier's default */
    double weight_kg;        /* 0 < w <= 1000 */
    const char *format;      /* "zpl", "pdf" or "png" */
    const char *printer;     /* queue the label there, or NULL */
};

/* Records that shipment_id needs a label from the carrier: an outbox row (target
 * "carrier", topic "label.create", key "label:<shipment id>") whose payload holds the
 * request and the order's ship-to address. Re-requesting a label that is pending returns
 * the same row; a dead one is made due again. DEPOT_E_STATE if the shipment already has
 * a label or is voided; DEPOT_E_NOT_FOUND for an unknown shipment or carrier. */
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
 * to printer (if any; *print_job_id, may be NULL, is the job), the request is done. */
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

/* The shipment's carrier name and tracking number (for void/track). */
depot_err depot_shipment_carrier(depot_store *st, int64_t shipment_id, char carrier[33],
                                 char tracking[65], char status[16]);
/* The carrier voided the label: the shipment becomes "voided" (audited). */
depot_err depot_shipment_mark_voided(depot_store *st, int64_t shipment_id, const char *actor);

/* Labelled, not voided, not yet delivered shipments last asked about before
 * now - interval_s (never asked first): {"items":[{"id","carrier","tracking_number",
 * "tracking_status"}]}, at most limit (1..100). */
depot_err depot_shipments_to_track(depot_store *st, int64_t interval_s, int limit, cJSON **out);
/* Records a tracking answer; a changed status is stored and audited (shipment.tracking)
 * and *changed set. */
depot_err depot_shipment_tracked(depot_store *st, int64_t shipment_id, const char *status,
                                 const char *actor, int *changed);

#endif
