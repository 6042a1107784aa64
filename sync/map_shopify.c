/* Shopify webhook payloads (REST resource shapes) to ingestion structs: orders, refunds
 * with restocked lines, inventory levels, fulfillments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inbound_map.h"

/* Rationale: Shopify keeps removed lines on an edited order with current_quantity 0
 * (quantity stays the original), so current_quantity wins when present. Paid, partially
 * paid, authorized and partially refunded orders are reserved; cancelled_at (or the
 * orders/cancelled topic) cancels. */

static const char *const paid_statuses[] = {"paid", "partially_paid", "authorized",
                                            "partially_refunded", NULL};

/* Copies the string members named in keys (when they are strings) into a new object. */
static char *pick(const cJSON *from, const char *const *keys)
{
    if (!cJSON_IsObject(from))
        return NULL;
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; keys[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, keys[i]);
        if (cJSON_IsString(v) && strlen(v->valuestring) <= 1024)
            cJSON_AddStringToObject(o, keys[i], v->valuestring);
    }
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

/* A resource's id. Shopify ids can exceed 2^53 (the API reference's examples do), where
 * a JSON number loses digits; the admin_graphql_api_id string "gid://shopify/Order/<id>"
 * carries the same id exactly, so it wins when present. */
static int shopify_id(const cJSON *obj, char out[MAP_ID_MAX], const char *where, char *err,
                      size_t errlen)
{
    const cJSON *gid = cJSON_GetObjectItemCaseSensitive(obj, "admin_graphql_api_id");
    if (cJSON_IsString(gid) && !strncmp(gid->valuestring, "gid://shopify/", 14)) {
        const char *tail = strrchr(gid->valuestring, '/') + 1;
        size_t n = strspn(tail, "0123456789");
        if (n > 0 && n < MAP_ID_MAX && tail[n] == '\0') {
            memcpy(out, tail, n + 1);
            return 0;
        }
    }
    return map_id(obj, "id", 1, out, where, err, errlen);
}

void depot_mapped_order_free(struct depot_mapped_order *m)
{
    if (!m)
        return;
    cJSON_Delete(m->doc);
    cJSON_free(m->customer_json);
    cJSON_free(m->ship_to_json);
    free(m->lines);
    free(m->ids);
    memset(m, 0, sizeof *m);
}

static int map_line(const cJSON *item, size_t i, struct depot_ingest_line *l,
                    struct mapped_line_ids *ids, char *err, size_t errlen)
{
    char where[32];
    int64_t qty, current;
    snprintf(where, sizeof where, "line_items[%zu]", i);
    if (!cJSON_IsObject(item)) {
        snprintf(err, errlen, "%s must be an object", where);
        return -1;
    }
    if (shopify_id(item, ids->line, where, err, errlen) ||
        map_id(item, "variant_id", 0, ids->variant, where, err, errlen) ||
        map_id(item, "product_id", 0, ids->product, where, err, errlen) ||
        map_string(item, "sku", &l->sku, where, err, errlen) ||
        map_string(item, "title", &l->title, where, err, errlen) ||
        map_int(item, "quantity", 1, 0, 1000000, 0, &qty, where, err, errlen) ||
        map_int(item, "current_quantity", 0, 0, 1000000, -1, &current, where, err, errlen))
        return -1;
    l->external_line_id = ids->line;
    l->variant_id = ids->variant[0] ? ids->variant : NULL;
    l->product_id = ids->product[0] ? ids->product : NULL;
    l->quantity = current >= 0 ? current : qty;
    return 0;
}

static int map_lines(const cJSON *items, struct depot_mapped_order *m, char *err,
                     size_t errlen)
{
    size_t n = items ? (size_t)cJSON_GetArraySize(items) : 0;
    m->lines = calloc(n ? n : 1, sizeof *m->lines);
    m->ids = calloc(n ? n : 1, sizeof *m->ids);
    if (!m->lines || !m->ids) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, items) {
        if (map_line(item, i, &m->lines[i], &m->ids[i], err, errlen) != 0)
            return -1;
        i++;
    }
    m->order.lines = m->lines;
    m->order.n_lines = n;
    return 0;
}

