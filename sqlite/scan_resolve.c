/* Scan resolution: one scanned text (and the GTIN a GS1 parse found) to what it means at
 * a packing station, as JSON (see scan_resolve.h for the order of the lookups). */
#include "scan_resolve.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "pack.h"
#include "store_int.h"

static const char *const commands[] = {"PACK", "CANCEL", "REPRINT", "LOGOUT"};

int depot_scan_is_secret(const char *text)
{
    if (!text)
        return 0;
    while (isspace((unsigned char)*text))
        text++;
    return strncasecmp(text, "BADGE-", 6) == 0;
}

static cJSON *result(const char *kind)
{
    cJSON *o = cJSON_CreateObject();
    if (o && !cJSON_AddStringToObject(o, "kind", kind)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *unknown(const char *reason)
{
    cJSON *o = result("unknown");
    if (o && !cJSON_AddStringToObject(o, "reason", reason)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *command(const char *text)
{
    const char *word = text + strlen(DEPOT_SCAN_COMMAND_PREFIX);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (!strcasecmp(word, commands[i])) {
            cJSON *o = result("command");
            if (o && !cJSON_AddStringToObject(o, "command", commands[i])) {
                cJSON_Delete(o);
                return NULL;
            }
            return o;
        }
    }
    return unknown("unknown_command");
}

static depot_err badge(depot_store *st, const char *text, cJSON **out)
{
    char name[DEPOT_USER_NAME_MAX + 1], role[16];
    depot_err e = depot_user_check_badge(st, text, name, role);
    cJSON *o = result("badge");
    if (!o)
        return DEPOT_E_NOMEM;
    if (e == DEPOT_OK) {
        cJSON_AddStringToObject(o, "user", name);
        cJSON_AddStringToObject(o, "role", role);
    } else if (e == DEPOT_E_NOT_FOUND || e == DEPOT_E_STATE || e == DEPOT_E_INVALID) {
        cJSON_AddNullToObject(o, "user");
        cJSON_AddStringToObject(o, "reason",
                                e == DEPOT_E_STATE ? "user_disabled" : "unknown_badge");
    } else {
        cJSON_Delete(o);
        return e;
    }
    *out = o;
    return DEPOT_OK;
}

static cJSON *sku_result(sqlite3_stmt *s, const char *matched)
{
    cJSON *o = result("sku");
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "sku", (const char *)sqlite3_column_text(s, 1));
    cJSON_AddNumberToObject(o, "sku_id", (double)sqlite3_column_int64(s, 0));
    cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(s, 2));
    cJSON_AddStringToObject(o, "matched", matched);
    return o;
}

/* A GTIN-14 (or shorter GTIN) to the SKU holding it in any of its stored forms:
 * sku_gtins keeps GTINs as imported (8, 12, 13 or 14 digits). */
static depot_err sku_by_gtin(depot_store *st, const char *gtin, cJSON **out)
{
    char g14[15], forms[4][15];
    size_t n = strlen(gtin);
    if (n > 14 || !store__valid_gtin(gtin))
        return DEPOT_OK;
    memset(g14, '0', 14 - n);
    memcpy(g14 + 14 - n, gtin, n + 1);
    static const size_t lens[4] = {14, 13, 12, 8};
    for (int i = 0; i < 4; i++) {
        size_t cut = 14 - lens[i];
        /* A shorter form exists only if the digits it drops are zeros. */
        if (strspn(g14, "0") >= cut)
            memcpy(forms[i], g14 + cut, lens[i] + 1);
        else
            forms[i][0] = '\0';
    }
    sqlite3_stmt *s = store__stmt(st,
        "SELECT k.id, k.code, k.name, g.gtin FROM sku_gtins g JOIN skus k ON k.id = g.sku_id"
        " WHERE g.gtin IN (?1, ?2, ?3, ?4) ORDER BY length(g.gtin) DESC LIMIT 1");
    if (!s)
        return DEPOT_E_DB;
    for (int i = 0; i < 4; i++)
        sqlite3_bind_text(s, i + 1, forms[i], -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    depot_err e = DEPOT_OK;
    if (rc == SQLITE_ROW) {
        cJSON *o = sku_result(s, "gtin");
        if (o && cJSON_AddStringToObject(o, "gtin", (const char *)sqlite3_column_text(s, 3)))
            *out = o;
        else {
            cJSON_Delete(o);
            e = DEPOT_E_NOMEM;
        }
    } else if (rc != SQLITE_DONE) {
        e = store__dberr(st, "scan gtin");
    }
    sqlite3_reset(s);
    return e;
}

static depot_err sku_by_code(depot_store *st, const char *text, cJSON **out)
{
    sqlite3_stmt *s = store__stmt(st, "SELECT id, code, name FROM skus WHERE code = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    depot_err e = DEPOT_OK;
    if (rc == SQLITE_ROW) {
        if (!(*out = sku_result(s, "sku_code")))
            e = DEPOT_E_NOMEM;
    } else if (rc != SQLITE_DONE) {
        e = store__dberr(st, "scan sku");
    }
    sqlite3_reset(s);
    return e;
}

static depot_err bin_by_code(depot_store *st, const char *text, cJSON **out)
{
    sqlite3_stmt *s = store__stmt(st,
        "SELECT l.code FROM bins b JOIN locations l ON l.id = b.location_id"
        " WHERE b.code = ?1 ORDER BY l.code LIMIT 50");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
    cJSON *o = NULL, *locations = NULL;
    int rc;
    depot_err e = DEPOT_OK;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (!o) {
            o = result("bin");
            if (!o || !cJSON_AddStringToObject(o, "bin", text) ||
                !(locations = cJSON_AddArrayToObject(o, "locations"))) {
                e = DEPOT_E_NOMEM;
                break;
            }
        }
        cJSON_AddItemToArray(locations,
                             cJSON_CreateString((const char *)sqlite3_column_text(s, 0)));
    }
    if (e == DEPOT_OK && rc != SQLITE_DONE)
        e = store__dberr(st, "scan bin");
    sqlite3_reset(s);
    if (e != DEPOT_OK)
        cJSON_Delete(o);
    else
        *out = o;
    return e;
}

static depot_err order_by_code(depot_store *st, const char *text, cJSON **out)
{
    int64_t id;
    depot_err e = depot_pack_order_find(st, text, &id);
    if (e == DEPOT_E_NOT_FOUND || e == DEPOT_E_INVALID)
        return DEPOT_OK;
    if (e != DEPOT_OK)
        return e;
    sqlite3_stmt *s = store__stmt(st,
        "SELECT external_id, number, status FROM orders WHERE id = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, id);
    if (sqlite3_step(s) == SQLITE_ROW) {
        cJSON *o = result("order");
        if (o) {
            cJSON_AddNumberToObject(o, "order_id", (double)id);
            cJSON_AddStringToObject(o, "external_id", (const char *)sqlite3_column_text(s, 0));
            if (sqlite3_column_type(s, 1) == SQLITE_NULL)
                cJSON_AddNullToObject(o, "number");
            else
                cJSON_AddStringToObject(o, "number", (const char *)sqlite3_column_text(s, 1));
            cJSON_AddStringToObject(o, "status", (const char *)sqlite3_column_text(s, 2));
        }
        *out = o;
        e = o ? DEPOT_OK : DEPOT_E_NOMEM;
    }
    sqlite3_reset(s);
    return e;
}

/* 1 if every byte is printable ASCII or GS (FNC1). */
static int clean_text(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != 0x1d) || c >= 0x7f)
            return 0;
    }
    return 1;
}

