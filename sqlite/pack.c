/* The packing station's reads and checks: the order behind a scanned code, the order as
 * the packer sees it (names, GTINs, bins, shipments, open alerts), and the check of scanned units
 * against the order's lines before it ships. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inbound.h"
#include "pack.h"
#include "store_int.h"

#define PACK_COUNTS_MAX 1000

/* Rationale: a scanned code is tried from the most to the least specific reading, so a
 * label we printed ("ORDER-42") always means that order, and a bare number is the
 * channel's order number before it is taken as our internal id. */

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* Parses a positive id of at most 18 digits; 0 if s is not one. */
static int64_t parse_id(const char *s)
{
    if (!all_digits(s) || strlen(s) > 18)
        return 0;
    return strtoll(s, NULL, 10);
}

static depot_err order_exists(depot_store *st, int64_t id, int *found)
{
    sqlite3_stmt *s = store__stmt(st, "SELECT 1 FROM orders WHERE id = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    *found = rc == SQLITE_ROW;
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DEPOT_OK : store__dberr(st, "find the order");
}

/* The newest live order (else the newest at all) whose number or external id is code. */
static depot_err order_by_name(depot_store *st, const char *code, int64_t *id)
{
    sqlite3_stmt *s = store__stmt(st,
        "SELECT id FROM orders WHERE number = ?1 OR number = '#' || ?1 OR external_id = ?1"
        " ORDER BY (status = 'shipped' OR status = 'cancelled'), id DESC LIMIT 1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, code, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DEPOT_OK : store__dberr(st, "find the order");
}

depot_err depot_pack_order_find(depot_store *st, const char *code, int64_t *order_id)
{
    store__clear_error(st);
    char buf[DEPOT_PACK_CODE_MAX + 1];
    if (!code)
        return store__fail(st, DEPOT_E_INVALID, "no order code");
    while (isspace((unsigned char)*code))
        code++;
    size_t len = strlen(code);
    while (len > 0 && isspace((unsigned char)code[len - 1]))
        len--;
    if (len == 0 || len > DEPOT_PACK_CODE_MAX)
        return store__fail(st, DEPOT_E_INVALID, "an order code is 1..%d characters",
                           DEPOT_PACK_CODE_MAX);
    memcpy(buf, code, len);
    buf[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (iscntrl((unsigned char)buf[i]))
            return store__fail(st, DEPOT_E_INVALID, "an order code has no control characters");

    int64_t id = 0;
    int found = 0;
    depot_err e;
    if (strncmp(buf, "ORDER-", 6) == 0 && (id = parse_id(buf + 6)) > 0) {
        if ((e = order_exists(st, id, &found)) != DEPOT_OK)
            return e;
    } else {
        if ((e = order_by_name(st, buf, &id)) != DEPOT_OK)
            return e;
        found = id > 0;
        if (!found && (id = parse_id(buf[0] == '#' ? buf + 1 : buf)) > 0 &&
            (e = order_exists(st, id, &found)) != DEPOT_OK)
            return e;
    }
    if (!found)
        return store__fail(st, DEPOT_E_NOT_FOUND, "no order matches '%s'", buf);
    *order_id = id;
    return DEPOT_OK;
}

/* Adds "name", "gtins" and "bins" to one line object of SKU code sku. */
static depot_err describe_line(depot_store *st, int64_t order_id, cJSON *line)
{
    const cJSON *sku = cJSON_GetObjectItemCaseSensitive(line, "sku");
    const cJSON *title = cJSON_GetObjectItemCaseSensitive(line, "title");
    const cJSON *line_id = cJSON_GetObjectItemCaseSensitive(line, "id");
    cJSON *gtins = cJSON_AddArrayToObject(line, "gtins");
    cJSON *bins = cJSON_AddArrayToObject(line, "bins");
    if (!cJSON_IsString(sku)) {
        cJSON_AddItemToObject(line, "name", cJSON_IsString(title)
                                                ? cJSON_CreateString(title->valuestring)
                                                : cJSON_CreateNull());
        return DEPOT_OK;
    }
    sqlite3_stmt *s = store__stmt(st, "SELECT name FROM skus WHERE code = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, sku->valuestring, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        cJSON_AddStringToObject(line, "name", (const char *)sqlite3_column_text(s, 0));
    else
        cJSON_AddNullToObject(line, "name");
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__dberr(st, "read the SKU's name");

    s = store__stmt(st,
        "SELECT g.gtin FROM sku_gtins g JOIN skus k ON k.id = g.sku_id WHERE k.code = ?1"
        " ORDER BY g.gtin");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, sku->valuestring, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        cJSON_AddItemToArray(gtins, cJSON_CreateString((const char *)sqlite3_column_text(s, 0)));
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return store__dberr(st, "read the SKU's GTINs");

    /* Bins holding this line's active reservations; else every bin with the SKU. */
    s = store__stmt(st,
        "SELECT DISTINCT b.code FROM stock t JOIN skus k ON k.id = t.sku_id"
        "  JOIN bins b ON b.id = t.bin_id"
        " WHERE k.code = ?1 AND t.on_hand > 0"
        "   AND (NOT EXISTS (SELECT 1 FROM reservations r WHERE r.order_id = ?2"
        "                      AND r.line_id = ?3 AND r.status = 'active')"
        "        OR t.location_id IN (SELECT r.location_id FROM reservations r"
        "                              WHERE r.order_id = ?2 AND r.line_id = ?3"
        "                                AND r.status = 'active'))"
        " ORDER BY b.code LIMIT 20");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, sku->valuestring, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, order_id);
    sqlite3_bind_int64(s, 3, cJSON_IsNumber(line_id) ? (int64_t)line_id->valuedouble : 0);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        cJSON_AddItemToArray(bins, cJSON_CreateString((const char *)sqlite3_column_text(s, 0)));
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return store__dberr(st, "read the SKU's bins");

    /* Units of this SKU that came back from the order (returns screen). */
    s = store__stmt(st,
        "SELECT coalesce(sum(r.quantity), 0) FROM returns r JOIN skus k ON k.id = r.sku_id"
        " WHERE r.order_id = ?1 AND k.code = ?2");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, order_id);
    sqlite3_bind_text(s, 2, sku->valuestring, -1, SQLITE_STATIC);
    if ((rc = sqlite3_step(s)) == SQLITE_ROW)
        cJSON_AddNumberToObject(line, "returned", (double)sqlite3_column_int64(s, 0));
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? DEPOT_OK : store__dberr(st, "read the SKU's returns");
}

static depot_err add_shipments(depot_store *st, int64_t order_id, cJSON *o)
{
    cJSON *list = cJSON_AddArrayToObject(o, "shipments");
    sqlite3_stmt *s = store__stmt(st,
        "SELECT id, carrier, tracking_number, status, created_at FROM shipments"
        " WHERE order_id = ?1 ORDER BY id");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, order_id);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        cJSON *sh = cJSON_CreateObject();
        cJSON_AddNumberToObject(sh, "id", (double)sqlite3_column_int64(s, 0));
        cJSON_AddStringToObject(sh, "carrier", (const char *)sqlite3_column_text(s, 1));
        if (sqlite3_column_type(s, 2) == SQLITE_NULL)
            cJSON_AddNullToObject(sh, "tracking_number");
        else
            cJSON_AddStringToObject(sh, "tracking_number",
                                    (const char *)sqlite3_column_text(s, 2));
        cJSON_AddStringToObject(sh, "status", (const char *)sqlite3_column_text(s, 3));
        cJSON_AddNumberToObject(sh, "created_at", (double)sqlite3_column_int64(s, 4));
        cJSON_AddItemToArray(list, sh);
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? DEPOT_OK : store__dberr(st, "read the order's shipments");
}

depot_err depot_pack_order_json(depot_store *st, int64_t order_id, cJSON **out)
{
    cJSON *o = NULL;
    depot_err e = depot_order_show_json(st, order_id, &o);
    if (e != DEPOT_OK)
        return e;
    cJSON *line;
    cJSON_ArrayForEach(line, cJSON_GetObjectItemCaseSensitive(o, "lines"))
        if ((e = describe_line(st, order_id, line)) != DEPOT_OK)
            goto fail;
    if ((e = add_shipments(st, order_id, o)) != DEPOT_OK)
        goto fail;
    cJSON *alerts = NULL;
    if ((e = depot_order_alerts_json(st, order_id, &alerts)) != DEPOT_OK)
        goto fail;
    cJSON_AddItemToObject(o, "alerts", alerts);
    *out = o;
    return DEPOT_OK;
fail:
    cJSON_Delete(o);
    return e;
}

depot_err depot_pack_order_events_json(depot_store *st, int64_t order_id, int limit,
                                       cJSON **out)
{
    store__clear_error(st);
    *out = NULL;
    if (limit < 1 || limit > 200)
        return store__fail(st, DEPOT_E_INVALID, "limit must be 1..200");
    char entity[32];
    snprintf(entity, sizeof entity, "order:%lld", (long long)order_id);
    sqlite3_stmt *s = store__stmt(st,
        "SELECT id, at, actor, action, detail FROM audit WHERE entity = ?1"
        " ORDER BY id DESC LIMIT ?2");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, entity, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 2, limit);
    cJSON *doc = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(doc, "items");
    int rc = SQLITE_DONE;
    while (items && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(items, o);
        cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(s, 0));
        cJSON_AddNumberToObject(o, "at", (double)sqlite3_column_int64(s, 1));
        cJSON_AddStringToObject(o, "actor", (const char *)sqlite3_column_text(s, 2));
        cJSON_AddStringToObject(o, "action", (const char *)sqlite3_column_text(s, 3));
        cJSON *detail = cJSON_Parse((const char *)sqlite3_column_text(s, 4));
        cJSON_AddItemToObject(o, "detail", detail ? detail : cJSON_CreateObject());
    }
    depot_err e = rc == SQLITE_DONE ? DEPOT_OK : store__dberr(st, "read audit");
    sqlite3_reset(s);
    if (!items)
        e = store__fail(st, DEPOT_E_NOMEM, "out of memory");
    if (e != DEPOT_OK) {
        cJSON_Delete(doc);
        return e;
    }
    *out = doc;
    return DEPOT_OK;
}

