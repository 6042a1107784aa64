/* The Shopify adapter: GraphQL Admin API at the channel's pinned version. Stock levels
 * through inventorySetQuantities (compare-and-set, @idempotent where the version has
 * it), fulfillments from fulfillment orders with tracking (lookup before create), and
 * the webhook subscriptions we consume (webhookSubscriptionCreate). The pull of recent
 * orders for the inbound backstop is in shopify_pull.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "sync_int.h"

/* Rationale: exactly-once effect through re-delivery. An inventory set carries the
 * level we last pushed as its compare quantity (compareQuantity; changeFromQuantity from
 * 2026-04; before the first push, the level read from Shopify) and, from 2026-01, our
 * idempotency key in @idempotent. A re-sent set either
 * returns the original result (same key) or fails as stale because the first one
 * applied; then we read the level, and if it already equals what we wanted we are done,
 * else we set it again comparing against what is there (the platform moved: a sale).
 * A fulfillment first reads the order: a fulfillment with our tracking number, or no
 * fulfillment order left open, means an earlier delivery already did it. */

enum { INV_SET, INV_READ };
enum { FUL_LOOKUP, FUL_CREATE };

#define STALE_ROUNDS_MAX 3
#define THROTTLE_WAIT_MAX 3600 /* s; a bucket refills in under a minute, never trust more */
#define LEVEL_MAX 1e15         /* |available| beyond this is not a stock level */
#define CALL_COST 10 /* our queries and mutations each cost about 10 points */
#define TOKEN_HEADER "X-Shopify-Access-Token"

static const char SET_QUERY[] =
    "mutation DepotSetAvailable($input: InventorySetQuantitiesInput!) {"
    " inventorySetQuantities(input: $input) {"
    " inventoryAdjustmentGroup { id } userErrors { field message code } } }";
static const char SET_QUERY_IDEMPOTENT[] =
    "mutation DepotSetAvailable($input: InventorySetQuantitiesInput!, $key: String!) {"
    " inventorySetQuantities(input: $input) @idempotent(key: $key) {"
    " inventoryAdjustmentGroup { id } userErrors { field message code } } }";
static const char LEVEL_QUERY[] =
    "query DepotLevel($item: ID!, $location: ID!) { inventoryItem(id: $item) {"
    " inventoryLevel(locationId: $location) { quantities(names: [\"available\"]) {"
    " name quantity } } } }";
static const char ORDER_QUERY[] =
    "query DepotOrderFulfillment($id: ID!) { order(id: $id) { id"
    " fulfillments(first: 50) { id status trackingInfo(first: 5) { number } }"
    " fulfillmentOrders(first: 50) { nodes { id status } } } }";
static const char WEBHOOK_QUERY[] =
    "mutation DepotSubscribe($topic: WebhookSubscriptionTopic!,"
    " $webhookSubscription: WebhookSubscriptionInput!) {"
    " webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {"
    " webhookSubscription { id } userErrors { field message } } }";
static const char CREATE_QUERY[] =
    "mutation DepotFulfill($fulfillment: FulfillmentInput!) {"
    " fulfillmentCreate(fulfillment: $fulfillment) {"
    " fulfillment { id status } userErrors { field message } } }";

static int prepare(struct sync_channel *ch, char *err, size_t errlen)
{
    if (!ch->token) {
        snprintf(err, errlen, "no access token stored");
        return -1;
    }
    const char *version = ch->row.api_version[0] ? ch->row.api_version
                                                 : DEPOT_SHOPIFY_API_VERSION;
    int n;
    if (ch->row.api_base[0])
        n = snprintf(ch->base, sizeof ch->base, "%s/admin/api/%s/graphql.json",
                     ch->row.api_base, version);
    else
        n = snprintf(ch->base, sizeof ch->base, "https://%s/admin/api/%s/graphql.json",
                     ch->row.name, version);
    if (n < 0 || (size_t)n >= sizeof ch->base) {
        snprintf(err, errlen, "API URL is too long");
        return -1;
    }
    return 0;
}