int depot_map_shopify_order(const char *body, size_t len, int64_t channel_id,
                            const char *topic, struct depot_mapped_order *out, char *err,
                            size_t errlen)
{
    static const char *const customer_keys[] = {"first_name", "last_name", "email",
                                                "phone", NULL};
    static const char *const address_keys[] = {"name", "company", "address1", "address2",
                                               "city", "province", "province_code", "zip",
                                               "country", "country_code", "phone", NULL};
    memset(out, 0, sizeof *out);
    const char *updated = NULL, *cancelled = NULL, *financial = NULL, *name = NULL;
    const cJSON *items;
    if (map_parse(body, len, &out->doc, err, errlen) != 0)
        goto fail;
    const cJSON *o = out->doc;
    if (shopify_id(o, out->external_id, "order", err, errlen) ||
        map_string(o, "name", &name, "order", err, errlen) ||
        map_string(o, "updated_at", &updated, "order", err, errlen) ||
        map_string(o, "cancelled_at", &cancelled, "order", err, errlen) ||
        map_string(o, "financial_status", &financial, "order", err, errlen) ||
        map_array(o, "line_items", DEPOT_INGEST_LINES_MAX, &items, "order", err, errlen))
        goto fail;
    int64_t ms = 0;
    if (updated && depot_time_parse_iso8601(updated, &ms) != 0) {
        snprintf(err, errlen, "order.updated_at is not an ISO 8601 time");
        goto fail;
    }
    if (map_lines(items, out, err, errlen) != 0)
        goto fail;
    out->order.channel_id = channel_id;
    out->order.external_id = out->external_id;
    out->order.number = name && name[0] && strlen(name) <= 64 ? name : NULL;
    out->order.updated_at_ms = ms;
    out->order.state = DEPOT_INGEST_OPEN;
    for (size_t i = 0; financial && paid_statuses[i]; i++)
        if (!strcmp(financial, paid_statuses[i]))
            out->order.state = DEPOT_INGEST_PAID;
    if (cancelled || (topic && !strcmp(topic, "orders/cancelled")))
        out->order.state = DEPOT_INGEST_CANCELLED;
    out->customer_json = pick(cJSON_GetObjectItemCaseSensitive(o, "customer"), customer_keys);
    out->ship_to_json = pick(cJSON_GetObjectItemCaseSensitive(o, "shipping_address"),
                             address_keys);
    out->order.customer_json = out->customer_json;
    out->order.ship_to_json = out->ship_to_json;
    return 0;
fail:
    depot_mapped_order_free(out);
    return -1;
}

void depot_mapped_refund_free(struct depot_mapped_refund *r)
{
    if (!r)
        return;
    free(r->lines);
    free(r->refs);
    free(r->line_ids);
    memset(r, 0, sizeof *r);
}

/* Shopify says whether a refunded unit went back to stock (restock_type), not what
 * state it came back in; the merchant's refund note decides: "damaged"/"defective"
 * quarantines it, "unsellable"/"write off" writes it off, anything else is sellable. */
static enum depot_return_disposition disposition_of(const char *note)
{
    static const char *const damaged[] = {"damaged", "defective", "Damaged", "Defective",
                                          "DAMAGED", "DEFECTIVE", NULL};
    static const char *const unsellable[] = {"unsellable", "write off", "written off",
                                             "Unsellable", "UNSELLABLE", NULL};
    for (size_t i = 0; note && damaged[i]; i++)
        if (strstr(note, damaged[i]))
            return DEPOT_RETURN_DAMAGED;
    for (size_t i = 0; note && unsellable[i]; i++)
        if (strstr(note, unsellable[i]))
            return DEPOT_RETURN_UNSELLABLE;
    return DEPOT_RETURN_SELLABLE;
}

/* A refund line's order line: the embedded line_item (exact id), else line_item_id. */
static int line_item_id(const cJSON *item, char out[MAP_ID_MAX], const char *where,
                        char *err, size_t errlen)
{
    const cJSON *li = cJSON_GetObjectItemCaseSensitive(item, "line_item");
    if (cJSON_IsObject(li))
        return shopify_id(li, out, where, err, errlen);
    return map_id(item, "line_item_id", 1, out, where, err, errlen);
}

