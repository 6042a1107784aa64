/* The Shopify side of the backstop pull: the GraphQL Admin API's orders query, oldest
 * update first from the channel's cursor, page by page, each Order node converted to the
 * REST order resource that the orders/updated webhook carries. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "sync_int.h"

/* Rationale: the query costs what it could return (first x nested first), and one
 * query may ask for at most 1,000 points, so a page is 5 orders of up to 20 lines
 * (about 230 points). An order with more lines than that is not converted (its page
 * says lineItems.pageInfo.hasNextPage): applying a truncated order would release the
 * reservations of the lines left out, so it is left to its webhooks and logged. */

#define ORDERS_PER_PAGE 5
#define LINES_MAX 20

static const char PULL_QUERY[] =
    "query DepotRecentOrders($first: Int!, $after: String, $query: String!) {"
    " orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {"
    " pageInfo { hasNextPage endCursor }"
    " nodes { id name email updatedAt cancelledAt displayFinancialStatus"
    " customer { firstName lastName phone }"
    " shippingAddress { name company address1 address2 city province provinceCode zip"
    " country countryCodeV2 phone }"
    " lineItems(first: 20) { pageInfo { hasNextPage }"
    " nodes { id sku title quantity currentQuantity variant { id } } } } } }";

static enum sync_step page_call(struct sync_job *job, const char *after)
{
    char since[32], query[64];
    sync_format_utc(job->since_ms, since, sizeof since);
    snprintf(query, sizeof query, "updated_at:>='%sZ'", since);
    cJSON *vars = cJSON_CreateObject();
    cJSON_AddNumberToObject(vars, "first", ORDERS_PER_PAGE);
    if (after)
        cJSON_AddStringToObject(vars, "after", after);
    else
        cJSON_AddNullToObject(vars, "after");
    cJSON_AddStringToObject(vars, "query", query);
    enum sync_step step = sync_shopify_graphql(job, PULL_QUERY, vars);
    job->req.cost = SYNC_SHOPIFY_PULL_COST;
    return step;
}

enum sync_step sync_shopify_pull_begin(struct sync_job *job)
{
    return page_call(job, NULL);
}

/* The numeric tail of a global id ("gid://shopify/Order/123" -> "123"); NULL if none. */
static const char *gid_tail(const cJSON *gid)
{
    const char *s = cJSON_GetStringValue(gid);
    const char *slash = s ? strrchr(s, '/') : NULL;
    return slash && slash[1] ? slash + 1 : s;
}

static void copy_str(cJSON *to, const char *to_key, const cJSON *from, const char *from_key)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(from, from_key));
    if (v)
        cJSON_AddStringToObject(to, to_key, v);
}

static void copy_int(cJSON *to, const char *to_key, const cJSON *from, const char *from_key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, from_key);
    if (cJSON_IsNumber(v))
        cJSON_AddNumberToObject(to, to_key, v->valuedouble);
}

/* "PARTIALLY_PAID" -> "partially_paid", as the REST financial_status. */
static void lower_enum(cJSON *to, const char *key, const cJSON *v)
{
    const char *s = cJSON_GetStringValue(v);
    char buf[40];
    size_t i = 0;
    if (!s || strlen(s) >= sizeof buf)
        return;
    for (; s[i]; i++)
        buf[i] = (char)tolower((unsigned char)s[i]);
    buf[i] = '\0';
    cJSON_AddStringToObject(to, key, buf);
}

