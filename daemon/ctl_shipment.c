/* depotctl's carrier label commands for shipments: request a label from a carrier (the
 * request is committed first, then worked at once; a crash leaves it to be finished by
 * re-running the command or by depotd), and void a shipment's label at its carrier. */
#include <stdlib.h>
#include <string.h>
#include "carrier.h"
#include "carriers.h"
#include "ctl.h"
#include "shipments.h"

#define LABEL_LEASE_S 120 /* longer than a carrier call may take */

int ctl__shipment_label(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"carrier", required_argument, NULL, 'c'},
        {"service", required_argument, NULL, 's'},
        {"weight", required_argument, NULL, 'w'},
        {"format", required_argument, NULL, 'f'},
        {"printer", required_argument, NULL, 'p'},
        {0},
    };
    struct depot_label_in in = {.format = "zpl"};
    struct depot_label_job job = {0};
    uint8_t key[DEPOT_MASTER_KEY_LEN];
    char tracking[CARRIER_TRACKING_MAX + 1], err[512];
    depot_store *st = NULL;
    int64_t sid, outbox_id = 0, print_job = 0;
    int o, rc;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0) {
        switch (o) {
        case 'c': in.carrier = optarg; break;
        case 's': in.service = optarg; break;
        case 'w': in.weight_kg = strtod(optarg, NULL); break;
        case 'f': in.format = optarg; break;
        case 'p': in.printer = optarg; break;
        }
    }
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, 1) != 0)
        return CTL_EXIT_USAGE;
    if (ctl__parse_int(argv[optind], 1, INT64_MAX, &sid) != 0)
        return ctl__usage_error(c, "SHIPMENT must be a shipment id");
    if (!in.carrier || in.weight_kg <= 0)
        return ctl__usage_error(c, "give --carrier NAME and --weight KG");
    if ((rc = ctl__master_key(c, key)) != CTL_EXIT_OK || (rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        goto out;
    depot_err e = depot_label_request(st, sid, &in, c->actor, &outbox_id);
    if (e == DEPOT_OK)
        e = depot_label_claim(st, outbox_id, LABEL_LEASE_S, &job);
    if (e == DEPOT_E_NOT_FOUND && outbox_id) {
        rc = ctl__fail(c, DEPOT_E_BUSY, "label request %lld is in progress or waiting for its "
                       "retry (see `depotctl outbox list`)", (long long)outbox_id);
        goto out;
    }
    if (e != DEPOT_OK) {
        rc = ctl__store_fail(c, st, e);
        goto out;
    }
    e = carrier_label_process(st, key, &job, c->actor, tracking, &print_job, err, sizeof err);
    if (e != DEPOT_OK) {
        rc = ctl__fail(c, e, "shipment %lld: %s", (long long)sid, err);
        goto out;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "shipment_id", (double)sid);
    cJSON_AddStringToObject(doc, "carrier", in.carrier);
    cJSON_AddStringToObject(doc, "tracking_number", tracking);
    if (print_job)
        cJSON_AddNumberToObject(doc, "print_job", (double)print_job);
    else
        cJSON_AddNullToObject(doc, "print_job");
    rc = ctl__done(c, doc, "shipment %lld: %s %s%s", (long long)sid, in.carrier, tracking,
                   print_job ? ", label queued" : "");
out:
    depot_label_job_free(&job);
    depot_store_close(st);
    explicit_bzero(key, sizeof key);
    return rc;
}

int ctl__shipment_void(struct ctl *c, int argc, char **argv)
{
    uint8_t key[DEPOT_MASTER_KEY_LEN];
    char carrier[33], tracking[65], status[16];
    struct depot_carrier cr;
    depot_store *st = NULL;
    int64_t sid;
    int rc = ctl__plain_args(c, argc, argv, 1);
    if (rc != CTL_GO)
        return rc;
    if (ctl__parse_int(argv[optind], 1, INT64_MAX, &sid) != 0)
        return ctl__usage_error(c, "SHIPMENT must be a shipment id");
    if ((rc = ctl__master_key(c, key)) != CTL_EXIT_OK || (rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        goto out;
    depot_err e = depot_shipment_carrier(st, sid, carrier, tracking, status);
    if (e == DEPOT_OK && strcmp(status, "voided") == 0)
        e = DEPOT_E_STATE;
    if (e == DEPOT_OK && !tracking[0]) {
        rc = ctl__fail(c, DEPOT_E_STATE, "shipment %lld has no carrier label to void",
                       (long long)sid);
        goto out;
    }
    if (e == DEPOT_OK)
        e = depot_carrier_find(st, carrier, &cr);
    if (e != DEPOT_OK) {
        rc = e == DEPOT_E_STATE ? ctl__fail(c, e, "shipment %lld is already voided", (long long)sid)
                                : ctl__store_fail(c, st, e);
        goto out;
    }
    /* The label is voided at the carrier first, so the merchant is not billed; only then
     * does Depot mark the shipment voided. */
    struct carrier_ctx cx;
    carrier_ctx_init(&cx, st, key, &cr, c->actor);
    if ((e = carrier_cancel(&cx, tracking)) != DEPOT_OK) {
        rc = ctl__fail(c, e, "carrier %s: %s", cr.name, cx.error);
        goto out;
    }
    if ((e = depot_shipment_mark_voided(st, sid, c->actor)) != DEPOT_OK) {
        rc = ctl__store_fail(c, st, e);
        goto out;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "shipment_id", (double)sid);
    cJSON_AddStringToObject(doc, "tracking_number", tracking);
    cJSON_AddStringToObject(doc, "status", "voided");
    rc = ctl__done(c, doc, "shipment %lld: label %s voided at %s", (long long)sid, tracking,
                   cr.name);
out:
    depot_store_close(st);
    explicit_bzero(key, sizeof key);
    return rc;
}
