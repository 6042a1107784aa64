/* DHL adapter: DHL Parcel DE Shipping API v2 (POST /parcel/de/shipping/v2/orders,
 * DELETE /parcel/de/shipping/v2/orders?shipment=...) with the Parcel DE password-grant
 * token, label as ZPL2 (910-300-600, 4x6-ish thermal) or PDF; tracking through DHL's
 * Shipment Tracking - Unified API (GET /track/shipments, DHL-API-Key header). Parcel DE
 * has no lookup by our reference, so a shipment that may exist is not re-created
 * blindly: see docs/CARRIERS.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "carrier.h"

#define DHL_BASE "https://api-eu.dhl.com"

/* ISO 3166 alpha-2 -> alpha-3 for the countries Parcel DE ships to most; others are
 * refused with a clear reason rather than guessed. */
static const char *alpha3(const char *a2)
{
    static const char *const map[][2] = {
        {"DE", "DEU"}, {"AT", "AUT"}, {"BE", "BEL"}, {"CH", "CHE"}, {"CZ", "CZE"}, {"DK", "DNK"},
        {"ES", "ESP"}, {"FI", "FIN"}, {"FR", "FRA"}, {"GB", "GBR"}, {"IE", "IRL"}, {"IT", "ITA"},
        {"LU", "LUX"}, {"NL", "NLD"}, {"NO", "NOR"}, {"PL", "POL"}, {"PT", "PRT"}, {"SE", "SWE"},
        {"US", "USA"},
    };
    for (size_t i = 0; a2 && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(a2, map[i][0]) == 0)
            return map[i][1];
    return NULL;
}

static cJSON *party(const struct carrier_address *a)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "name1", a->company ? a->company : a->name);
    if (a->company)
        cJSON_AddStringToObject(p, "name2", a->name);
    cJSON_AddStringToObject(p, "addressStreet", a->street1);
    if (a->street2)
        cJSON_AddStringToObject(p, "additionalAddressInformation1", a->street2);
    cJSON_AddStringToObject(p, "postalCode", a->postal_code);
    cJSON_AddStringToObject(p, "city", a->city);
    cJSON_AddStringToObject(p, "country", alpha3(a->country));
    if (a->email)
        cJSON_AddStringToObject(p, "email", a->email);
    if (a->phone)
        cJSON_AddStringToObject(p, "phone", a->phone);
    return p;
}

static const char *config_str(const struct carrier_ctx *cx, const char *name, cJSON **doc)
{
    if (!*doc)
        *doc = cJSON_Parse(cx->row->config);
    return carrier_json_str(*doc, name);
}

/* The first item's sstatus when it is not 200, as the reason. */
static const char *item_problem(const cJSON *item)
{
    const cJSON *ss = cJSON_GetObjectItemCaseSensitive(item, "sstatus");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(ss, "status");
    if (cJSON_IsNumber(code) && code->valueint == 200)
        return NULL;
    return carrier_json_str_or(ss, "detail", carrier_json_str_or(ss, "title", "no status"));
}

static depot_err dhl_create(struct carrier_ctx *cx, const struct carrier_shipment_req *req,
                            struct carrier_label *out)
{
    cJSON *cfg = NULL;
    const char *billing = config_str(cx, "billing_number", &cfg);
    const char *profile = config_str(cx, "profile", &cfg);
    int zpl = strcmp(req->label_format, "zpl") == 0;
    depot_err e = DEPOT_OK;
    if (!billing || !billing[0])
        billing = cx->row->account; /* the 14-digit EKP billing number */
    if (!billing || !billing[0])
        e = carrier_fail(cx, DEPOT_E_INVALID, "dhl needs the billing number (--account)");
    else if (!alpha3(req->shipper.country) || !alpha3(req->recipient.country))
        e = carrier_fail(cx, DEPOT_E_INVALID, "dhl: unsupported country %s",
                         alpha3(req->shipper.country) ? req->recipient.country
                                                      : req->shipper.country);
    else if (!zpl && strcmp(req->label_format, "pdf") != 0)
        e = carrier_fail(cx, DEPOT_E_INVALID, "dhl labels are zpl or pdf");
    else if (strlen(req->reference) < 8 || strlen(req->reference) > 35)
        e = carrier_fail(cx, DEPOT_E_INVALID, "dhl refNo must be 8..35 characters");
    if (e != DEPOT_OK) {
        cJSON_Delete(cfg);
        return e;
    }
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "profile", profile ? profile : CARRIER_DHL_PROFILE_DEFAULT);
    cJSON *s = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(b, "shipments"), s);
    cJSON_AddStringToObject(s, "product", req->service ? req->service : "V01PAK");
    cJSON_AddStringToObject(s, "billingNumber", billing);
    cJSON_AddStringToObject(s, "refNo", req->reference);
    cJSON_AddItemToObject(s, "shipper", party(&req->shipper));
    cJSON_AddItemToObject(s, "consignee", party(&req->recipient));
    cJSON *w = cJSON_AddObjectToObject(cJSON_AddObjectToObject(s, "details"), "weight");
    cJSON_AddStringToObject(w, "uom", "kg");
    cJSON_AddNumberToObject(w, "value", req->weight_kg);
    cJSON_Delete(cfg);

    cJSON *ans = NULL;
    e = carrier_call(cx, "POST", DHL_BASE,
                     zpl ? "/parcel/de/shipping/v2/orders?docFormat=ZPL2&printFormat=910-300-600"
                         : "/parcel/de/shipping/v2/orders?docFormat=PDF",
                     b, NULL, CARRIER_AUTH_BEARER, &ans);
    if (e != DEPOT_OK)
        return e;
    const cJSON *item = carrier_json_item(cJSON_GetObjectItemCaseSensitive(ans, "items"), 0);
    const char *no = carrier_json_str(item, "shipmentNo"), *problem = item_problem(item);
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(item, "label");
    const char *zpl2 = carrier_json_str(label, "zpl2"), *b64 = carrier_json_str(label, "b64");
    if (problem)
        e = carrier_fail(cx, DEPOT_E_INVALID, "dhl refused the shipment: %s", problem);
    else if (!no || !no[0] || strlen(no) > CARRIER_TRACKING_MAX || (!zpl2 && !b64))
        e = carrier_fail(cx, DEPOT_E_INVALID, "dhl answer lacks items[0].shipmentNo or label");
    else if (zpl2) {
        size_t n = strlen(zpl2);
        if (!(out->data = malloc(n ? n : 1)))
            e = carrier_fail(cx, DEPOT_E_NOMEM, "out of memory");
        else {
            memcpy(out->data, zpl2, n);
            out->len = n;
        }
    } else if (carrier_label_base64(out, b64) != 0)
        e = carrier_fail(cx, DEPOT_E_INVALID, "dhl label is not valid base64");
    if (e == DEPOT_OK) {
        snprintf(out->tracking, sizeof out->tracking, "%s", no);
        snprintf(out->format, sizeof out->format, "%s", req->label_format);
    }
    cJSON_Delete(ans);
    return e;
}

