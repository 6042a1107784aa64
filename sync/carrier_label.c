/* One label request, from claim to stored label: the idempotent path that keeps a crash
 * from ever producing two billed labels or two printed ones (see carrier.h).
 *
 * Why lookup-then-void on retry: the request row is leased before the carrier is called
 * and the label, its print job and the row's completion are committed together after.
 * A crash in between leaves the row in flight; when its lease runs out the next attempt
 * (attempts > 1) cannot know whether the carrier created the shipment. It asks the
 * carrier by our reference (depot-shipment-<id>); a shipment found there is voided
 * (its label never reached our database, so nobody printed it) and one new label is
 * created, stored and printed once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "carrier.h"
#include "shipments.h"

#define BACKOFF_BASE_S 30
#define BACKOFF_MAX_S 3600

static int64_t backoff_s(int attempts)
{
    int64_t s = BACKOFF_BASE_S;
    for (int i = 1; i < attempts && s < BACKOFF_MAX_S; i++)
        s *= 2;
    return s < BACKOFF_MAX_S ? s : BACKOFF_MAX_S;
}

/* Records a failed attempt; retryable ones come due again with backoff. */
static depot_err failed(depot_store *st, struct depot_label_job *job, depot_err e, int retryable,
                        int clean, const char *err)
{
    int give_up = !retryable || job->attempts >= DEPOT_LABEL_MAX_ATTEMPTS;
    depot_label_failed(st, job, err, give_up, (int64_t)time(NULL) + backoff_s(job->attempts),
                       clean);
    return e;
}

depot_err carrier_label_process(depot_store *st, const uint8_t *key,
                                struct depot_label_job *job, const char *actor,
                                char tracking[CARRIER_TRACKING_MAX + 1], int64_t *print_job,
                                char *err, size_t errlen)
{
    struct depot_carrier row;
    struct carrier_ctx cx;
    struct carrier_shipment_req req = {0};
    struct carrier_label label = {0};
    cJSON *cfg = NULL;
    char found[CARRIER_TRACKING_MAX + 1];
    depot_err e;

    *print_job = 0;
    tracking[0] = '\0';
    if ((e = depot_carrier_get(st, job->carrier_id, &row)) != DEPOT_OK) {
        snprintf(err, errlen, "%s", depot_store_errmsg(st));
        return failed(st, job, e, 0, 1, err);
    }
    carrier_ctx_init(&cx, st, key, &row, actor);
    const struct carrier_ops *ops = carrier_ops_for(row.kind);
    cfg = cJSON_Parse(row.config);
    const cJSON *p = job->payload;
    req.reference = carrier_json_str(p, "reference");
    req.service = carrier_json_str(p, "service");
    if (!req.service)
        req.service = carrier_json_str(cfg, "service");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(p, "weight_kg");
    req.weight_kg = cJSON_IsNumber(w) ? w->valuedouble : 0;
    req.label_format = carrier_json_str(p, "format");
    if (!ops || !req.reference || !req.label_format || !(req.weight_kg > 0) ||
        carrier_address_from_json(cJSON_GetObjectItemCaseSensitive(cfg, "shipper"),
                                  &req.shipper) != 0) {
        snprintf(err, errlen, "carrier %s needs a shipper address in its config "
                 "(--config '{\"shipper\":{...}}')", row.name);
        e = failed(st, job, DEPOT_E_INVALID, 0, 1, err);
        goto out;
    }
    if (carrier_address_from_json(cJSON_GetObjectItemCaseSensitive(p, "ship_to"),
                                  &req.recipient) != 0) {
        snprintf(err, errlen, "the order's ship-to address lacks name, street, city, postal "
                 "code or a two-letter country");
        e = failed(st, job, DEPOT_E_INVALID, 0, 1, err);
        goto out;
    }
    /* Earlier attempts that may have reached the carrier: not the ones it refused. */
    const cJSON *cf = cJSON_GetObjectItemCaseSensitive(p, "clean_failures");
    int clean = cJSON_IsNumber(cf) ? cf->valueint : 0;
    if (job->attempts - 1 > clean) {
        if (!ops->lookup) {
            snprintf(err, errlen, "an earlier attempt may have created %s shipment %s and %s "
                     "cannot look it up: delete it in the carrier's portal if it exists, then "
                     "`depotctl outbox retry %lld`", row.kind, req.reference, row.kind,
                     (long long)job->outbox_id);
            e = failed(st, job, DEPOT_E_STATE, 0, 1, err);
            goto out;
        }
        e = ops->lookup(&cx, req.reference, found);
        if (e == DEPOT_OK)
            e = ops->cancel(&cx, found);
        else if (e == DEPOT_E_NOT_FOUND)
            e = DEPOT_OK;
        if (e != DEPOT_OK) {
            /* Nothing was created by this attempt: it stays clean. */
            snprintf(err, errlen, "%s", cx.error);
            e = failed(st, job, e, cx.retryable, 1, err);
            goto out;
        }
    }
    if ((e = carrier_create(&cx, &req, &label)) != DEPOT_OK) {
        snprintf(err, errlen, "%s", cx.error);
        e = failed(st, job, e, cx.retryable, cx.answered, err);
        goto out;
    }
    /* If this commit fails the request stays in flight: the retry looks the shipment up
     * and voids it, as after a crash. */
    e = depot_label_store(st, job, label.tracking, label.format, label.data, label.len, actor,
                          print_job);
    if (e != DEPOT_OK)
        snprintf(err, errlen, "%s", depot_store_errmsg(st));
    else
        snprintf(tracking, CARRIER_TRACKING_MAX + 1, "%s", label.tracking);
out:
    carrier_label_free(&label);
    cJSON_Delete(cfg);
    return e;
}