int depot_map_shopify_refund(const char *body, size_t len, int64_t channel_id,
                             struct depot_mapped_refund *out, char *err, size_t errlen)
{
    cJSON *doc = NULL;
    const cJSON *items, *item;
    const char *note = NULL;
    char refund_id[MAP_ID_MAX];
    memset(out, 0, sizeof *out);
    if (map_parse(body, len, &doc, err, errlen) != 0 ||
        shopify_id(doc, refund_id, "refund", err, errlen) ||
        map_id(doc, "order_id", 1, out->order_id, "refund", err, errlen) ||
        map_string(doc, "note", &note, "refund", err, errlen) ||
        map_array(doc, "refund_line_items", DEPOT_INGEST_LINES_MAX, &items, "refund", err,
                  errlen))
        goto fail;
    size_t n = items ? (size_t)cJSON_GetArraySize(items) : 0, i = 0;
    out->lines = calloc(n ? n : 1, sizeof *out->lines);
    out->refs = calloc(n ? n : 1, sizeof *out->refs);
    out->line_ids = calloc(n ? n : 1, sizeof *out->line_ids);
    if (!out->lines || !out->refs || !out->line_ids) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    enum depot_return_disposition disp = disposition_of(note);
    cJSON_ArrayForEach(item, items) {
        char where[40];
        const char *restock = NULL;
        int64_t qty;
        snprintf(where, sizeof where, "refund_line_items[%zu]", i++);
        if (!cJSON_IsObject(item)) {
            snprintf(err, errlen, "%s must be an object", where);
            goto fail;
        }
        if (line_item_id(item, out->line_ids[out->n], where, err, errlen) ||
            map_int(item, "quantity", 1, 0, 1000000, 0, &qty, where, err, errlen) ||
            map_string(item, "restock_type", &restock, where, err, errlen))
            goto fail;
        /* Only units that came back are returns; "cancel" lines never left (the order
         * update shrinks them) and "no_restock" refunds money only. */
        if (qty < 1 || !restock || (strcmp(restock, "return") && strcmp(restock, "legacy_restock")))
            continue;
        /* One refund has one refund line per order line. */
        snprintf(out->refs[out->n], sizeof out->refs[0], "shopify:%lld:refund:%s:%s",
                 (long long)channel_id, refund_id, out->line_ids[out->n]);
        out->lines[out->n] = (struct depot_ingest_return_line){
            .source_ref = out->refs[out->n], .external_line_id = out->line_ids[out->n],
            .quantity = qty, .disposition = disp};
        out->n++;
    }
    cJSON_Delete(doc);
    return 0;
fail:
    cJSON_Delete(doc);
    depot_mapped_refund_free(out);
    return -1;
}

/* An inventory level's item id. Like other ids it can exceed 2^53 (the API reference's
 * example does); admin_graphql_api_id "gid://shopify/InventoryLevel/<location>?
 * inventory_item_id=<id>" carries it exactly, so it wins when present. */
static int level_item_id(const cJSON *doc, char out[MAP_ID_MAX], char *err, size_t errlen)
{
    static const char key[] = "?inventory_item_id=";
    const cJSON *gid = cJSON_GetObjectItemCaseSensitive(doc, "admin_graphql_api_id");
    const char *at = cJSON_IsString(gid) ? strstr(gid->valuestring, key) : NULL;
    if (at) {
        at += sizeof key - 1;
        size_t n = strspn(at, "0123456789");
        if (n > 0 && n < MAP_ID_MAX && at[n] == '\0') {
            memcpy(out, at, n + 1);
            return 0;
        }
    }
    return map_id(doc, "inventory_item_id", 1, out, "inventory_level", err, errlen);
}

int depot_map_shopify_inventory_level(const char *body, size_t len,
                                      struct depot_mapped_level *out, char *err,
                                      size_t errlen)
{
    cJSON *doc = NULL;
    memset(out, 0, sizeof *out);
    int rc = -1;
    if (map_parse(body, len, &doc, err, errlen) == 0 &&
        level_item_id(doc, out->item, err, errlen) == 0 &&
        map_id(doc, "location_id", 1, out->location, "inventory_level", err, errlen) == 0 &&
        map_int(doc, "available", 1, -1000000000, 1000000000, 0, &out->available,
                "inventory_level", err, errlen) == 0) {
        out->present = 1;
        rc = 0;
    }
    cJSON_Delete(doc);
    return rc;
}

int depot_map_shopify_fulfillment(const char *body, size_t len, cJSON **doc,
                                  char order_id[MAP_ID_MAX], const char **status, char *err,
                                  size_t errlen)
{
    *status = "";
    if (map_parse(body, len, doc, err, errlen) != 0)
        return -1;
    const char *st = NULL;
    if (map_id(*doc, "order_id", 1, order_id, "fulfillment", err, errlen) != 0 ||
        map_string(*doc, "status", &st, "fulfillment", err, errlen) != 0) {
        cJSON_Delete(*doc);
        *doc = NULL;
        return -1;
    }
    *status = st ? st : "";
    return 0;
}