cJSON *sync_shopify_order_rest(const cJSON *node)
{
    const cJSON *gid = cJSON_GetObjectItemCaseSensitive(node, "id");
    if (!cJSON_IsObject(node) || !cJSON_IsString(gid))
        return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "admin_graphql_api_id", gid->valuestring);
    cJSON_AddStringToObject(o, "id", gid_tail(gid));
    copy_str(o, "name", node, "name");
    copy_str(o, "email", node, "email");
    copy_str(o, "updated_at", node, "updatedAt");
    copy_str(o, "cancelled_at", node, "cancelledAt");
    lower_enum(o, "financial_status",
               cJSON_GetObjectItemCaseSensitive(node, "displayFinancialStatus"));
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(node, "customer");
    if (cJSON_IsObject(c)) {
        cJSON *rc = cJSON_AddObjectToObject(o, "customer");
        copy_str(rc, "first_name", c, "firstName");
        copy_str(rc, "last_name", c, "lastName");
        copy_str(rc, "email", node, "email");
        copy_str(rc, "phone", c, "phone");
    }
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(node, "shippingAddress");
    if (cJSON_IsObject(a)) {
        static const char *const same[] = {"name", "company", "address1", "address2", "city",
                                           "province", "zip", "country", "phone", NULL};
        cJSON *ra = cJSON_AddObjectToObject(o, "shipping_address");
        for (size_t i = 0; same[i]; i++)
            copy_str(ra, same[i], a, same[i]);
        copy_str(ra, "province_code", a, "provinceCode");
        copy_str(ra, "country_code", a, "countryCodeV2");
    }
    cJSON *lines = cJSON_AddArrayToObject(o, "line_items");
    const cJSON *li;
    cJSON_ArrayForEach(li, cJSON_GetObjectItemCaseSensitive(
                               cJSON_GetObjectItemCaseSensitive(node, "lineItems"), "nodes")) {
        const cJSON *lid = cJSON_GetObjectItemCaseSensitive(li, "id");
        if (!cJSON_IsString(lid))
            continue; /* the mapper reports the order's missing line id */
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "admin_graphql_api_id", lid->valuestring);
        cJSON_AddStringToObject(l, "id", gid_tail(lid));
        const cJSON *variant = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(li, "variant"), "id");
        if (cJSON_IsString(variant))
            cJSON_AddStringToObject(l, "variant_id", gid_tail(variant));
        copy_str(l, "sku", li, "sku");
        copy_str(l, "title", li, "title");
        copy_int(l, "quantity", li, "quantity");
        copy_int(l, "current_quantity", li, "currentQuantity");
        cJSON_AddItemToArray(lines, l);
    }
    return o;
}

enum sync_step sync_shopify_on_pull(struct sync_job *job, const struct sync_response *res)
{
    cJSON *root = cJSON_ParseWithLength(res->body, res->len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        job->upstream_fault = 1;
        sync_job_error(job, "Shopify sent a body that is not JSON (HTTP %ld)", res->status);
        return SYNC_RETRY;
    }
    sync_rate_observe_shopify(job->ch, cJSON_GetObjectItemCaseSensitive(root, "extensions"),
                              job->started, sync_now());
    enum sync_step step = sync_shopify_top_errors(job, root);
    const cJSON *orders = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "data"), "orders");
    if (step == SYNC_SEND && !cJSON_IsObject(orders)) {
        job->upstream_fault = 1;
        sync_job_error(job, "Shopify answered without orders");
        step = SYNC_RETRY;
    }
    if (step != SYNC_SEND) {
        cJSON_Delete(root);
        return step;
    }
    const cJSON *node;
    cJSON_ArrayForEach(node, cJSON_GetObjectItemCaseSensitive(orders, "nodes")) {
        const cJSON *more = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(node, "lineItems"), "pageInfo"),
            "hasNextPage");
        cJSON *rest = sync_shopify_order_rest(node);
        const char *id = rest ? cJSON_GetStringValue(cJSON_GetObjectItem(rest, "id")) : NULL;
        const char *updated = rest ? cJSON_GetStringValue(cJSON_GetObjectItem(rest,
                                                                              "updated_at"))
                                   : NULL;
        if (cJSON_IsTrue(more)) {
            depot_log(DEPOT_LOG_WARN, "sync", "channel %lld: order %s has more than %d lines; "
                      "the backstop leaves it to its webhooks", (long long)job->ch->row.id,
                      id ? id : "?", LINES_MAX);
            cJSON_Delete(rest);
            continue;
        }
        char idbuf[72], upd[64];
        snprintf(idbuf, sizeof idbuf, "%s", id ? id : "");
        snprintf(upd, sizeof upd, "%s", updated ? updated : "");
        if (!rest || sync_pull_add(job, idbuf, upd, rest) != 0)
            depot_log(DEPOT_LOG_WARN, "sync", "channel %lld: a pulled order has no usable "
                      "id or updatedAt; skipped", (long long)job->ch->row.id);
    }
    sync_pull_page_done(job);
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(orders, "pageInfo");
    const char *after = sync_json_str(info, "endCursor");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(info, "hasNextPage")) && after &&
        sync_pull_pages(job) < SYNC_PULL_PAGES_MAX) {
        char cursor[512];
        if (strlen(after) >= sizeof cursor) { /* a cut cursor would ask for another page */
            cJSON_Delete(root);
            job->upstream_fault = 1;
            sync_job_error(job, "Shopify sent a page cursor over %zu bytes", sizeof cursor - 1);
            return SYNC_RETRY;
        }
        snprintf(cursor, sizeof cursor, "%s", after);
        cJSON_Delete(root);
        return page_call(job, cursor);
    }
    cJSON_Delete(root);
    return SYNC_DONE;
}
