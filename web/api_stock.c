/* The stock endpoints: SKU list/search and view, ledger history, manual adjustments and
 * the CSV import upload. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "api.h"
#include "log.h"

#define SKU_CODE_MAX 64
#define REASON_MAX 200
#define DELTA_MAX 1000000000

static void sku_list(struct web_request *req, struct web_response *res)
{
    char qbuf[WEB_API_QUERY_MAX], abuf[WEB_API_QUERY_MAX];
    const char *q, *after;
    int64_t limit;
    cJSON *doc = NULL;
    if (web_api_query(req, res, "q", DEPOT_SEARCH_MAX, qbuf, &q) != 0 ||
        web_api_query(req, res, "after", SKU_CODE_MAX, abuf, &after) != 0 ||
        web_api_page(req, res, NULL, NULL, &limit) != 0)
        return;
    depot_err e = depot_sku_list_json(req->srv->st, q, after, (int)limit, &doc);
    web_api_view(res, req->srv->st, e, doc, NULL);
}

static void sku_show(struct web_request *req, struct web_response *res)
{
    cJSON *doc = NULL;
    depot_err e = depot_stock_show_json(req->srv->st, req->params[0], &doc);
    web_api_view(res, req->srv->st, e, doc, NULL);
}

static void sku_ledger(struct web_request *req, struct web_response *res)
{
    int64_t before, limit;
    cJSON *doc = NULL;
    if (web_api_page(req, res, "before", &before, &limit) != 0)
        return;
    depot_err e = depot_ledger_list_json(req->srv->st, req->params[0], before, (int)limit,
                                         &doc);
    web_api_view(res, req->srv->st, e, doc, NULL);
}

/* Each manual adjustment is a line of the SKU's story in the log (journald: SKU=,
 * REQUEST_ID=), whether it worked or not. The reason is free text typed by a person and
 * stays in the ledger, not the log. */
static void log_adjustment(struct web_request *req, const char *sku, const char *location,
                           int64_t delta, depot_err e)
{
    depot_log_kv(DEPOT_LOG_INFO, "stock",
                 DEPOT_KV({"sku", sku}, {"location", location},
                          {"request_id", req->request_id}, {"actor", req->auth.actor}),
                 "adjust %s at %s by %+lld %s%s%s", sku, location, (long long)delta,
                 e == DEPOT_OK ? "done" : "refused", e == DEPOT_OK ? "" : ": ",
                 e == DEPOT_OK ? "" : depot_store_errmsg(req->srv->st));
}

/* Rationale: the answer and the "stock" event both carry the SKU's levels as read back
 * after the commit, so a client can replace what it shows instead of applying a delta
 * to a view that may be stale. */
static void sku_adjust(struct web_request *req, struct web_response *res)
{
    static const char *const fields[] = {"location", "delta", "reason", NULL};
    depot_store *st = req->srv->st;
    const char *sku = req->params[0], *location, *reason;
    int64_t delta, ledger_id = 0;
    cJSON *view = NULL;
    cJSON *body = web_body_json(req, res);
    if (!body)
        return;
    if (web_api_only(body, fields, res) != 0 ||
        web_api_string(body, "location", 1, SKU_CODE_MAX, res, &location) != 0 ||
        web_api_int(body, "delta", 1, -DELTA_MAX, DELTA_MAX, 0, res, &delta) != 0 ||
        web_api_string(body, "reason", 1, REASON_MAX, res, &reason) != 0)
        goto out;
    if (delta == 0) {
        web_respond_error(res, 400, "invalid_parameter", "'delta' must not be 0");
        goto out;
    }
    depot_err e = depot_stock_adjust(st, sku, location, delta, reason, req->auth.actor,
                                     &ledger_id);
    log_adjustment(req, sku, location, delta, e);
    if (e == DEPOT_OK)
        e = depot_stock_show_json(st, sku, &view);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, st, e);
        goto out;
    }
    web_events_publish(req->srv, "stock", cJSON_Duplicate(view, 1));
    cJSON_AddNumberToObject(view, "ledger_id", (double)ledger_id);
    web_respond_json(res, 200, view);
out:
    cJSON_Delete(body);
}

