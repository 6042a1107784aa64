/* FedEx adapter: Ship API v1 (POST /ship/v1/shipments, PUT /ship/v1/shipments/cancel)
 * and Track API v1 (POST /track/v1/trackingnumbers, /track/v1/referencenumbers), with
 * the label requested as ZPLII on 4x6 stock for thermal printers. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "carrier.h"

#define FEDEX_BASE "https://apis.fedex.com"

/* A FedEx call (bearer token, JSON body b, which it takes); *ans as carrier_call's. */
static depot_err fedex_call(struct carrier_ctx *cx, const char *method, const char *path,
                            cJSON *b, cJSON **ans)
{
    return carrier_call(cx, method, FEDEX_BASE, path, b, NULL, CARRIER_AUTH_BEARER, ans);
}

static cJSON *party(const struct carrier_address *a)
{
    cJSON *p = cJSON_CreateObject();
    cJSON *contact = cJSON_AddObjectToObject(p, "contact");
    cJSON_AddStringToObject(contact, "personName", a->name);
    if (a->company)
        cJSON_AddStringToObject(contact, "companyName", a->company);
    cJSON_AddStringToObject(contact, "phoneNumber", a->phone ? a->phone : "");
    if (a->email)
        cJSON_AddStringToObject(contact, "emailAddress", a->email);
    cJSON *addr = cJSON_AddObjectToObject(p, "address");
    cJSON *lines = cJSON_AddArrayToObject(addr, "streetLines");
    cJSON_AddItemToArray(lines, cJSON_CreateString(a->street1));
    if (a->street2)
        cJSON_AddItemToArray(lines, cJSON_CreateString(a->street2));
    cJSON_AddStringToObject(addr, "city", a->city);
    if (a->state)
        cJSON_AddStringToObject(addr, "stateOrProvinceCode", a->state);
    cJSON_AddStringToObject(addr, "postalCode", a->postal_code);
    cJSON_AddStringToObject(addr, "countryCode", a->country);
    return p;
}

static const char *image_type(const char *fmt)
{
    return strcmp(fmt, "pdf") == 0 ? "PDF" : strcmp(fmt, "png") == 0 ? "PNG" : "ZPLII";
}

static depot_err fedex_create(struct carrier_ctx *cx, const struct carrier_shipment_req *req,
                              struct carrier_label *out)
{
    char date[16];
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof date, "%Y-%m-%d", gmtime_r(&now, &tm));
    if (!cx->row->account[0])
        return carrier_fail(cx, DEPOT_E_INVALID, "fedex needs the account number (--account)");

    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "labelResponseOptions", "LABEL");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(b, "accountNumber"), "value", cx->row->account);
    cJSON *rs = cJSON_AddObjectToObject(b, "requestedShipment");
    cJSON_AddItemToObject(rs, "shipper", party(&req->shipper));
    cJSON *rcpts = cJSON_AddArrayToObject(rs, "recipients");
    cJSON_AddItemToArray(rcpts, party(&req->recipient));
    cJSON_AddStringToObject(rs, "shipDatestamp", date);
    cJSON_AddStringToObject(rs, "serviceType", req->service ? req->service : "FEDEX_GROUND");
    cJSON_AddStringToObject(rs, "packagingType", "YOUR_PACKAGING");
    cJSON_AddStringToObject(rs, "pickupType", "USE_SCHEDULED_PICKUP");
    cJSON *pay = cJSON_AddObjectToObject(rs, "shippingChargesPayment");
    cJSON_AddStringToObject(pay, "paymentType", "SENDER");
    cJSON *ls = cJSON_AddObjectToObject(rs, "labelSpecification");
    cJSON_AddStringToObject(ls, "imageType", image_type(req->label_format));
    cJSON_AddStringToObject(ls, "labelStockType",
                            strcmp(req->label_format, "zpl") == 0 ? "STOCK_4X6" : "PAPER_4X6");
    cJSON *pkgs = cJSON_AddArrayToObject(rs, "requestedPackageLineItems");
    cJSON *pkg = cJSON_CreateObject();
    cJSON_AddItemToArray(pkgs, pkg);
    cJSON *w = cJSON_AddObjectToObject(pkg, "weight");
    cJSON_AddStringToObject(w, "units", "KG");
    cJSON_AddNumberToObject(w, "value", req->weight_kg);
    cJSON *refs = cJSON_AddArrayToObject(pkg, "customerReferences");
    cJSON *ref = cJSON_CreateObject();
    cJSON_AddItemToArray(refs, ref);
    cJSON_AddStringToObject(ref, "customerReferenceType", "CUSTOMER_REFERENCE");
    cJSON_AddStringToObject(ref, "value", req->reference);

    cJSON *ans = NULL;
    depot_err e = fedex_call(cx, "POST", "/ship/v1/shipments", b, &ans);
    if (e != DEPOT_OK)
        return e;
    const cJSON *ship = carrier_json_item(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(ans, "output"), "transactionShipments"), 0);
    const cJSON *piece =
        carrier_json_item(cJSON_GetObjectItemCaseSensitive(ship, "pieceResponses"), 0);
    const cJSON *doc =
        carrier_json_item(cJSON_GetObjectItemCaseSensitive(piece, "packageDocuments"), 0);
    const char *tracking = carrier_json_str(ship, "masterTrackingNumber");
    if (!tracking)
        tracking = carrier_json_str(piece, "trackingNumber");
    const char *label = carrier_json_str(doc, "encodedLabel");
    if (!tracking || !tracking[0] || strlen(tracking) > CARRIER_TRACKING_MAX || !label)
        e = carrier_fail(cx, DEPOT_E_INVALID, "fedex answer lacks output.transactionShipments"
                         "[0] tracking number or encodedLabel");
    else if (carrier_label_base64(out, label) != 0)
        e = carrier_fail(cx, DEPOT_E_INVALID, "fedex label is not valid base64");
    if (e == DEPOT_OK) {
        snprintf(out->tracking, sizeof out->tracking, "%s", tracking);
        snprintf(out->format, sizeof out->format, "%s", req->label_format);
    }
    cJSON_Delete(ans);
    return e;
}