static const char *endpoint(const char *topic)
{
    if (strcmp(topic, "inventory.set") == 0 || strcmp(topic, "fulfillment.create") == 0 ||
        strcmp(topic, "webhooks.register") == 0)
        return "graphql";
    return NULL;
}

static const char *version_of(const struct sync_channel *ch)
{
    return ch->row.api_version[0] ? ch->row.api_version : DEPOT_SHOPIFY_API_VERSION;
}

enum sync_step sync_shopify_graphql(struct sync_job *job, const char *query,
                                    cJSON *variables)
{
    struct sync_request *r = &job->req;
    sync_request_reset(r);
    r->method = "POST";
    r->endpoint = "graphql";
    r->cost = CALL_COST;
    snprintf(r->url, sizeof r->url, "%s", job->ch->base);
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "query", query);
    cJSON_AddItemToObject(body, "variables", variables);
    if (sync_request_json(r, body) != 0 ||
        sync_request_header(r, TOKEN_HEADER, job->ch->token) != 0 ||
        sync_request_header(r, "Accept", "application/json") != 0) {
        sync_job_error(job, "out of memory");
        return SYNC_RETRY;
    }
    return SYNC_SEND;
}

/* The request with its access token header replaced by the channel's current token;
 * the old header's copy of the old token is wiped. */
static int retoken(struct sync_job *job)
{
    struct sync_request *r = &job->req;
    struct curl_slist *kept = NULL, *l;
    static const char prefix[] = TOKEN_HEADER ":";
    for (l = r->headers; l; l = l->next) {
        if (strncasecmp(l->data, prefix, sizeof prefix - 1) == 0)
            continue;
        struct curl_slist *n = curl_slist_append(kept, l->data);
        if (!n) {
            curl_slist_free_all(kept);
            return -1;
        }
        kept = n;
    }
    for (l = r->headers; l; l = l->next)
        if (strncasecmp(l->data, prefix, sizeof prefix - 1) == 0)
            explicit_bzero(l->data, strlen(l->data));
    curl_slist_free_all(r->headers);
    r->headers = kept;
    return sync_request_header(r, TOKEN_HEADER, job->ch->token);
}

/* ---- Inventory ------------------------------------------------------------------- */

static enum sync_step inventory_read(struct sync_job *job);

static enum sync_step inventory_set(struct sync_job *job)
{
    if (job->prev[0] < 0)
        return inventory_read(job); /* never pushed: compare with what is there */
    struct depot_outbox_item *it = &job->items[0];
    cJSON *p = cJSON_Parse(it->payload);
    const char *item = sync_json_str(p, "external_inventory_id");
    const char *loc = sync_json_str(p, "external_location_id");
    const cJSON *avail = cJSON_GetObjectItemCaseSensitive(p, "available");
    if (!item || !loc || !cJSON_IsNumber(avail)) {
        const char *sku = sync_json_str(p, "sku");
        sync_job_error(job, "SKU %s has no Shopify inventory item id (channel map-sku "
                       "--inventory-item)", sku ? sku : "?");
        cJSON_Delete(p);
        return SYNC_FAIL;
    }
    char item_gid[200], loc_gid[200], uri[260];
    sync_shopify_gid(item_gid, sizeof item_gid, "InventoryItem", item);
    sync_shopify_gid(loc_gid, sizeof loc_gid, "Location", loc);
    snprintf(uri, sizeof uri, "depot://outbox/%s", it->key);
    const char *version = version_of(job->ch);
    int change_from = strcmp(version, "2026-04") >= 0;
    int idempotent = strcmp(version, "2026-01") >= 0;
    int64_t prev = job->prev[0];

