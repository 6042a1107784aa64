/* The WooCommerce adapter: REST API v3. Stock through products/batch (up to the
 * platform's 100 items per request), a shipped order completed with a tracking note
 * (looked up before it is added). HTTP Basic over HTTPS, OAuth 1.0a over plain HTTP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sync_int.h"
#include "vault.h"

/* Rationale: setting stock_quantity is a level, so a re-sent batch changes nothing. The
 * order note is the one effect that would repeat, so the note carries a marker naming
 * our shipment and is added only when no note with that marker exists; completing an
 * already completed order changes nothing. */

#define BATCH_MAX 100 /* woocommerce_rest_request_entity_too_large above */

enum { FUL_NOTES, FUL_NOTE, FUL_COMPLETE };

static int prepare(struct sync_channel *ch, char *err, size_t errlen)
{
    if (!ch->consumer_key || !ch->consumer_secret) {
        snprintf(err, errlen, "no consumer key/secret stored");
        return -1;
    }
    const char *root = ch->row.api_base[0] ? ch->row.api_base : ch->row.name;
    int n = snprintf(ch->base, sizeof ch->base, "%s/wp-json/wc/v3", root);
    if (n < 0 || (size_t)n >= sizeof ch->base) {
        snprintf(err, errlen, "API URL is too long");
        return -1;
    }
    return 0;
}

static const char *endpoint(const char *topic)
{
    if (strcmp(topic, "inventory.set") == 0)
        return "products";
    if (strcmp(topic, "fulfillment.create") == 0)
        return "orders";
    return NULL;
}

int sync_woo_request(struct sync_job *job, const char *method, const char *ep,
                   const char *path, const struct sync_oauth1_param *query, size_t nq)
{
    struct sync_channel *ch = job->ch;
    struct sync_request *r = &job->req;
    sync_request_reset(r);
    r->method = method;
    r->endpoint = ep;
    char url[SYNC_URL_MAX];
    int base_len = snprintf(url, sizeof url, "%s%s", ch->base, path);
    if (base_len < 0 || (size_t)base_len >= sizeof url)
        return -1;
    if (strncmp(url, "https://", 8) == 0) {
        r->user = ch->consumer_key;
        r->password = ch->consumer_secret;
        size_t len = strlen(url);
        for (size_t i = 0; i < nq; i++) {
            char *k = curl_easy_escape(NULL, query[i].key, 0);
            char *v = curl_easy_escape(NULL, query[i].value, 0);
            int n = k && v && len < sizeof url
                        ? snprintf(url + len, sizeof url - len, "%c%s=%s", i ? '&' : '?', k, v)
                        : -1;
            curl_free(k);
            curl_free(v);
            if (n < 0 || (size_t)n >= sizeof url - len)
                return -1;
            len += (size_t)n;
        }
        snprintf(r->url, sizeof r->url, "%s", url);
    } else {
        unsigned char raw[16];
        char nonce[33];
        if (depot_random_bytes(raw, sizeof raw) != DEPOT_OK)
            return -1;
        for (size_t i = 0; i < sizeof raw; i++)
            snprintf(nonce + 2 * i, 3, "%02x", raw[i]);
        char *qs = sync_oauth1_sign(method, url, query, nq, ch->consumer_key,
                                    ch->consumer_secret, NULL, NULL, nonce,
                                    (long long)time(NULL), NULL);
        if (!qs)
            return -1;
        int n = snprintf(r->url, sizeof r->url, "%s?%s", url, qs);
        free(qs);
        if (n < 0 || (size_t)n >= sizeof r->url)
            return -1;
    }
    return sync_request_header(r, "Accept", "application/json");
}

/* A JSON number when the id is all digits (WooCommerce ids are integers), else a string. */
static cJSON *id_value(const char *id)
{
    const char *p = id;
    while (*p >= '0' && *p <= '9')
        p++;
    return *p == '\0' && p != id ? cJSON_CreateNumber(strtod(id, NULL)) : cJSON_CreateString(id);
}

