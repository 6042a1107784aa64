/* Channel payloads to the store's ingestion structs (sync/map_*.c): Shopify's and
 * WooCommerce's order, refund, inventory and product payloads, parsed with cJSON,
 * bounded and type-checked. Each returns 0, or -1 with a one-line reason in err that
 * names the field (never a customer's data). */
#ifndef DEPOT_INBOUND_MAP_H
#define DEPOT_INBOUND_MAP_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "inbound.h"

#define MAP_ID_MAX 32 /* a channel id as text (numbers up to 2^53, or id strings) */

struct mapped_line_ids {
    char line[MAP_ID_MAX], variant[MAP_ID_MAX], product[MAP_ID_MAX];
};

/* An order mapped from a payload; order's strings point into doc and the buffers here.
 * Free with depot_mapped_order_free. */
struct depot_mapped_order {
    struct depot_ingest_order order;
    cJSON *doc;
    char external_id[MAP_ID_MAX];
    char *customer_json;
    char *ship_to_json;
    struct depot_ingest_line *lines;
    struct mapped_line_ids *ids;
};
void depot_mapped_order_free(struct depot_mapped_order *m);

/* A Shopify order (orders/create, orders/updated, orders/paid, orders/cancelled: the
 * REST order resource). topic orders/cancelled forces the cancelled state. */
int depot_map_shopify_order(const char *body, size_t len, int64_t channel_id,
                            const char *topic, struct depot_mapped_order *out, char *err,
                            size_t errlen);
/* A WooCommerce order (order.created, order.updated: the REST v3 order). */
int depot_map_woocommerce_order(const char *body, size_t len, int64_t channel_id,
                                struct depot_mapped_order *out, char *err, size_t errlen);

/* A Shopify refund (refunds/create): its returned lines. Free with
 * depot_mapped_refund_free. */
struct depot_mapped_refund {
    char order_id[MAP_ID_MAX];
    struct depot_ingest_return_line *lines;
    char (*refs)[96];
    char (*line_ids)[MAP_ID_MAX];
    size_t n;
};
int depot_map_shopify_refund(const char *body, size_t len, int64_t channel_id,
                             struct depot_mapped_refund *out, char *err, size_t errlen);
void depot_mapped_refund_free(struct depot_mapped_refund *r);

/* An inventory level: Shopify inventory_levels/update ({inventory_item_id, location_id,
 * available}) or a WooCommerce product.updated with managed stock (no location).
 * *present = 0 when the payload carries no level to apply (WooCommerce product without
 * managed stock). */
struct depot_mapped_level {
    char item[MAP_ID_MAX];
    char location[MAP_ID_MAX]; /* "" = none */
    int64_t available;
    int present;
};
int depot_map_shopify_inventory_level(const char *body, size_t len,
                                      struct depot_mapped_level *out, char *err,
                                      size_t errlen);
int depot_map_woocommerce_product(const char *body, size_t len,
                                  struct depot_mapped_level *out, char *err, size_t errlen);

/* A Shopify fulfillment (fulfillments/create, fulfillments/update): its order id and
 * status ("" when absent); status points into *doc, which the caller frees. */
int depot_map_shopify_fulfillment(const char *body, size_t len, cJSON **doc,
                                  char order_id[MAP_ID_MAX], const char **status, char *err,
                                  size_t errlen);

/* The order id of a WooCommerce order.deleted payload ({"id": 123}). */
int depot_map_woocommerce_deleted(const char *body, size_t len, char id[MAP_ID_MAX],
                                  char *err, size_t errlen);

/* ---- Helpers shared by the map files (map_json.c) ------------------------------------ */

/* Parses body as a JSON object; -1 with "malformed JSON at byte N" or "the payload must
 * be a JSON object". */
int map_parse(const char *body, size_t len, cJSON **doc, char *err, size_t errlen);
/* obj[name] as an id: a non-negative integer number (exact, < 2^53) or a string of
 * 1..MAP_ID_MAX-1 printable characters; copied to out. required: absence is an error;
 * else absent or null gives "" and 0. */
int map_id(const cJSON *obj, const char *name, int required, char out[MAP_ID_MAX],
           const char *where, char *err, size_t errlen);
/* obj[name] as an integer in [min, max]; absent or null gives def unless required. */
int map_int(const cJSON *obj, const char *name, int required, int64_t min, int64_t max,
            int64_t def, int64_t *out, const char *where, char *err, size_t errlen);
/* obj[name] as a string (NULL when absent or null; a wrong type is an error). */
int map_string(const cJSON *obj, const char *name, const char **out, const char *where,
               char *err, size_t errlen);
/* obj[name] as an array of at most max items (NULL when absent or null). */
int map_array(const cJSON *obj, const char *name, size_t max, const cJSON **out,
              const char *where, char *err, size_t errlen);

#endif