    cJSON *vars = cJSON_CreateObject();
    cJSON *input = cJSON_AddObjectToObject(vars, "input");
    cJSON_AddStringToObject(input, "name", "available");
    cJSON_AddStringToObject(input, "reason", "correction");
    cJSON_AddStringToObject(input, "referenceDocumentUri", uri);
    if (!change_from)
        cJSON_AddBoolToObject(input, "ignoreCompareQuantity", 0);
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "inventoryItemId", item_gid);
    cJSON_AddStringToObject(q, "locationId", loc_gid);
    cJSON_AddNumberToObject(q, "quantity", avail->valuedouble);
    cJSON_AddNumberToObject(q, change_from ? "changeFromQuantity" : "compareQuantity",
                            (double)prev);
    cJSON *arr = cJSON_AddArrayToObject(input, "quantities");
    cJSON_AddItemToArray(arr, q);
    if (idempotent) {
        /* A stale-compare retry is a new request: it needs a key of its own. */
        char key[DEPOT_OUTBOX_KEY_MAX + 16];
        if (job->rounds)
            snprintf(key, sizeof key, "%s/%d", it->key, job->rounds);
        else
            snprintf(key, sizeof key, "%s", it->key);
        cJSON_AddStringToObject(vars, "key", key);
    }
    cJSON_Delete(p);
    job->phase = INV_SET;
    return sync_shopify_graphql(job, idempotent ? SET_QUERY_IDEMPOTENT : SET_QUERY, vars);
}

static enum sync_step inventory_read(struct sync_job *job)
{
    cJSON *p = cJSON_Parse(job->items[0].payload);
    char item_gid[200], loc_gid[200];
    const char *item = sync_json_str(p, "external_inventory_id");
    const char *loc = sync_json_str(p, "external_location_id");
    sync_shopify_gid(item_gid, sizeof item_gid, "InventoryItem", item ? item : "");
    sync_shopify_gid(loc_gid, sizeof loc_gid, "Location", loc ? loc : "");
    cJSON_Delete(p);
    cJSON *vars = cJSON_CreateObject();
    cJSON_AddStringToObject(vars, "item", item_gid);
    cJSON_AddStringToObject(vars, "location", loc_gid);
    job->phase = INV_READ;
    return sync_shopify_graphql(job, LEVEL_QUERY, vars);
}

/* ---- Fulfillments ----------------------------------------------------------------- */

static const char *tracking_company(const char *carrier)
{
    static const char *const names[][2] = {
        {"fedex", "FedEx"}, {"ups", "UPS"}, {"dhl", "DHL Express"}, {"usps", "USPS"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(carrier, names[i][0]) == 0)
            return names[i][1];
    return carrier;
}

static enum sync_step fulfillment_lookup(struct sync_job *job)
{
    cJSON *p = cJSON_Parse(job->items[0].payload);
    const char *order = sync_json_str(p, "external_order_id");
    if (!order) {
        cJSON_Delete(p);
        sync_job_error(job, "the order has no Shopify id");
        return SYNC_FAIL;
    }
    char gid[200];
    sync_shopify_gid(gid, sizeof gid, "Order", order);
    cJSON_Delete(p);
    cJSON *vars = cJSON_CreateObject();
    cJSON_AddStringToObject(vars, "id", gid);
    job->phase = FUL_LOOKUP;
    return sync_shopify_graphql(job, ORDER_QUERY, vars);
}

/* Reads the order: DONE if already fulfilled, else SEND with fulfillmentCreate. */
static enum sync_step fulfillment_decide(struct sync_job *job, const cJSON *data)
{
    const cJSON *order = cJSON_GetObjectItemCaseSensitive(data, "order");
    if (!cJSON_IsObject(order)) {
        sync_job_error(job, "Shopify has no such order");
        return SYNC_FAIL;
    }
    cJSON *p = cJSON_Parse(job->items[0].payload);
    const char *tracking = sync_json_str(p, "tracking_number");
    const char *carrier = sync_json_str(p, "carrier");
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(order, "fulfillments")) {
        const cJSON *ti;
        cJSON_ArrayForEach(ti, cJSON_GetObjectItemCaseSensitive(f, "trackingInfo")) {
            const char *num = sync_json_str(ti, "number");
            if (tracking && num && strcmp(num, tracking) == 0) {
                cJSON_Delete(p);
                return SYNC_DONE; /* an earlier delivery created it */
            }
        }
    }
    cJSON *vars = cJSON_CreateObject();
    cJSON *ful = cJSON_AddObjectToObject(vars, "fulfillment");
    cJSON *by_fo = cJSON_AddArrayToObject(ful, "lineItemsByFulfillmentOrder");
    const cJSON *fos = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(order, "fulfillmentOrders"), "nodes");
    const cJSON *fo;
    cJSON_ArrayForEach(fo, fos) {
        const char *status = sync_json_str(fo, "status");
        const char *id = sync_json_str(fo, "id");
        if (!id || !status ||
            (strcmp(status, "OPEN") != 0 && strcmp(status, "IN_PROGRESS") != 0))
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "fulfillmentOrderId", id); /* all remaining lines */
        cJSON_AddItemToArray(by_fo, o);
    }
    if (cJSON_GetArraySize(by_fo) == 0) {
        cJSON_Delete(vars);
        cJSON_Delete(p);
        return SYNC_DONE; /* nothing left open: already fulfilled */
    }
    cJSON_AddBoolToObject(ful, "notifyCustomer", 1);
    if (tracking) {
        cJSON *ti = cJSON_AddObjectToObject(ful, "trackingInfo");
        cJSON_AddStringToObject(ti, "number", tracking);
        if (carrier && strcmp(carrier, "manual") != 0)
            cJSON_AddStringToObject(ti, "company", tracking_company(carrier));
    }
    cJSON_Delete(p);
    job->phase = FUL_CREATE;
    return sync_shopify_graphql(job, CREATE_QUERY, vars);
}