static depot_err dhl_cancel(struct carrier_ctx *cx, const char *tracking)
{
    char path[384], esc[160], prof[96];
    cJSON *cfg = NULL;
    const char *profile = config_str(cx, "profile", &cfg);
    if (carrier_escape(tracking, esc, sizeof esc) != 0 ||
        carrier_escape(profile ? profile : CARRIER_DHL_PROFILE_DEFAULT, prof, sizeof prof) != 0) {
        cJSON_Delete(cfg);
        return carrier_fail(cx, DEPOT_E_INVALID, "shipment number or profile too long");
    }
    cJSON_Delete(cfg);
    snprintf(path, sizeof path, "/parcel/de/shipping/v2/orders?profile=%s&shipment=%s", prof, esc);
    cJSON *ans = NULL;
    depot_err e = carrier_call(cx, "DELETE", DHL_BASE, path, NULL, NULL, CARRIER_AUTH_BEARER, &ans);
    if (e != DEPOT_OK)
        return e;
    const char *problem = item_problem(carrier_json_item(
        cJSON_GetObjectItemCaseSensitive(ans, "items"), 0));
    if (problem)
        e = carrier_fail(cx, DEPOT_E_STATE, "dhl did not delete %s: %s", tracking, problem);
    cJSON_Delete(ans);
    return e;
}

static depot_err dhl_track(struct carrier_ctx *cx, const char *tracking, struct carrier_track *out)
{
    char path[256], esc[160];
    if (carrier_escape(tracking, esc, sizeof esc) != 0)
        return carrier_fail(cx, DEPOT_E_INVALID, "shipment number too long");
    snprintf(path, sizeof path, "/track/shipments?trackingNumber=%s", esc);
    cJSON *ans = NULL;
    depot_err e = carrier_call(cx, "GET", DHL_BASE, path, NULL, NULL, CARRIER_AUTH_API_KEY, &ans);
    if (e != DEPOT_OK)
        return e;
    const cJSON *ship = carrier_json_item(cJSON_GetObjectItemCaseSensitive(ans, "shipments"), 0);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(ship, "status");
    const char *code = carrier_json_str(st, "statusCode");
    static const char *const known[] = {"pre-transit", "transit", "delivered", "failure"};
    static const char *const ours[] = {"pre_transit", "in_transit", "delivered", "exception"};
    if (!code)
        e = carrier_fail(cx, DEPOT_E_INVALID, "dhl answer lacks shipments[0].status.statusCode");
    else {
        snprintf(out->status, sizeof out->status, "unknown");
        for (int i = 0; i < 4; i++)
            if (strcmp(code, known[i]) == 0)
                snprintf(out->status, sizeof out->status, "%s", ours[i]);
        snprintf(out->description, sizeof out->description, "%s",
                 carrier_json_str_or(st, "description", carrier_json_str_or(st, "status", "")));
    }
    cJSON_Delete(ans);
    return e;
}

const struct carrier_ops carrier_dhl_ops = {
    .name = "dhl",
    .caps = 0,
    .create = dhl_create,
    .lookup = NULL,
    .cancel = dhl_cancel,
    .track = dhl_track,
};