static depot_err fedex_lookup(struct carrier_ctx *cx, const char *reference,
                              char tracking[CARRIER_TRACKING_MAX + 1])
{
    char begin[16], end[16];
    time_t now = time(NULL), then = now - 30 * 86400;
    struct tm tm;
    strftime(end, sizeof end, "%Y-%m-%d", gmtime_r(&now, &tm));
    strftime(begin, sizeof begin, "%Y-%m-%d", gmtime_r(&then, &tm));
    cJSON *b = cJSON_CreateObject();
    cJSON *ri = cJSON_AddObjectToObject(b, "referencesInformation");
    cJSON_AddStringToObject(ri, "type", "CUSTOMER_REFERENCE");
    cJSON_AddStringToObject(ri, "value", reference);
    cJSON_AddStringToObject(ri, "accountNumber", cx->row->account);
    cJSON_AddStringToObject(ri, "shipDateBegin", begin);
    cJSON_AddStringToObject(ri, "shipDateEnd", end);
    cJSON_AddBoolToObject(b, "includeDetailedScans", 0);
    cJSON *ans = NULL;
    depot_err e = fedex_call(cx, "POST", "/track/v1/referencenumbers", b, &ans);
    if (e != DEPOT_OK)
        return e;
    const cJSON *res = carrier_json_item(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(ans, "output"), "completeTrackResults"), 0);
    const char *n = carrier_json_str(res, "trackingNumber");
    if (n && n[0] && strlen(n) <= CARRIER_TRACKING_MAX)
        snprintf(tracking, CARRIER_TRACKING_MAX + 1, "%s", n);
    else
        e = carrier_fail(cx, DEPOT_E_NOT_FOUND, "fedex has no shipment with reference %s",
                         reference);
    cJSON_Delete(ans);
    return e;
}

static depot_err fedex_cancel(struct carrier_ctx *cx, const char *tracking)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(cJSON_AddObjectToObject(b, "accountNumber"), "value", cx->row->account);
    cJSON_AddStringToObject(b, "trackingNumber", tracking);
    cJSON_AddStringToObject(b, "deletionControl", "DELETE_ALL_PACKAGES");
    cJSON *ans = NULL;
    depot_err e = fedex_call(cx, "PUT", "/ship/v1/shipments/cancel", b, &ans);
    if (e != DEPOT_OK)
        return e;
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(ans, "output"), "cancelledShipment");
    if (!cJSON_IsTrue(ok))
        e = carrier_fail(cx, DEPOT_E_STATE, "fedex did not cancel %s: %s", tracking,
                         carrier_json_str_or(cJSON_GetObjectItemCaseSensitive(ans, "output"),
                                             "message", "no reason given"));
    cJSON_Delete(ans);
    return e;
}

/* FedEx status codes (latestStatusDetail.code) to ours. */
static const char *normalise(const char *code)
{
    static const char *const map[][2] = {
        {"DL", "delivered"}, {"OC", "pre_transit"}, {"PU", "in_transit"}, {"IT", "in_transit"},
        {"AR", "in_transit"}, {"DP", "in_transit"}, {"OD", "in_transit"}, {"DE", "exception"},
        {"SE", "exception"}, {"CA", "exception"}, {"RS", "exception"},
    };
    for (size_t i = 0; code && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(code, map[i][0]) == 0)
            return map[i][1];
    return "unknown";
}

static depot_err fedex_track(struct carrier_ctx *cx, const char *tracking,
                             struct carrier_track *out)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddBoolToObject(b, "includeDetailedScans", 0);
    cJSON *ti = cJSON_AddArrayToObject(b, "trackingInfo");
    cJSON *one = cJSON_CreateObject();
    cJSON_AddItemToArray(ti, one);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(one, "trackingNumberInfo"), "trackingNumber",
                            tracking);
    cJSON *ans = NULL;
    depot_err e = fedex_call(cx, "POST", "/track/v1/trackingnumbers", b, &ans);
    if (e != DEPOT_OK)
        return e;
    const cJSON *ctr = carrier_json_item(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(ans, "output"), "completeTrackResults"), 0);
    const cJSON *tr = carrier_json_item(cJSON_GetObjectItemCaseSensitive(ctr, "trackResults"), 0);
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(tr, "error");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(tr, "latestStatusDetail");
    if (err)
        e = carrier_fail(cx, DEPOT_E_NOT_FOUND, "fedex: %s",
                         carrier_json_str_or(err, "message", "tracking number not found"));
    else if (!carrier_json_str(st, "code"))
        e = carrier_fail(cx, DEPOT_E_INVALID, "fedex answer lacks latestStatusDetail.code");
    else {
        snprintf(out->status, sizeof out->status, "%s", normalise(carrier_json_str(st, "code")));
        snprintf(out->description, sizeof out->description, "%s",
                 carrier_json_str_or(st, "description", ""));
    }
    cJSON_Delete(ans);
    return e;
}

const struct carrier_ops carrier_fedex_ops = {
    .name = "fedex",
    .caps = CARRIER_CAN_LOOKUP,
    .create = fedex_create,
    .lookup = fedex_lookup,
    .cancel = fedex_cancel,
    .track = fedex_track,
};