/* ---- Inventory ------------------------------------------------------------------- */

static enum sync_step inventory_batch(struct sync_job *job)
{
    cJSON *body = cJSON_CreateObject();
    cJSON *update = cJSON_AddArrayToObject(body, "update");
    int sent = 0;
    for (int i = 0; i < job->n && i < BATCH_MAX; i++) {
        cJSON *p = cJSON_Parse(job->items[i].payload);
        const cJSON *avail = cJSON_GetObjectItemCaseSensitive(p, "available");
        if (!job->product[i][0] || !cJSON_IsNumber(avail)) {
            job->result[i] = SYNC_FAIL;
            const char *sku = sync_json_str(p, "sku");
            sync_job_error(job, "SKU %s has no WooCommerce product id (channel map-sku "
                           "--product)", sku ? sku : "?");
            cJSON_Delete(p);
            continue;
        }
        cJSON *u = cJSON_CreateObject();
        cJSON_AddItemToObject(u, "id", id_value(job->product[i]));
        cJSON_AddBoolToObject(u, "manage_stock", 1);
        cJSON_AddNumberToObject(u, "stock_quantity", avail->valuedouble);
        cJSON_AddItemToArray(update, u);
        cJSON_Delete(p);
        sent++;
    }
    if (sent == 0) {
        cJSON_Delete(body);
        return SYNC_FAIL;
    }
    if (sync_woo_request(job, "POST", "products", "/products/batch", NULL, 0) != 0 ||
        sync_request_json(&job->req, body) != 0) {
        sync_job_error(job, "cannot build the request");
        return SYNC_RETRY;
    }
    return SYNC_SEND;
}

/* Matches the batch answer's "update" entries to the rows sent, in order. */
static enum sync_step on_batch(struct sync_job *job, const cJSON *root)
{
    const cJSON *update = cJSON_GetObjectItemCaseSensitive(root, "update");
    if (!cJSON_IsArray(update)) {
        job->upstream_fault = 1;
        sync_job_error(job, "WooCommerce batch answer has no update list");
        return SYNC_RETRY;
    }
    const cJSON *entry = update->child;
    for (int i = 0; i < job->n; i++) {
        if (job->result[i] == SYNC_FAIL)
            continue;
        if (!entry) {
            job->result[i] = SYNC_RETRY;
            continue;
        }
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(entry, "error");
        if (cJSON_IsObject(err)) {
            job->result[i] = SYNC_FAIL;
            sync_job_error(job, "WooCommerce refused product %s: %.120s", job->product[i],
                           sync_json_str(err, "message") ? sync_json_str(err, "message") : "");
        } else {
            job->result[i] = SYNC_DONE;
        }
        entry = entry->next;
    }
    return SYNC_DONE;
}

/* ---- Fulfillments ---------------------------------------------------------------- */

static void note_marker(const struct sync_job *job, char *out, size_t cap)
{
    cJSON *p = cJSON_Parse(job->items[0].payload);
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(p, "shipment_id");
    snprintf(out, cap, "[depot shipment %lld]",
             cJSON_IsNumber(sid) ? (long long)sid->valuedouble : 0LL);
    cJSON_Delete(p);
}

