/* POST /api/v1/labels: a SKU, bin or tote (QR) label built as ZPL for the named printer's
 * stock and resolution and queued on it (the back office's "print label" buttons). */
#include <stdio.h>
#include <string.h>
#include "api.h"
#include "api_pack.h"
#include "printers.h"
#include "zpl.h"

/* The SKU label's name and first GTIN (NULL if none) from the store; the caller frees
 * *doc, which the strings point into. */
static depot_err sku_fields(depot_store *st, const char *sku, cJSON **doc, const char **name,
                            const char **gtin)
{
    depot_err e = depot_stock_show_json(st, sku, doc);
    if (e != DEPOT_OK)
        return e;
    const cJSON *gtins = cJSON_GetObjectItemCaseSensitive(*doc, "gtins");
    const cJSON *first = cJSON_GetArrayItem(gtins, 0);
    *name = web_json_string(*doc, "name");
    *gtin = cJSON_IsString(first) ? first->valuestring : NULL;
    return DEPOT_OK;
}

static void label_post(struct web_request *req, struct web_response *res)
{
    static const char *const fields[] = {"kind", "code", "printer", NULL};
    depot_store *st = req->srv->st;
    const char *kind, *code, *printer, *name = NULL, *gtin = NULL;
    struct depot_printer_row row;
    struct depot_zpl_buf zpl = {0};
    cJSON *sku = NULL;
    char err[200] = "the printer's label stock is not known";
    int64_t job = 0;
    cJSON *body = web_body_json(req, res);
    if (!body)
        return;
    if (web_api_only(body, fields, res) != 0 ||
        web_api_string(body, "kind", 1, 8, res, &kind) != 0 ||
        web_api_string(body, "code", 1, DEPOT_ZPL_CODE_MAX, res, &code) != 0 ||
        web_api_string(body, "printer", 1, DEPOT_PRINTER_NAME_MAX, res, &printer) != 0)
        goto out;
    if (strcmp(kind, "sku") != 0 && strcmp(kind, "bin") != 0 && strcmp(kind, "tote") != 0) {
        web_respond_error(res, 400, "invalid_parameter", "'kind' must be sku, bin or tote");
        goto out;
    }
    depot_err e = depot_printer_get(st, printer, &row);
    if (e == DEPOT_OK && strcmp(kind, "sku") == 0)
        e = sku_fields(st, code, &sku, &name, &gtin);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, st, e);
        goto out;
    }
    struct depot_zpl_media media = {DEPOT_ZPL_STOCK_2X1, row.dpi};
    int built = depot_zpl_stock_parse(row.stock, &media.stock) == 0 &&
                (strcmp(kind, "sku") == 0
                     ? depot_zpl_sku_label(&zpl, &media, code, name, gtin, err, sizeof err)
                 : strcmp(kind, "bin") == 0
                     ? depot_zpl_bin_label(&zpl, &media, code, err, sizeof err)
                     : depot_zpl_tote_label(&zpl, &media, code, NULL, err, sizeof err)) == 0;
    if (!built) {
        web_respond_error(res, 400, "invalid_label", "cannot build the label: %s", err);
        goto out;
    }
    e = depot_print_enqueue(st, printer, zpl.data, zpl.len, req->auth.actor, &job);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, st, e);
        goto out;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "job_id", (double)job);
    cJSON_AddStringToObject(doc, "printer", printer);
    web_respond_json(res, 201, doc);
out:
    depot_zpl_buf_free(&zpl);
    cJSON_Delete(sku);
    cJSON_Delete(body);
}

const struct web_route web_routes_labels[] = {
    {WEB_POST, "/api/v1/labels", WEB_ROLE_SUPERVISOR, 0, label_post, "labels_post"},
    {0},
};