/* The scanned quantity of sku in counts, or 0. */
static int64_t counted(const struct depot_pack_count *counts, size_t n, const char *sku)
{
    int64_t q = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(counts[i].sku, sku) == 0)
            q += counts[i].quantity;
    return q;
}

static depot_err check_status(depot_store *st, int64_t order_id)
{
    sqlite3_stmt *s = store__stmt(st, "SELECT status FROM orders WHERE id = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, order_id);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return store__fail(st, DEPOT_E_NOT_FOUND, "no order %lld", (long long)order_id);
    }
    char status[24];
    snprintf(status, sizeof status, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_reset(s);
    if (strcmp(status, "open") && strcmp(status, "reserved") && strcmp(status, "packed"))
        return store__fail(st, DEPOT_E_STATE, "order %lld is %s; it cannot be packed",
                           (long long)order_id, status);
    return DEPOT_OK;
}

depot_err depot_pack_verify(depot_store *st, int64_t order_id,
                            const struct depot_pack_count *counts, size_t n)
{
    store__clear_error(st);
    if (n > PACK_COUNTS_MAX)
        return store__fail(st, DEPOT_E_INVALID, "at most %d SKUs per box", PACK_COUNTS_MAX);
    for (size_t i = 0; i < n; i++)
        if (!counts[i].sku || counts[i].quantity < 0)
            return store__fail(st, DEPOT_E_INVALID, "scanned counts need a SKU and a count"
                                                    " of 0 or more");
    depot_err e = check_status(st, order_id);
    if (e != DEPOT_OK)
        return e;
    /* Every SKU of the order with its total quantity; a NULL SKU is an unresolved line. */
    sqlite3_stmt *s = store__stmt(st,
        "SELECT k.code, sum(ol.quantity) FROM order_lines ol"
        "  LEFT JOIN skus k ON k.id = ol.sku_id WHERE ol.order_id = ?1"
        " GROUP BY ol.sku_id ORDER BY min(ol.line_no)");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, order_id);
    int64_t units = 0;
    int rc = SQLITE_DONE;
    e = DEPOT_OK;
    while (e == DEPOT_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (sqlite3_column_type(s, 0) == SQLITE_NULL) {
            e = store__fail(st, DEPOT_E_STATE, "order %lld has a line with no known SKU",
                            (long long)order_id);
            break;
        }
        const char *sku = (const char *)sqlite3_column_text(s, 0);
        int64_t want = sqlite3_column_int64(s, 1), got = counted(counts, n, sku);
        units += got;
        if (got != want)
            e = store__fail(st, DEPOT_E_INVALID, "%s: %lld scanned, the order has %lld", sku,
                            (long long)got, (long long)want);
    }
    sqlite3_reset(s);
    if (e == DEPOT_OK && rc != SQLITE_DONE)
        e = store__dberr(st, "read the order's lines");
    if (e != DEPOT_OK)
        return e;
    /* Anything scanned that is not on the order. */
    int64_t all = 0;
    for (size_t i = 0; i < n; i++)
        all += counts[i].quantity;
    if (all != units) {
        for (size_t i = 0; i < n; i++) {
            sqlite3_stmt *q = store__stmt(st,
                "SELECT 1 FROM order_lines ol JOIN skus k ON k.id = ol.sku_id"
                " WHERE ol.order_id = ?1 AND k.code = ?2");
            if (!q)
                return DEPOT_E_DB;
            sqlite3_bind_int64(q, 1, order_id);
            sqlite3_bind_text(q, 2, counts[i].sku, -1, SQLITE_STATIC);
            int on_order = (rc = sqlite3_step(q)) == SQLITE_ROW;
            sqlite3_reset(q);
            if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return store__dberr(st, "read the order's lines");
            if (!on_order && counts[i].quantity > 0)
                return store__fail(st, DEPOT_E_INVALID, "%s is not on order %lld",
                                   counts[i].sku, (long long)order_id);
        }
    }
    return DEPOT_OK;
}

depot_err depot_pack_shipment_get(depot_store *st, int64_t shipment_id, int64_t *order_id,
                                  char status[16])
{
    store__clear_error(st);
    sqlite3_stmt *s = store__stmt(st, "SELECT order_id, status FROM shipments WHERE id = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, shipment_id);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return store__fail(st, DEPOT_E_NOT_FOUND, "no shipment %lld", (long long)shipment_id);
    }
    *order_id = sqlite3_column_int64(s, 0);
    snprintf(status, 16, "%s", (const char *)sqlite3_column_text(s, 1));
    sqlite3_reset(s);
    return DEPOT_OK;
}