/* ---- Webhook subscriptions -------------------------------------------------------- */

/* Rationale: a subscription is unique per (topic, address) on Shopify's side, so a
 * re-sent create is refused with "has already been taken": that answer means an earlier
 * delivery of this row (or an earlier install) did it. */
static enum sync_step webhook_subscribe(struct sync_job *job)
{
    cJSON *p = cJSON_Parse(job->items[0].payload);
    const char *topic = sync_json_str(p, "topic");
    const char *url = sync_json_str(p, "callback_url");
    if (!topic || !url) {
        cJSON_Delete(p);
        sync_job_error(job, "the subscription event has no topic or callback URL");
        return SYNC_FAIL;
    }
    cJSON *vars = cJSON_CreateObject();
    cJSON_AddStringToObject(vars, "topic", topic);
    cJSON *sub = cJSON_AddObjectToObject(vars, "webhookSubscription");
    cJSON_AddStringToObject(sub, "callbackUrl", url);
    cJSON_AddStringToObject(sub, "format", "JSON");
    cJSON_Delete(p);
    return sync_shopify_graphql(job, WEBHOOK_QUERY, vars);
}

/* Reads mutation name's result in data: 0 with its first user error in *error (NULL if
 * none), or -1 with job set up for a retry when the answer lacks the result (the
 * platform's fault: the mutation's outcome is unknown). */
static int mutation_result(struct sync_job *job, const cJSON *data, const char *name,
                           const cJSON **error)
{
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(data, name);
    *error = NULL;
    if (!cJSON_IsObject(res)) {
        sync_job_error(job, "Shopify answered without %s", name);
        job->upstream_fault = 1;
        return -1;
    }
    *error = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(res, "userErrors"), 0);
    return 0;
}

static enum sync_step on_subscribed(struct sync_job *job, const cJSON *data)
{
    const cJSON *e;
    if (mutation_result(job, data, "webhookSubscriptionCreate", &e) != 0)
        return SYNC_RETRY;
    const char *msg = sync_json_str(e, "message");
    if (!e || (msg && strstr(msg, "already been taken")))
        return SYNC_DONE;
    sync_job_error(job, "webhookSubscriptionCreate: %.150s", msg ? msg : "refused");
    return SYNC_FAIL;
}

