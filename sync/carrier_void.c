/* One void request, from claim to voided shipment: the label is voided at the carrier
 * first (so the merchant is not billed), and only when the carrier confirmed it does
 * depot_void_done mark the shipment voided and put the goods back as the user chose. A
 * carrier that is down leaves the request to be retried with backoff. */
#include <stdio.h>
#include <time.h>
#include "carrier.h"
#include "shipments.h"

#define BACKOFF_BASE_S 30
#define BACKOFF_MAX_S 3600

depot_err carrier_void_process(depot_store *st, const uint8_t *key,
                               struct depot_label_job *job, const char *actor,
                               struct depot_void_result *result, char *err, size_t errlen)
{
    struct depot_carrier row;
    struct carrier_ctx cx;
    const char *tracking = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(job->payload, "tracking_number"));
    depot_err e = depot_carrier_get(st, job->carrier_id, &row);
    if (e != DEPOT_OK || !tracking) {
        snprintf(err, errlen, "%s", e != DEPOT_OK ? depot_store_errmsg(st)
                                                  : "void request without a tracking number");
        depot_label_failed(st, job, err, 1, 0, 1);
        return e != DEPOT_OK ? e : DEPOT_E_INVALID;
    }
    carrier_ctx_init(&cx, st, key, &row, actor);
    if ((e = carrier_cancel(&cx, tracking)) != DEPOT_OK) {
        int64_t wait = BACKOFF_BASE_S;
        for (int i = 1; i < job->attempts && wait < BACKOFF_MAX_S; i++)
            wait *= 2;
        snprintf(err, errlen, "carrier %s: %s", row.name, cx.error);
        depot_label_failed(st, job, err,
                           !cx.retryable || job->attempts >= DEPOT_LABEL_MAX_ATTEMPTS,
                           (int64_t)time(NULL) + (wait < BACKOFF_MAX_S ? wait : BACKOFF_MAX_S),
                           1);
        return e;
    }
    /* If this commit fails the request stays in flight and is retried: voiding an
     * already voided label again is answered by the carrier, and the reason shows. */
    if ((e = depot_void_done(st, job, actor, result)) != DEPOT_OK)
        snprintf(err, errlen, "%s", depot_store_errmsg(st));
    return e;
}
