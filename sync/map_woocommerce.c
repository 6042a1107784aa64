/* WooCommerce webhook payloads (REST v3 shapes) to ingestion structs: orders, deleted
 * orders, products with managed stock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inbound_map.h"

/* Rationale: "processing" is WooCommerce's paid-and-waiting state (and "completed" was
 * paid too), so those reserve; "pending", "on-hold" and drafts wait for payment;
 * "cancelled", "refunded", "failed" and "trash" release. Times come from the *_gmt
 * fields, which carry no zone and are UTC. */

static const char *const paid_statuses[] = {"processing", "completed", NULL};
static const char *const cancelled_statuses[] = {"cancelled", "refunded", "failed", "trash",
                                                 NULL};

static int in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; s && list[i]; i++)
        if (!strcmp(s, list[i]))
            return 1;
    return 0;
}

/* The named string members of an address, plus "name" joined from first and last. */
static char *address(const cJSON *from)
{
    static const char *const keys[] = {"company", "address_1", "address_2", "city",
                                       "state", "postcode", "country", "phone", "email",
                                       NULL};
    if (!cJSON_IsObject(from))
        return NULL;
    cJSON *o = cJSON_CreateObject();
    const cJSON *first = cJSON_GetObjectItemCaseSensitive(from, "first_name");
    const cJSON *last = cJSON_GetObjectItemCaseSensitive(from, "last_name");
    if (cJSON_IsString(first) && cJSON_IsString(last) &&
        strlen(first->valuestring) + strlen(last->valuestring) < 512) {
        char name[1024];
        snprintf(name, sizeof name, "%s%s%s", first->valuestring,
                 first->valuestring[0] && last->valuestring[0] ? " " : "", last->valuestring);
        cJSON_AddStringToObject(o, "name", name);
    }
    for (size_t i = 0; keys[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, keys[i]);
        if (cJSON_IsString(v) && v->valuestring[0] && strlen(v->valuestring) <= 1024)
            cJSON_AddStringToObject(o, keys[i], v->valuestring);
    }
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

static int map_line(const cJSON *item, size_t i, struct depot_ingest_line *l,
                    struct mapped_line_ids *ids, char *err, size_t errlen)
{
    char where[32];
    snprintf(where, sizeof where, "line_items[%zu]", i);
    if (!cJSON_IsObject(item)) {
        snprintf(err, errlen, "%s must be an object", where);
        return -1;
    }
    if (map_id(item, "id", 1, ids->line, where, err, errlen) ||
        map_id(item, "product_id", 0, ids->product, where, err, errlen) ||
        map_id(item, "variation_id", 0, ids->variant, where, err, errlen) ||
        map_string(item, "sku", &l->sku, where, err, errlen) ||
        map_string(item, "name", &l->title, where, err, errlen) ||
        map_int(item, "quantity", 1, 0, 1000000, 0, &l->quantity, where, err, errlen))
        return -1;
    l->external_line_id = ids->line;
    /* WooCommerce sends 0 for "no variation" and for a deleted product. */
    l->variant_id = ids->variant[0] && strcmp(ids->variant, "0") ? ids->variant : NULL;
    l->product_id = ids->product[0] && strcmp(ids->product, "0") ? ids->product : NULL;
    return 0;
}

int depot_map_woocommerce_order(const char *body, size_t len, int64_t channel_id,
                                struct depot_mapped_order *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *status = NULL, *modified = NULL, *number = NULL;
    const cJSON *items, *item;
    if (map_parse(body, len, &out->doc, err, errlen) != 0)
        goto fail;
    const cJSON *o = out->doc;
    if (map_id(o, "id", 1, out->external_id, "order", err, errlen) ||
        map_string(o, "status", &status, "order", err, errlen) ||
        map_string(o, "date_modified_gmt", &modified, "order", err, errlen) ||
        map_string(o, "number", &number, "order", err, errlen) ||
        map_array(o, "line_items", DEPOT_INGEST_LINES_MAX, &items, "order", err, errlen))
        goto fail;
    int64_t ms = 0;
    if (modified && depot_time_parse_iso8601(modified, &ms) != 0) {
        snprintf(err, errlen, "order.date_modified_gmt is not an ISO 8601 time");
        goto fail;
    }
    size_t n = items ? (size_t)cJSON_GetArraySize(items) : 0, i = 0;
    out->lines = calloc(n ? n : 1, sizeof *out->lines);
    out->ids = calloc(n ? n : 1, sizeof *out->ids);
    if (!out->lines || !out->ids) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    cJSON_ArrayForEach(item, items) {
        if (map_line(item, i, &out->lines[i], &out->ids[i], err, errlen) != 0)
            goto fail;
        i++;
    }
    out->order.channel_id = channel_id;
    out->order.external_id = out->external_id;
    out->order.number = number && number[0] && strlen(number) <= 64 ? number : NULL;
    out->order.updated_at_ms = ms;
    out->order.lines = out->lines;
    out->order.n_lines = n;
    out->order.state = in_list(status, paid_statuses)       ? DEPOT_INGEST_PAID
                       : in_list(status, cancelled_statuses) ? DEPOT_INGEST_CANCELLED
                                                             : DEPOT_INGEST_OPEN;
    out->customer_json = address(cJSON_GetObjectItemCaseSensitive(o, "billing"));
    out->ship_to_json = address(cJSON_GetObjectItemCaseSensitive(o, "shipping"));
    out->order.customer_json = out->customer_json;
    out->order.ship_to_json = out->ship_to_json;
    return 0;
fail:
    depot_mapped_order_free(out);
    return -1;
}

int depot_map_woocommerce_deleted(const char *body, size_t len, char id[MAP_ID_MAX],
                                  char *err, size_t errlen)
{
    cJSON *doc = NULL;
    int rc = map_parse(body, len, &doc, err, errlen) == 0 &&
                     map_id(doc, "id", 1, id, "order", err, errlen) == 0
                 ? 0 : -1;
    cJSON_Delete(doc);
    return rc;
}

int depot_map_woocommerce_product(const char *body, size_t len,
                                  struct depot_mapped_level *out, char *err, size_t errlen)
{
    cJSON *doc = NULL;
    memset(out, 0, sizeof *out);
    int rc = -1;
    if (map_parse(body, len, &doc, err, errlen) != 0 ||
        map_id(doc, "id", 1, out->item, "product", err, errlen) != 0)
        goto out;
    const cJSON *managed = cJSON_GetObjectItemCaseSensitive(doc, "manage_stock");
    if (managed && !cJSON_IsBool(managed) && !cJSON_IsNull(managed) &&
        !cJSON_IsString(managed)) { /* "parent" for variations inheriting the stock */
        snprintf(err, errlen, "product.manage_stock must be a boolean");
        goto out;
    }
    rc = 0;
    if (!cJSON_IsTrue(managed))
        goto out;
    int64_t qty;
    if (map_int(doc, "stock_quantity", 0, -1000000000, 1000000000, INT64_MIN, &qty, "product",
                err, errlen) != 0) {
        rc = -1;
        goto out;
    }
    if (qty != INT64_MIN) {
        out->available = qty;
        out->present = 1;
    }
out:
    cJSON_Delete(doc);
    return rc;
}
