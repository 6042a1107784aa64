/* The Shopify side of the backstop pull: the GraphQL Admin API's orders query, oldest
 * update first from the channel's cursor, page by page, each Order node converted to the
 * REST order resource that the orders/updated webhook carries; the lines of an order
 * longer than a page allows are fetched with the order's own lineItems connection
 * before the order is kept. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inbound.h"
#include "log.h"
#include "sync_int.h"

/* Rationale: the query costs what it could return (first x nested first), and one
 * query may ask for at most 1,000 points, so a page is 5 orders of up to 20 lines
 * (about 230 points). An order with more lines (its lineItems.pageInfo says
 * hasNextPage) must not be applied truncated: that would release the reservations of
 * the lines left out. So it is held back in job->scratch ("held", together with the
 * orders after it on the page, in page order, so that the cursor never passes it) while
 * the rest of its lines are read, LONG_LINES_PER_CALL at a time, from
 * order(id).lineItems after the page's cursor; each such call counts as a page against
 * SYNC_PULL_PAGES_MAX. Then it is kept like the others. An order with more lines than
 * ingestion takes (DEPOT_INGEST_LINES_MAX), whose lines Shopify refuses or no longer
 * has, or whose cursor is unusable is dropped from the pull and logged (its webhooks
 * bring it); one updated while its lines were read is dropped too, and the next pull
 * brings its new version. A call that fails in transit ends the pull before the held
 * orders: the next pull starts from them again. */

#define ORDERS_PER_PAGE 5
#define LONG_LINES_PER_CALL 100
#define CURSOR_MAX 511

enum { PULL_ORDERS, PULL_LINES }; /* job->phase: what the call in flight asks for */

static const char PULL_QUERY[] =
    "query DepotRecentOrders($first: Int!, $after: String, $query: String!) {"
    " orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {"
    " pageInfo { hasNextPage endCursor }"
    " nodes { id name email updatedAt cancelledAt displayFinancialStatus"
    " customer { firstName lastName phone }"
    " shippingAddress { name company address1 address2 city province provinceCode zip"
    " country countryCodeV2 phone }"
    " lineItems(first: 20) { pageInfo { hasNextPage endCursor }"
    " nodes { id sku title quantity currentQuantity variant { id } } } } } }";

static const char LINES_QUERY[] =
    "query DepotOrderLines($id: ID!, $after: String) {"
    " order(id: $id) { updatedAt lineItems(first: 100, after: $after) {"
    " pageInfo { hasNextPage endCursor }"
    " nodes { id sku title quantity currentQuantity variant { id } } } } }";

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
    job->phase = PULL_ORDERS;
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

/* Appends the REST line_items of a GraphQL lineItems connection's nodes to lines. */
static void add_lines(cJSON *lines, const cJSON *connection)
{
    const cJSON *li;
    cJSON_ArrayForEach(li, cJSON_GetObjectItemCaseSensitive(connection, "nodes")) {
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
    add_lines(cJSON_AddArrayToObject(o, "line_items"),
              cJSON_GetObjectItemCaseSensitive(node, "lineItems"));
    return o;
}

/* ---- Reading the answers ------------------------------------------------------------ */

/* Keeps a converted order in the job (logged and dropped if it has no usable id or
 * updatedAt). Takes rest. */
static void keep(struct sync_job *job, cJSON *rest)
{
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rest, "id"));
    const char *upd = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rest,
                                                                            "updated_at"));
    char idbuf[72], updbuf[64];
    snprintf(idbuf, sizeof idbuf, "%s", id ? id : "");
    snprintf(updbuf, sizeof updbuf, "%s", upd ? upd : "");
    if (!rest || sync_pull_add(job, idbuf, updbuf, rest) != 0)
        depot_log(DEPOT_LOG_WARN, "sync", "channel %lld: a pulled order has no usable id or "
                  "updatedAt; skipped", (long long)job->ch->row.id);
}

/* The orders read but not kept yet, in page order: {"order", "gid", "after" while lines
 * are missing}. Kept in order, so the cursor never passes an order still being read. */
static cJSON *held(struct sync_job *job)
{
    cJSON *h = cJSON_GetObjectItemCaseSensitive(job->scratch, "held");
    if (!h && job->scratch)
        h = cJSON_AddArrayToObject(job->scratch, "held");
    return h;
}

static enum sync_step lines_call(struct sync_job *job, const cJSON *order)
{
    cJSON *vars = cJSON_CreateObject();
    cJSON_AddStringToObject(vars, "id", sync_json_str(order, "gid"));
    cJSON_AddStringToObject(vars, "after", sync_json_str(order, "after"));
    enum sync_step step = sync_shopify_graphql(job, LINES_QUERY, vars);
    job->req.cost = SYNC_SHOPIFY_PULL_COST;
    job->phase = PULL_LINES;
    return step;
}

/* Leaves an order out of this pull, logged; its webhooks (or the next pull, for a newer
 * version) bring it. */
static void skip(struct sync_job *job, const char *gid, const char *why)
{
    depot_log(DEPOT_LOG_WARN, "sync", "channel %lld: order %s %s; the backstop leaves it to "
              "its webhooks", (long long)job->ch->row.id, gid ? gid : "?", why);
}

static enum sync_step next_call(struct sync_job *job);

/* Drops the held order whose lines were being read and goes on with the rest. */
static enum sync_step drop_first(struct sync_job *job, const char *why)
{
    cJSON *h = held(job);
    skip(job, sync_json_str(cJSON_GetArrayItem(h, 0), "gid"), why);
    cJSON_DeleteItemFromArray(h, 0);
    job->error[0] = '\0';
    return next_call(job);
}