depot_err depot_scan_resolve(depot_store *st, const char *text, const char *gtin,
                             cJSON **out)
{
    store__clear_error(st);
    *out = NULL;
    if (!text || strlen(text) > DEPOT_SCAN_TEXT_MAX)
        return store__fail(st, DEPOT_E_INVALID, "a scan is 0..%d bytes", DEPOT_SCAN_TEXT_MAX);
    char buf[DEPOT_SCAN_TEXT_MAX + 1];
    while (isspace((unsigned char)*text))
        text++;
    size_t n = strlen(text);
    while (n > 0 && isspace((unsigned char)text[n - 1]))
        n--;
    memcpy(buf, text, n);
    buf[n] = '\0';

    depot_err e = DEPOT_OK;
    cJSON *o = NULL;
    if (!clean_text(buf, n)) {
        o = unknown("invalid_characters");
    } else if (!strncasecmp(buf, DEPOT_SCAN_COMMAND_PREFIX,
                            strlen(DEPOT_SCAN_COMMAND_PREFIX))) {
        o = command(buf);
    } else if (depot_scan_is_secret(buf)) {
        e = badge(st, buf, &o);
    } else {
        if (gtin && *gtin)
            e = sku_by_gtin(st, gtin, &o);
        if (e == DEPOT_OK && !o)
            e = sku_by_gtin(st, buf, &o);
        if (e == DEPOT_OK && !o && n > 0)
            e = sku_by_code(st, buf, &o);
        if (e == DEPOT_OK && !o && n > 0)
            e = bin_by_code(st, buf, &o);
        if (e == DEPOT_OK && !o && n > 0)
            e = order_by_code(st, buf, &o);
        if (e == DEPOT_OK && !o)
            o = unknown("no_match");
    }
    if (e != DEPOT_OK) {
        cJSON_Delete(o);
        return e;
    }
    if (!o)
        return store__fail(st, DEPOT_E_NOMEM, "out of memory");
    store__clear_error(st);
    *out = o;
    return DEPOT_OK;
}