/* ---- Verbs ------------------------------------------------------------------------ */

static enum sync_step begin(struct sync_job *job)
{
    const char *topic = job->items[0].topic;
    if (strcmp(topic, "inventory.set") == 0)
        return inventory_set(job);
    if (strcmp(topic, "fulfillment.create") == 0)
        return fulfillment_lookup(job);
    if (strcmp(topic, "webhooks.register") == 0)
        return webhook_subscribe(job);
    sync_job_error(job, "Shopify channels do not take %s events", topic);
    return SYNC_FAIL;
}

/* THROTTLED: wait until the bucket holds what the query asked for. */
static enum sync_step throttled(struct sync_job *job, const cJSON *ext)
{
    const cJSON *cost = cJSON_GetObjectItemCaseSensitive(ext, "cost");
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(cost, "requestedQueryCost");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(cost, "throttleStatus");
    const cJSON *cur = cJSON_GetObjectItemCaseSensitive(ts, "currentlyAvailable");
    const cJSON *rate = cJSON_GetObjectItemCaseSensitive(ts, "restoreRate");
    double wait = 1;
    if (cJSON_IsNumber(req) && cJSON_IsNumber(cur) && cJSON_IsNumber(rate) &&
        rate->valuedouble > 0)
        wait = (req->valuedouble - cur->valuedouble) / rate->valuedouble;
    job->retry_after = wait < 1 ? 1 : wait > THROTTLE_WAIT_MAX ? THROTTLE_WAIT_MAX
                                                               : (int)ceil(wait);
    sync_job_error(job, "Shopify THROTTLED; retry in %d s", job->retry_after);
    return SYNC_THROTTLED;
}

/* A GraphQL answer's top-level errors: THROTTLED (with the wait the cost asks for), an
 * internal error (retry), or a query the API refuses (fail). SYNC_SEND when none. */
static enum sync_step top_errors(struct sync_job *job, const cJSON *root)
{
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(root, "errors");
    if (!cJSON_IsArray(errors) || cJSON_GetArraySize(errors) == 0) {
        if (cJSON_IsString(errors)) { /* e.g. {"errors":"[API] Invalid API key ..."} */
            sync_job_error(job, "Shopify: %.150s", errors->valuestring);
            return SYNC_FAIL;
        }
        return SYNC_SEND;
    }
    const cJSON *first = cJSON_GetArrayItem(errors, 0);
    const char *code = sync_json_str(cJSON_GetObjectItemCaseSensitive(first, "extensions"),
                                     "code");
    const char *msg = sync_json_str(first, "message");
    if (code && strcmp(code, "THROTTLED") == 0)
        return throttled(job, cJSON_GetObjectItemCaseSensitive(root, "extensions"));
    sync_job_error(job, "Shopify %s: %.150s", code ? code : "error", msg ? msg : "");
    if (code && strcmp(code, "INTERNAL_SERVER_ERROR") == 0) {
        job->upstream_fault = 1;
        return SYNC_RETRY;
    }
    return SYNC_FAIL;
}

enum sync_step sync_shopify_answer(struct sync_job *job, const struct sync_response *res,
                                   cJSON **root_out)
{
    *root_out = NULL;
    cJSON *root = cJSON_ParseWithLength(res->body, res->len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        job->upstream_fault = 1;
        sync_job_error(job, "Shopify sent a body that is not JSON (HTTP %ld)", res->status);
        return SYNC_RETRY;
    }
    sync_rate_observe_shopify(job->ch, cJSON_GetObjectItemCaseSensitive(root, "extensions"),
                              job->started, sync_now());
    enum sync_step step = top_errors(job, root);
    if (step == SYNC_SEND)
        *root_out = root;
    else
        cJSON_Delete(root);
    return step;
}