/* The import's summary, or its per-row errors as the CLI reports them. */
static cJSON *import_summary(const struct depot_import_result *r)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "rows", (double)r->rows);
    cJSON_AddNumberToObject(doc, "changed", (double)r->changed);
    cJSON_AddNumberToObject(doc, "skus_created", (double)r->skus_created);
    return doc;
}

static void import_refused(struct web_response *res, const struct depot_import_result *r)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *err = cJSON_AddObjectToObject(doc, "error");
    char msg[96];
    snprintf(msg, sizeof msg, "%zu error(s) in the CSV; nothing was imported",
             r->errors_total);
    cJSON_AddStringToObject(err, "code", "invalid_csv");
    cJSON_AddStringToObject(err, "message", msg);
    cJSON_AddNumberToObject(err, "errors_total", (double)r->errors_total);
    cJSON *list = cJSON_AddArrayToObject(err, "errors");
    for (size_t i = 0; i < r->errors_n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "row", (double)r->errors[i].row);
        cJSON_AddStringToObject(o, "column", r->errors[i].column);
        cJSON_AddStringToObject(o, "message", r->errors[i].message);
        cJSON_AddItemToArray(list, o);
    }
    web_respond_json(res, 422, doc);
}

/* Writes the body to a new private file under the system temp dir; its path in path.
 * Logs and returns -1 on failure (nothing is left behind). */
static int spool_body(const struct web_request *req, char *path, size_t len)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    if (snprintf(path, len, "%s/depot-upload-XXXXXX", dir) >= (int)len) {
        depot_log(DEPOT_LOG_ERROR, "web", "temp dir path too long: %s", dir);
        return -1;
    }
    int fd = mkstemp(path); /* mode 0600 */
    if (fd < 0) {
        depot_log(DEPOT_LOG_ERROR, "web", "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    size_t done = 0;
    int err = 0;
    while (done < req->body_len && !err) {
        ssize_t n = write(fd, req->body + done, req->body_len - done);
        if (n > 0)
            done += (size_t)n;
        else if (n == 0 || errno != EINTR)
            err = n < 0 ? errno : EIO;
    }
    if (close(fd) != 0 && !err)
        err = errno;
    if (err) {
        depot_log(DEPOT_LOG_ERROR, "web", "cannot write the upload to %s: %s", path,
                  strerror(err));
        unlink(path);
        return -1;
    }
    return 0;
}

static void stock_import(struct web_request *req, struct web_response *res)
{
    struct depot_import_result r = {0};
    char ctype[128], path[4096];
    if (!web_header(req, "content-type", ctype, sizeof ctype) ||
        strncasecmp(ctype, "text/csv", 8) != 0) {
        web_respond_error(res, 415, "unsupported_media_type",
                          "the body must be CSV (Content-Type: text/csv)");
        return;
    }
    if (spool_body(req, path, sizeof path) != 0) {
        web_respond_error(res, 500, "io_error", "cannot store the upload for import");
        return;
    }
    depot_err e = depot_stock_import_csv(req->srv->st, path, req->auth.actor, &r);
    unlink(path);
    if (r.errors_total > 0) {
        import_refused(res, &r);
    } else if (e != DEPOT_OK) {
        web_respond_store_error(res, req->srv->st, e);
    } else {
        cJSON *event = cJSON_CreateObject();
        cJSON_AddItemToObject(event, "import", import_summary(&r));
        web_events_publish(req->srv, "stock", event);
        web_respond_json(res, 200, import_summary(&r));
    }
    depot_import_result_free(&r);
}

const struct web_route web_routes_stock[] = {
    {WEB_GET, "/api/v1/skus", WEB_ROLE_PACKER, 0, sku_list, "skus_list"},
    {WEB_GET, "/api/v1/skus/{sku}", WEB_ROLE_PACKER, 0, sku_show, "skus_show"},
    {WEB_GET, "/api/v1/skus/{sku}/ledger", WEB_ROLE_SUPERVISOR, 0, sku_ledger, "skus_ledger"},
    {WEB_POST, "/api/v1/skus/{sku}/adjust", WEB_ROLE_SUPERVISOR, 0, sku_adjust, "skus_adjust"},
    {WEB_POST, "/api/v1/stock/import", WEB_ROLE_SUPERVISOR, WEB_ROUTE_BIG_BODY, stock_import,
     "stock_import"},
    {0},
};
