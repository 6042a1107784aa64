/* The printer and print-job endpoints: printers with their live state, the job list,
 * cancel, reprint, and a test label. Jobs are only queued here; the print worker sends
 * them (daemon/print_worker.c). */
#include <stdio.h>
#include <string.h>
#include "api.h"
#include "api_print.h"
#include "printer.h"
#include "printers.h"
#include "printers_view.h"
#include "zpl.h"

/* Adds the live fields of printer name to o. */
static void add_live(cJSON *o, const char *name, int enabled)
{
    struct depot_printer_live live;
    if (depot_printer_live_get(name, &live) != 0) {
        live = (struct depot_printer_live){
            .state = enabled ? DEPOT_PRINTER_UNKNOWN : DEPOT_PRINTER_STOPPED};
        snprintf(live.message, sizeof live.message, "%s", enabled ? "" : "disabled");
    }
    cJSON_AddStringToObject(o, "state", depot_printer_state_name(live.state));
    cJSON_AddStringToObject(o, "message", live.message);
    cJSON_AddNumberToObject(o, "since", (double)live.since);
    cJSON_AddNumberToObject(o, "printed", (double)live.printed);
    cJSON_AddNumberToObject(o, "current_job", (double)live.current_job);
}

cJSON *web_printers_view(depot_store *st, depot_err *e)
{
    cJSON *arr = NULL, *p;
    *e = depot_printer_list_json(st, &arr);
    if (*e != DEPOT_OK)
        return NULL;
    cJSON_ArrayForEach(p, arr) {
        const char *name = web_json_string(p, "name");
        if (name)
            add_live(p, name, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "enabled")));
    }
    return arr;
}

cJSON *web_printers_provider(void *user)
{
    depot_err e;
    return web_printers_view(user, &e);
}

static void printers_get(struct web_request *req, struct web_response *res)
{
    depot_err e;
    cJSON *arr = web_printers_view(req->srv->st, &e);
    if (!arr) {
        web_respond_store_error(res, req->srv->st, e);
        return;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddItemToObject(doc, "items", arr);
    web_respond_json(res, 200, doc);
}

static void jobs_get(struct web_request *req, struct web_response *res)
{
    char pbuf[WEB_API_QUERY_MAX];
    const char *printer;
    int64_t limit;
    cJSON *arr = NULL;
    if (web_api_query(req, res, "printer", DEPOT_PRINTER_NAME_MAX, pbuf, &printer) != 0 ||
        web_query_int(req, res, "limit", 1, 1000, 100, &limit) != 0)
        return;
    depot_err e = depot_print_list_json(req->srv->st, printer && *printer ? printer : NULL,
                                        (int)limit, &arr);
    if (e != DEPOT_OK) {
        web_api_view(res, req->srv->st, e, NULL, "printer");
        return;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddItemToObject(doc, "items", arr);
    web_respond_json(res, 200, doc);
}

static void job_cancel(struct web_request *req, struct web_response *res)
{
    int64_t id;
    if (web_param_id(req, res, 0, &id) != 0)
        return;
    depot_err e = depot_print_cancel(req->srv->st, id, req->auth.actor);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, req->srv->st, e);
        return;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "job_id", (double)id);
    cJSON_AddStringToObject(doc, "status", "cancelled");
    web_respond_json(res, 200, doc);
}

static void job_reprint(struct web_request *req, struct web_response *res)
{
    int64_t id, new_id = 0;
    if (web_param_id(req, res, 0, &id) != 0)
        return;
    depot_err e = depot_print_reprint(req->srv->st, id, req->auth.actor, &new_id);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, req->srv->st, e);
        return;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "job_id", (double)new_id);
    cJSON_AddNumberToObject(doc, "reprint_of", (double)id);
    web_respond_json(res, 201, doc);
}

static void printer_test(struct web_request *req, struct web_response *res)
{
    struct depot_printer_row row;
    struct depot_zpl_buf zpl = {0};
    struct depot_zpl_media media = {0};
    depot_store *st = req->srv->st;
    char err[256];
    int64_t id = 0;
    depot_err e = depot_printer_get(st, req->params[0], &row);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, st, e);
        return;
    }
    media.dpi = row.dpi;
    depot_zpl_stock_parse(row.stock, &media.stock);
    if (depot_printer_test_label(&zpl, &media, row.name, err, sizeof err) != 0) {
        web_respond_error(res, 500, "label_failed", "%s", err);
        return;
    }
    e = depot_print_enqueue(st, row.name, zpl.data, zpl.len, req->auth.actor, &id);
    depot_zpl_buf_free(&zpl);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, st, e);
        return;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "job_id", (double)id);
    cJSON_AddStringToObject(doc, "printer", row.name);
    web_respond_json(res, 201, doc);
}

const struct web_route web_routes_print[] = {
    {WEB_GET, "/api/v1/printers", WEB_ROLE_PACKER, 0, printers_get, "printers"},
    {WEB_POST, "/api/v1/printers/{name}/test", WEB_ROLE_SUPERVISOR, 0, printer_test,
     "printers_test"},
    {WEB_GET, "/api/v1/print-jobs", WEB_ROLE_PACKER, 0, jobs_get, "print_jobs"},
    {WEB_POST, "/api/v1/print-jobs/{id}/cancel", WEB_ROLE_PACKER, 0, job_cancel,
     "print_jobs_cancel"},
    {WEB_POST, "/api/v1/print-jobs/{id}/reprint", WEB_ROLE_PACKER, 0, job_reprint,
     "print_jobs_reprint"},
    {0},
};
