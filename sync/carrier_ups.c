/* UPS adapter: Shipping API (POST /api/shipments/{version}/ship, DELETE
 * /api/shipments/{version}/void/cancel/{id}) and Tracking API (GET
 * /api/track/v1/details/{n}, /api/track/v1/reference/details/{ref}); label as ZPL on
 * 4x6 stock for thermal printers, GIF for the others. UPS sends a one-element list as
 * a bare object, so every list is read through carrier_json_item. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "carrier.h"

#define UPS_BASE "https://onlinetools.ups.com"

static cJSON *party(const struct carrier_address *a, const char *shipper_number)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "Name", a->company ? a->company : a->name);
    cJSON_AddStringToObject(p, "AttentionName", a->name);
    if (shipper_number)
        cJSON_AddStringToObject(p, "ShipperNumber", shipper_number);
    if (a->phone)
        cJSON_AddStringToObject(cJSON_AddObjectToObject(p, "Phone"), "Number", a->phone);
    cJSON *addr = cJSON_AddObjectToObject(p, "Address");
    cJSON *lines = cJSON_AddArrayToObject(addr, "AddressLine");
    cJSON_AddItemToArray(lines, cJSON_CreateString(a->street1));
    if (a->street2)
        cJSON_AddItemToArray(lines, cJSON_CreateString(a->street2));
    cJSON_AddStringToObject(addr, "City", a->city);
    if (a->state)
        cJSON_AddStringToObject(addr, "StateProvinceCode", a->state);
    cJSON_AddStringToObject(addr, "PostalCode", a->postal_code);
    cJSON_AddStringToObject(addr, "CountryCode", a->country);
    return p;
}

/* transId (unique per request, at most 32 chars) and transactionSrc headers. */
static void trans_headers(const char *h[5], char id[33])
{
    static unsigned counter;
    snprintf(id, 33, "depot%lx%x", (unsigned long)time(NULL), __atomic_add_fetch(&counter, 1,
                                                                                 __ATOMIC_RELAXED));
    h[0] = "transId";
    h[1] = id;
    h[2] = "transactionSrc";
    h[3] = "depot";
    h[4] = NULL;
}

/* The Shipping API version: the carrier config's api_version (checked when stored),
 * else the one pinned here. */
static void ups_version(const struct carrier_ctx *cx, char out[16])
{
    cJSON *cfg = cJSON_Parse(cx->row->config);
    const char *v = carrier_json_str(cfg, "api_version");
    snprintf(out, 16, "%s", v && strlen(v) < 16 ? v : CARRIER_UPS_API_VERSION);
    cJSON_Delete(cfg);
}

/* A bodiless UPS call on prefix + value escaped (value named what in the error), with
 * fresh trans headers; *ans as carrier_call's. */
static depot_err ups_call_on(struct carrier_ctx *cx, const char *method, const char *prefix,
                             const char *value, const char *what, cJSON **ans)
{
    char path[256], esc[160], id[33];
    const char *h[5];
    if (carrier_escape(value, esc, sizeof esc) != 0)
        return carrier_fail(cx, DEPOT_E_INVALID, "%s too long", what);
    snprintf(path, sizeof path, "%s%s", prefix, esc);
    trans_headers(h, id);
    return carrier_call(cx, method, UPS_BASE, path, NULL, h, CARRIER_AUTH_BEARER, ans);
}

static depot_err ups_create(struct carrier_ctx *cx, const struct carrier_shipment_req *req,
                            struct carrier_label *out)
{
    char weight[32], id[33];
    const char *h[5];
    if (!cx->row->account[0])
        return carrier_fail(cx, DEPOT_E_INVALID, "ups needs the shipper number (--account)");
    int zpl = strcmp(req->label_format, "zpl") == 0;
    if (!zpl && strcmp(req->label_format, "png") != 0)
        return carrier_fail(cx, DEPOT_E_INVALID, "ups labels are zpl or png (GIF) here");
    snprintf(weight, sizeof weight, "%.2f", req->weight_kg);

