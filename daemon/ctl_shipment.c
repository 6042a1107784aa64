/* depotctl's carrier label commands for shipments: request a label from a carrier (the
 * request is committed first, then worked at once; a crash leaves it to be finished by
 * re-running the command or by depotd), and void a shipment's label at its carrier --
 * then release or restock its goods as the user chose. */
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
    static const struct option opts[] = {
        {"then", required_argument, NULL, 't'},
        {0},
    };
    uint8_t key[DEPOT_MASTER_KEY_LEN];
    char carrier[33], tracking[65], status[16], err[512];
    struct depot_label_job job = {0};
    struct depot_void_result vr;
    enum depot_void_then then = DEPOT_VOID_NONE;
    depot_store *st = NULL;
    int64_t sid, outbox_id = 0;
    int o, rc;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0)
        if (o == 't' && depot_void_then_parse(optarg, &then) != 0)
            return ctl__usage_error(c, "--then is none, release or restock");
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, 1) != 0)
        return CTL_EXIT_USAGE;
    if (ctl__parse_int(argv[optind], 1, INT64_MAX, &sid) != 0)
        return ctl__usage_error(c, "SHIPMENT must be a shipment id");
    if ((rc = ctl__master_key(c, key)) != CTL_EXIT_OK || (rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        goto out;
    /* The request is committed first and worked here; the label is voided at the carrier
     * before Depot marks the shipment voided and puts the goods back as chosen. */
    depot_err e = depot_void_request(st, sid, then, c->actor, &outbox_id);
    if (e == DEPOT_OK)
        e = depot_void_claim(st, outbox_id, LABEL_LEASE_S, &job);
    if (e == DEPOT_E_NOT_FOUND && outbox_id) {
        rc = ctl__fail(c, DEPOT_E_BUSY, "void request %lld is in progress (see `depotctl "
                       "outbox list`)", (long long)outbox_id);
        goto out;
    }
    if (e != DEPOT_OK) {
        rc = ctl__store_fail(c, st, e);
        goto out;
    }
    if ((e = carrier_void_process(st, key, &job, c->actor, &vr, err, sizeof err)) != DEPOT_OK) {
        rc = ctl__fail(c, e, "shipment %lld: %s", (long long)sid, err);
        goto out;
    }
    depot_shipment_carrier(st, sid, carrier, tracking, status);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "shipment_id", (double)sid);
    cJSON_AddStringToObject(doc, "tracking_number", tracking);
    cJSON_AddStringToObject(doc, "status", "voided");
    cJSON_AddNumberToObject(doc, "order_id", (double)vr.order_id);
    cJSON_AddStringToObject(doc, "order_status", vr.order_status);
    cJSON_AddBoolToObject(doc, "channel_told", vr.channel_told);
    rc = ctl__done(c, doc, "shipment %lld: label %s voided at %s; order %lld is %s%s",
                   (long long)sid, tracking, carrier, (long long)vr.order_id,
                   vr.order_status, vr.channel_told ? " (the channel already has the "
                   "fulfillment: cancel it in the channel's admin)" : "");
out:
    depot_label_job_free(&job);
    depot_store_close(st);
    explicit_bzero(key, sizeof key);
    return rc;
}
