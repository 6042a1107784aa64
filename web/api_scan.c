/* Keyboard-wedge scans: a code typed into the packing page by a USB scanner is resolved
 * exactly as a serial scanner's (depot_scan_resolve) and published as the same "scan"
 * event, marked "source":"keyboard": the resolution plus "station", "raw" (what was
 * typed; null for a badge, which is never echoed) and "data" (without an AIM prefix). */
#include <stdio.h>
#include <string.h>
#include "api.h"
#include "api_pack.h"
#include "gs1.h"
#include "scan_resolve.h"

#define STATION_MAX 64

/* Reads a typed scan as the serial path does: text becomes the data after a well-formed
 * AIM identifier (else the code as typed); returns 1 with the GTIN-14 of AI 01 in gtin
 * when the scan is a GS1 element string that has one, else 0. */
static int parse_scan(const char *code, char *text, size_t textlen, char gtin[15])
{
    static struct depot_gs1_scan scan; /* loop thread only; too big for the stack */
    snprintf(text, textlen, "%s", code);
    if (depot_gs1_parse(code, strlen(code), &scan) != DEPOT_GS1_OK)
        return 0;
    if (scan.plain) {
        snprintf(text, textlen, "%s", scan.data);
        return 0;
    }
    if (scan.aim[0])
        snprintf(text, textlen, "%s", code + strlen(scan.aim));
    for (size_t i = 0; i < scan.n_fields; i++)
        if (strcmp(scan.fields[i].ai, "01") == 0 && strlen(scan.fields[i].value) == 14) {
            memcpy(gtin, scan.fields[i].value, 15);
            return 1;
        }
    return 0;
}

static void scan_post(struct web_request *req, struct web_response *res)
{
    static const char *const fields[] = {"station", "code", NULL};
    const char *station, *code;
    char gtin[15] = "", text[DEPOT_SCAN_TEXT_MAX + 1];
    cJSON *out = NULL;
    cJSON *body = web_body_json(req, res);
    if (!body)
        return;
    if (web_api_only(body, fields, res) != 0 ||
        web_api_string(body, "station", 1, STATION_MAX, res, &station) != 0 ||
        web_api_string(body, "code", 1, DEPOT_SCAN_TEXT_MAX, res, &code) != 0)
        goto done;
    int has_gtin = parse_scan(code, text, sizeof text, gtin);
    depot_err e = depot_scan_resolve(req->srv->st, text, has_gtin ? gtin : NULL, &out);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, req->srv->st, e);
        goto done;
    }
    cJSON_AddStringToObject(out, "station", station);
    cJSON_AddStringToObject(out, "source", "keyboard");
    if (!depot_scan_is_secret(code)) {
        cJSON_AddStringToObject(out, "raw", code);
        cJSON_AddStringToObject(out, "data", text);
    } else {
        cJSON_AddNullToObject(out, "raw");
    }
    web_events_publish(req->srv, "scan", cJSON_Duplicate(out, 1));
    web_respond_json(res, 200, out);
done:
    cJSON_Delete(body);
}

const struct web_route web_routes_scan[] = {
    {WEB_POST, "/api/v1/scans", WEB_ROLE_PACKER, 0, scan_post, "scans_post"},
    {0},
};