static enum sync_step on_set(struct sync_job *job, const cJSON *data)
{
    const cJSON *e;
    if (mutation_result(job, data, "inventorySetQuantities", &e) != 0)
        return SYNC_RETRY;
    if (!e)
        return SYNC_DONE;
    const char *code = sync_json_str(e, "code");
    if (code && (strcmp(code, "COMPARE_QUANTITY_STALE") == 0 ||
                 strcmp(code, "CHANGE_FROM_QUANTITY_STALE") == 0))
        return inventory_read(job);
    sync_job_error(job, "inventorySetQuantities: %s %.150s", code ? code : "",
                   sync_json_str(e, "message") ? sync_json_str(e, "message") : "");
    return SYNC_FAIL;
}

static enum sync_step on_level(struct sync_job *job, const cJSON *data)
{
    const cJSON *level = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(data, "inventoryItem"), "inventoryLevel");
    const cJSON *qs = cJSON_GetObjectItemCaseSensitive(level, "quantities");
    const cJSON *q, *found = NULL;
    cJSON_ArrayForEach(q, qs)
        if (sync_json_str(q, "name") && strcmp(sync_json_str(q, "name"), "available") == 0)
            found = cJSON_GetObjectItemCaseSensitive(q, "quantity");
    if (!cJSON_IsNumber(found)) {
        sync_job_error(job, "Shopify has no inventory level for the item at the location");
        return SYNC_FAIL;
    }
    if (fabs(found->valuedouble) > LEVEL_MAX) {
        job->upstream_fault = 1;
        sync_job_error(job, "Shopify sent an inventory level out of range");
        return SYNC_RETRY;
    }
    int64_t want = -1;
    cJSON *p = cJSON_Parse(job->items[0].payload);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(p, "available");
    if (cJSON_IsNumber(a))
        want = (int64_t)a->valuedouble;
    cJSON_Delete(p);
    if ((int64_t)found->valuedouble == want)
        return SYNC_DONE; /* an earlier delivery of this row set it */
    if (++job->rounds > STALE_ROUNDS_MAX) {
        sync_job_error(job, "the level keeps changing on Shopify; will retry");
        return SYNC_RETRY;
    }
    job->prev[0] = (int64_t)found->valuedouble;
    return inventory_set(job);
}

/* The fulfillmentCreate answer: DONE only when Shopify returned the mutation's result
 * without user errors; an answer without it is the platform's fault and is retried (the
 * retry looks the order up first, so it never fulfills twice). */
static enum sync_step on_fulfilled(struct sync_job *job, const cJSON *data)
{
    const cJSON *e;
    if (mutation_result(job, data, "fulfillmentCreate", &e) != 0)
        return SYNC_RETRY;
    if (!e)
        return SYNC_DONE;
    const char *msg = sync_json_str(e, "message");
    sync_job_error(job, "fulfillmentCreate: %.150s", msg ? msg : "refused");
    return SYNC_FAIL;
}

static enum sync_step on_response(struct sync_job *job, const struct sync_response *res)
{
    cJSON *root;
    enum sync_step step = sync_shopify_answer(job, res, &root);
    if (step == SYNC_SEND) {
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
        const char *topic = job->items[0].topic;
        if (strcmp(topic, "inventory.set") == 0)
            step = job->phase == INV_SET ? on_set(job, data) : on_level(job, data);
        else if (strcmp(topic, "webhooks.register") == 0)
            step = on_subscribed(job, data);
        else if (job->phase == FUL_LOOKUP)
            step = fulfillment_decide(job, data);
        else
            step = on_fulfilled(job, data);
    }
    cJSON_Delete(root);
    return step;
}

const struct channel_ops sync_shopify_ops = {
    .name = "shopify",
    .inventory_batch_max = 1,
    .call_cost = CALL_COST,
    .prepare = prepare,
    .endpoint = endpoint,
    .begin = begin,
    .on_response = on_response,
    .pull_endpoint = "graphql",
    .pull_cost = SYNC_SHOPIFY_PULL_COST,
    .pull_begin = sync_shopify_pull_begin,
    .on_pull = sync_shopify_on_pull,
    .retoken = retoken,
};