    cJSON *b = cJSON_CreateObject(), *sr = cJSON_AddObjectToObject(b, "ShipmentRequest");
    cJSON *rq = cJSON_AddObjectToObject(sr, "Request");
    cJSON_AddStringToObject(rq, "RequestOption", "nonvalidate");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(rq, "TransactionReference"),
                            "CustomerContext", req->reference);
    cJSON *s = cJSON_AddObjectToObject(sr, "Shipment");
    cJSON_AddStringToObject(s, "Description", req->reference);
    cJSON_AddItemToObject(s, "Shipper", party(&req->shipper, cx->row->account));
    cJSON_AddItemToObject(s, "ShipTo", party(&req->recipient, NULL));
    cJSON_AddItemToObject(s, "ShipFrom", party(&req->shipper, NULL));
    cJSON *charge = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(cJSON_AddObjectToObject(s, "PaymentInformation"),
                                                "ShipmentCharge"), charge);
    cJSON_AddStringToObject(charge, "Type", "01");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(charge, "BillShipper"), "AccountNumber",
                            cx->row->account);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(s, "Service"), "Code",
                            req->service ? req->service : "11");
    cJSON *pkg = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(s, "Package"), pkg);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(pkg, "Packaging"), "Code", "02");
    cJSON *pw = cJSON_AddObjectToObject(pkg, "PackageWeight");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(pw, "UnitOfMeasurement"), "Code", "KGS");
    cJSON_AddStringToObject(pw, "Weight", weight);
    cJSON *ref = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(pkg, "ReferenceNumber"), ref);
    cJSON_AddStringToObject(ref, "Value", req->reference);
    cJSON *ls = cJSON_AddObjectToObject(sr, "LabelSpecification");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(ls, "LabelImageFormat"), "Code",
                            zpl ? "ZPL" : "GIF");
    if (zpl) {
        cJSON *size = cJSON_AddObjectToObject(ls, "LabelStockSize");
        cJSON_AddStringToObject(size, "Height", "6");
        cJSON_AddStringToObject(size, "Width", "4");
    }

    trans_headers(h, id);
    cJSON *ans = NULL;
    char version[16], path[64];
    ups_version(cx, version);
    snprintf(path, sizeof path, "/api/shipments/%s/ship", version);
    depot_err e = carrier_call(cx, "POST", UPS_BASE, path, b, h, CARRIER_AUTH_BEARER, &ans);
    if (e != DEPOT_OK)
        return e;
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(ans, "ShipmentResponse"), "ShipmentResults");
    const cJSON *pr = carrier_json_item(cJSON_GetObjectItemCaseSensitive(res, "PackageResults"), 0);
    const char *ship_id = carrier_json_str(res, "ShipmentIdentificationNumber");
    const char *label = carrier_json_str(cJSON_GetObjectItemCaseSensitive(pr, "ShippingLabel"),
                                         "GraphicImage");
    if (!ship_id || !ship_id[0] || strlen(ship_id) > CARRIER_TRACKING_MAX || !label)
        e = carrier_fail(cx, DEPOT_E_INVALID, "ups answer lacks ShipmentResults."
                         "ShipmentIdentificationNumber or the label's GraphicImage");
    else if (carrier_label_base64(out, label) != 0)
        e = carrier_fail(cx, DEPOT_E_INVALID, "ups label is not valid base64");
    if (e == DEPOT_OK) {
        /* Voiding a single-package shipment takes the shipment id, which is also the
         * package's tracking number. */
        snprintf(out->tracking, sizeof out->tracking, "%s", ship_id);
        snprintf(out->format, sizeof out->format, "%s", req->label_format);
    }
    cJSON_Delete(ans);
    return e;
}

static depot_err ups_lookup(struct carrier_ctx *cx, const char *reference,
                            char tracking[CARRIER_TRACKING_MAX + 1])
{
    cJSON *ans = NULL;
    depot_err e = ups_call_on(cx, "GET", "/api/track/v1/reference/details/", reference,
                              "reference", &ans);
    if (e == DEPOT_E_NOT_FOUND)
        return carrier_fail(cx, e, "ups has no shipment with reference %s", reference);
    if (e != DEPOT_OK)
        return e;
    const cJSON *ship = carrier_json_item(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(ans, "trackResponse"), "shipment"), 0);
    const cJSON *pkg = carrier_json_item(cJSON_GetObjectItemCaseSensitive(ship, "package"), 0);
    const char *n = carrier_json_str(pkg, "trackingNumber");
    if (n && n[0] && strlen(n) <= CARRIER_TRACKING_MAX)
        snprintf(tracking, CARRIER_TRACKING_MAX + 1, "%s", n);
    else
        e = carrier_fail(cx, DEPOT_E_NOT_FOUND, "ups has no shipment with reference %s",
                         reference);
    cJSON_Delete(ans);
    return e;
}

static depot_err ups_cancel(struct carrier_ctx *cx, const char *tracking)
{
    char prefix[64], version[16];
    ups_version(cx, version);
    snprintf(prefix, sizeof prefix, "/api/shipments/%s/void/cancel/", version);
    cJSON *ans = NULL;
    depot_err e = ups_call_on(cx, "DELETE", prefix, tracking, "tracking number", &ans);
    if (e != DEPOT_OK)
        return e;
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(ans, "VoidShipmentResponse"), "SummaryResult"), "Status");
    const char *code = carrier_json_str(status, "Code");
    if (!code || strcmp(code, "1") != 0)
        e = carrier_fail(cx, DEPOT_E_STATE, "ups did not void %s: %s", tracking,
                         carrier_json_str_or(status, "Description", "no reason given"));
    cJSON_Delete(ans);
    return e;
}

static const char *normalise(const char *type)
{
    if (!type)
        return "unknown";
    switch (type[0]) {
    case 'D': return "delivered";
    case 'M': case 'P': return "pre_transit";
    case 'I': case 'O': return "in_transit";
    case 'X': case 'R': return "exception";
    default: return "unknown";
    }
}

static depot_err ups_track(struct carrier_ctx *cx, const char *tracking, struct carrier_track *out)
{
    cJSON *ans = NULL;
    depot_err e = ups_call_on(cx, "GET", "/api/track/v1/details/", tracking, "tracking number",
                              &ans);
    if (e != DEPOT_OK)
        return e;
    const cJSON *ship = carrier_json_item(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(ans, "trackResponse"), "shipment"), 0);
    const cJSON *pkg = carrier_json_item(cJSON_GetObjectItemCaseSensitive(ship, "package"), 0);
    const cJSON *act = carrier_json_item(cJSON_GetObjectItemCaseSensitive(pkg, "activity"), 0);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(act, "status");
    if (!carrier_json_str(st, "type"))
        e = carrier_fail(cx, DEPOT_E_INVALID, "ups answer lacks package activity status");
    else {
        snprintf(out->status, sizeof out->status, "%s", normalise(carrier_json_str(st, "type")));
        snprintf(out->description, sizeof out->description, "%s",
                 carrier_json_str_or(st, "description", ""));
    }
    cJSON_Delete(ans);
    return e;
}

const struct carrier_ops carrier_ups_ops = {
    .name = "ups",
    .caps = CARRIER_CAN_LOOKUP,
    .create = ups_create,
    .lookup = ups_lookup,
    .cancel = ups_cancel,
    .track = ups_track,
};