/* After an answer: the held orders that are whole are kept; then the lines of the first
 * long one, or the next orders page, or the end. */
static enum sync_step next_call(struct sync_job *job)
{
    cJSON *h = held(job);
    while (cJSON_GetArraySize(h) > 0) {
        cJSON *first = cJSON_GetArrayItem(h, 0);
        if (cJSON_GetObjectItemCaseSensitive(first, "after")) {
            if (sync_pull_pages(job) >= SYNC_PULL_PAGES_MAX)
                return SYNC_DONE; /* the next pull starts from this order */
            sync_pull_page_done(job);
            return lines_call(job, first);
        }
        keep(job, cJSON_DetachItemFromObjectCaseSensitive(first, "order"));
        cJSON_DeleteItemFromArray(h, 0);
    }
    const char *next = sync_json_str(job->scratch, "next");
    if (!next)
        return SYNC_DONE;
    if (!next[0]) { /* a cut cursor would ask for another page */
        job->upstream_fault = 1;
        sync_job_error(job, "Shopify sent an unusable page cursor");
        return SYNC_RETRY;
    }
    char cursor[CURSOR_MAX + 1];
    snprintf(cursor, sizeof cursor, "%s", next);
    cJSON_DeleteItemFromObjectCaseSensitive(job->scratch, "next");
    return page_call(job, cursor);
}

/* NULL when a connection's pageInfo says there is no more; else its cursor, or "" when
 * that is missing or too long to use. */
static const char *more_after(const cJSON *connection)
{
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(connection, "pageInfo");
    const char *after = sync_json_str(info, "endCursor");
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(info, "hasNextPage")))
        return NULL;
    return after && after[0] && strlen(after) <= CURSOR_MAX ? after : "";
}

static enum sync_step on_orders(struct sync_job *job, const cJSON *root)
{
    const cJSON *orders = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "data"), "orders");
    if (!cJSON_IsObject(orders)) {
        job->upstream_fault = 1;
        sync_job_error(job, "Shopify answered without orders");
        return SYNC_RETRY;
    }
    sync_pull_page_done(job); /* creates job->scratch */
    cJSON *h = held(job);
    if (!h) {
        sync_job_error(job, "out of memory");
        return SYNC_RETRY;
    }
    const cJSON *node;
    cJSON_ArrayForEach(node, cJSON_GetObjectItemCaseSensitive(orders, "nodes")) {
        cJSON *rest = sync_shopify_order_rest(node);
        if (!rest) {
            keep(job, NULL); /* logs it */
            continue;
        }
        const char *gid = sync_json_str(node, "id");
        const char *after = more_after(cJSON_GetObjectItemCaseSensitive(node, "lineItems"));
        cJSON *o = NULL;
        if (after && !after[0])
            skip(job, gid, "has more lines than one page, without a usable line cursor");
        else if (!(o = cJSON_CreateObject()))
            skip(job, gid, "cannot be held: out of memory");
        if (!o) {
            cJSON_Delete(rest);
            continue;
        }
        cJSON_AddItemToObject(o, "order", rest);
        cJSON_AddStringToObject(o, "gid", gid);
        if (after)
            cJSON_AddStringToObject(o, "after", after);
        cJSON_AddItemToArray(h, o);
    }
    const char *after = more_after(orders);
    if (after && sync_pull_pages(job) < SYNC_PULL_PAGES_MAX)
        cJSON_AddStringToObject(job->scratch, "next", after); /* "": reported once the
                                                                  held orders are kept */
    return next_call(job);
}

static enum sync_step on_lines(struct sync_job *job, const cJSON *root)
{
    cJSON *first = cJSON_GetArrayItem(held(job), 0);
    const cJSON *order = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "data"), "order");
    const cJSON *conn = cJSON_GetObjectItemCaseSensitive(order, "lineItems");
    cJSON *rest = cJSON_GetObjectItemCaseSensitive(first, "order");
    cJSON *lines = cJSON_GetObjectItemCaseSensitive(rest, "line_items");
    if (!first) {
        sync_job_error(job, "a lines answer with no order waiting for it");
        return SYNC_FAIL;
    }
    if (!cJSON_IsObject(conn))
        return drop_first(job, "is no longer in the shop");
    const char *now = sync_json_str(order, "updatedAt");
    const char *then = sync_json_str(rest, "updated_at");
    if (!now || !then || strcmp(now, then) != 0)
        return drop_first(job, "changed while its lines were read (the next pull brings it)");
    if (!lines)
        return drop_first(job, "cannot be held: out of memory");
    add_lines(lines, conn);
    const char *after = more_after(conn);
    if (cJSON_GetArraySize(lines) > DEPOT_INGEST_LINES_MAX ||
        (after && cJSON_GetArraySize(lines) >= DEPOT_INGEST_LINES_MAX))
        return drop_first(job, "has more lines than an order may have");
    if (after && !after[0])
        return drop_first(job, "came with an unusable line cursor");
    if (after)
        cJSON_ReplaceItemInObjectCaseSensitive(first, "after", cJSON_CreateString(after));
    else
        cJSON_DeleteItemFromObjectCaseSensitive(first, "after"); /* whole now */
    return next_call(job);
}

enum sync_step sync_shopify_on_pull(struct sync_job *job, const struct sync_response *res)
{
    cJSON *root;
    enum sync_step step = sync_shopify_answer(job, res, &root);
    if (step == SYNC_SEND)
        step = job->phase == PULL_LINES ? on_lines(job, root) : on_orders(job, root);
    else if (step == SYNC_FAIL && job->phase == PULL_LINES)
        step = drop_first(job, "has lines Shopify will not give");
    cJSON_Delete(root);
    return step;
}