static enum sync_step order_call(struct sync_job *job, int phase)
{
    cJSON *p = cJSON_Parse(job->items[0].payload);
    const char *order = sync_json_str(p, "external_order_id");
    if (!order) {
        cJSON_Delete(p);
        sync_job_error(job, "the order has no WooCommerce id");
        return SYNC_FAIL;
    }
    char *oid = curl_easy_escape(NULL, order, 0);
    if (!oid) {
        cJSON_Delete(p);
        sync_job_error(job, "out of memory");
        return SYNC_RETRY;
    }
    char path[512];
    int n = snprintf(path, sizeof path, "/orders/%s%s", oid,
                     phase == FUL_COMPLETE ? "" : "/notes");
    curl_free(oid);
    if (n < 0 || (size_t)n >= sizeof path) {
        cJSON_Delete(p);
        sync_job_error(job, "the order's WooCommerce id is too long for a URL");
        return SYNC_FAIL;
    }
    job->phase = phase;
    int rc = 0;
    if (phase == FUL_NOTES) {
        static const struct sync_oauth1_param q[] = {{"per_page", "100"}};
        rc = sync_woo_request(job, "GET", "orders", path, q, 1);
    } else if (phase == FUL_NOTE) {
        char marker[64], text[512];
        note_marker(job, marker, sizeof marker);
        const char *tracking = sync_json_str(p, "tracking_number");
        const char *carrier = sync_json_str(p, "carrier");
        if (tracking)
            snprintf(text, sizeof text, "Shipped with %s, tracking number %s %s",
                     carrier ? carrier : "carrier", tracking, marker);
        else
            snprintf(text, sizeof text, "Shipped with %s %s", carrier ? carrier : "carrier",
                     marker);
        cJSON *body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "note", text);
        cJSON_AddBoolToObject(body, "customer_note", 1);
        rc = sync_woo_request(job, "POST", "orders", path, NULL, 0) ||
             sync_request_json(&job->req, body);
    } else {
        cJSON *body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "status", "completed");
        rc = sync_woo_request(job, "PUT", "orders", path, NULL, 0) ||
             sync_request_json(&job->req, body);
    }
    cJSON_Delete(p);
    if (rc != 0) {
        sync_job_error(job, "cannot build the request");
        return SYNC_RETRY;
    }
    return SYNC_SEND;
}

static enum sync_step on_notes(struct sync_job *job, const cJSON *root)
{
    if (!cJSON_IsArray(root)) {
        job->upstream_fault = 1;
        sync_job_error(job, "WooCommerce order notes are not a list");
        return SYNC_RETRY;
    }
    char marker[64];
    note_marker(job, marker, sizeof marker);
    const cJSON *n;
    cJSON_ArrayForEach(n, root) {
        const char *text = sync_json_str(n, "note");
        if (text && strstr(text, marker))
            return order_call(job, FUL_COMPLETE); /* noted by an earlier delivery */
    }
    return order_call(job, FUL_NOTE);
}

/* ---- Verbs ------------------------------------------------------------------------ */

static enum sync_step begin(struct sync_job *job)
{
    const char *topic = job->items[0].topic;
    if (strcmp(topic, "inventory.set") == 0)
        return inventory_batch(job);
    if (strcmp(topic, "fulfillment.create") == 0)
        return order_call(job, FUL_NOTES);
    sync_job_error(job, "WooCommerce channels do not take %s events", topic);
    return SYNC_FAIL;
}

static enum sync_step on_response(struct sync_job *job, const struct sync_response *res)
{
    cJSON *root = cJSON_ParseWithLength(res->body, res->len);
    if (!root) {
        job->upstream_fault = 1;
        sync_job_error(job, "WooCommerce sent a body that is not JSON (HTTP %ld)", res->status);
        return SYNC_RETRY;
    }
    enum sync_step step;
    if (strcmp(job->items[0].topic, "inventory.set") == 0)
        step = on_batch(job, root);
    else if (job->phase == FUL_NOTES)
        step = on_notes(job, root);
    else if (job->phase == FUL_NOTE)
        step = order_call(job, FUL_COMPLETE);
    else
        step = SYNC_DONE;
    cJSON_Delete(root);
    return step;
}

const struct channel_ops sync_woocommerce_ops = {
    .name = "woocommerce",
    .inventory_batch_max = BATCH_MAX,
    .prepare = prepare,
    .endpoint = endpoint,
    .begin = begin,
    .on_response = on_response,
    .pull_endpoint = "orders",
    .pull_begin = sync_woo_pull_begin,
    .on_pull = sync_woo_on_pull,
};
