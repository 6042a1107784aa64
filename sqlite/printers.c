/* The printers table: configuration of each label printer, and the start-up recovery of
 * print jobs a crash left in "sending". */
#include <stdio.h>
#include <string.h>
#include "printers.h"
#include "store_int.h"

int depot_printer_name_valid(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= DEPOT_PRINTER_NAME_MAX &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* Checks every field; DEPOT_E_INVALID naming the first bad one. */
static depot_err check_row(depot_store *st, const struct depot_printer_row *p)
{
    if (!depot_printer_name_valid(p->name))
        return store__fail(st, DEPOT_E_INVALID,
                           "printer name must be 1..%d of A-Z a-z 0-9 . _ -",
                           DEPOT_PRINTER_NAME_MAX);
    if (strcmp(p->backend, "serial") && strcmp(p->backend, "tcp") &&
        strcmp(p->backend, "file"))
        return store__fail(st, DEPOT_E_INVALID, "backend must be serial, tcp or file");
    if (!store__valid_text(p->address, sizeof p->address - 1))
        return store__fail(st, DEPOT_E_INVALID, "address must be 1..%zu characters",
                           sizeof p->address - 1);
    if (!store__valid_text(p->serial, sizeof p->serial - 1))
        return store__fail(st, DEPOT_E_INVALID, "serial settings must be 1..%zu characters",
                           sizeof p->serial - 1);
    if (p->dpi != 203 && p->dpi != 300)
        return store__fail(st, DEPOT_E_INVALID, "dpi must be 203 or 300");
    if (strcmp(p->stock, "4x6") && strcmp(p->stock, "2x1"))
        return store__fail(st, DEPOT_E_INVALID, "stock must be 4x6 or 2x1");
    if (p->timeout_ms < 100 || p->timeout_ms > 120000)
        return store__fail(st, DEPOT_E_INVALID, "timeout_ms must be 100..120000");
    if (p->enabled != 0 && p->enabled != 1)
        return store__fail(st, DEPOT_E_INVALID, "enabled must be 0 or 1");
    return DEPOT_OK;
}

static cJSON *row_json(const struct depot_printer_row *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", p->name);
    cJSON_AddStringToObject(o, "backend", p->backend);
    cJSON_AddStringToObject(o, "address", p->address);
    cJSON_AddStringToObject(o, "serial", p->serial);
    cJSON_AddNumberToObject(o, "dpi", p->dpi);
    cJSON_AddStringToObject(o, "stock", p->stock);
    cJSON_AddNumberToObject(o, "timeout_ms", p->timeout_ms);
    cJSON_AddBoolToObject(o, "enabled", p->enabled);
    return o;
}

depot_err depot_printer_put(depot_store *st, const struct depot_printer_row *p,
                            const char *actor, int *created)
{
    store__clear_error(st);
    depot_err e = check_row(st, p);
    if (e != DEPOT_OK)
        return e;
    if ((e = store__begin(st)) != DEPOT_OK)
        return e;
    sqlite3_stmt *q = store__stmt(st, "SELECT 1 FROM printers WHERE name = ?1");
    if (!q) {
        e = DEPOT_E_DB;
        goto fail;
    }
    sqlite3_bind_text(q, 1, p->name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q), exists = rc == SQLITE_ROW;
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        e = store__dberr(st, "find the printer");
        goto fail;
    }
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO printers (name, backend, address, serial, dpi, stock, timeout_ms,"
        "                      enabled, created_at, updated_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)"
        " ON CONFLICT (name) DO UPDATE SET backend = ?2, address = ?3, serial = ?4,"
        "   dpi = ?5, stock = ?6, timeout_ms = ?7, enabled = ?8, updated_at = ?9");
    if (!s) {
        e = DEPOT_E_DB;
        goto fail;
    }
    sqlite3_bind_text(s, 1, p->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, p->backend, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, p->address, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, p->serial, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 5, p->dpi);
    sqlite3_bind_text(s, 6, p->stock, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 7, p->timeout_ms);
    sqlite3_bind_int(s, 8, p->enabled);
    sqlite3_bind_int64(s, 9, store__now());
    if ((e = store__step_done(st, s)) != DEPOT_OK)
        goto fail;
    char entity[80];
    snprintf(entity, sizeof entity, "printer:%s", p->name);
    e = store__audit_json(st, actor, exists ? "printer.update" : "printer.add", entity,
                          row_json(p));
    if (e != DEPOT_OK)
        goto fail;
    if ((e = store__commit(st)) != DEPOT_OK)
        return e;
    if (created)
        *created = !exists;
    return DEPOT_OK;
fail:
    store__rollback(st);
    return e;
}

#define ROW_COLUMNS "name, backend, address, serial, dpi, stock, timeout_ms, enabled"

static void read_row(sqlite3_stmt *s, struct depot_printer_row *p)
{
    *p = (struct depot_printer_row){0};
    snprintf(p->name, sizeof p->name, "%s", (const char *)sqlite3_column_text(s, 0));
    snprintf(p->backend, sizeof p->backend, "%s", (const char *)sqlite3_column_text(s, 1));
    snprintf(p->address, sizeof p->address, "%s", (const char *)sqlite3_column_text(s, 2));
    snprintf(p->serial, sizeof p->serial, "%s", (const char *)sqlite3_column_text(s, 3));
    p->dpi = sqlite3_column_int(s, 4);
    snprintf(p->stock, sizeof p->stock, "%s", (const char *)sqlite3_column_text(s, 5));
    p->timeout_ms = sqlite3_column_int(s, 6);
    p->enabled = sqlite3_column_int(s, 7);
}

depot_err depot_printer_get(depot_store *st, const char *name, struct depot_printer_row *out)
{
    store__clear_error(st);
    if (!name || !depot_printer_name_valid(name))
        return store__fail(st, DEPOT_E_INVALID,
                           "printer name must be 1..%d of A-Z a-z 0-9 . _ -",
                           DEPOT_PRINTER_NAME_MAX);
    sqlite3_stmt *s = store__stmt(st, "SELECT " ROW_COLUMNS " FROM printers WHERE name = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    depot_err e = DEPOT_OK;
    if (rc == SQLITE_ROW)
        read_row(s, out);
    else if (rc == SQLITE_DONE)
        e = store__fail(st, DEPOT_E_NOT_FOUND, "no printer named %s", name);
    else
        e = store__dberr(st, "read printer");
    sqlite3_reset(s);
    return e;
}

depot_err depot_printer_list(depot_store *st, struct depot_printer_row *rows, int max,
                             int *n)
{
    store__clear_error(st);
    *n = 0;
    sqlite3_stmt *s = store__stmt(st, "SELECT " ROW_COLUMNS " FROM printers ORDER BY name");
    if (!s)
        return DEPOT_E_DB;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max)
        read_row(s, &rows[(*n)++]);
    depot_err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? DEPOT_OK
                                                        : store__dberr(st, "list printers");
    sqlite3_reset(s);
    return e;
}

depot_err depot_printer_list_json(depot_store *st, cJSON **out)
{
    store__clear_error(st);
    *out = NULL;
    sqlite3_stmt *s = store__stmt(st,
        "SELECT " ROW_COLUMNS ", (SELECT count(*) FROM print_jobs j WHERE j.printer = p.name"
        "                        AND j.status IN ('queued', 'sending'))"
        "  FROM printers p ORDER BY name");
    if (!s)
        return DEPOT_E_DB;
    cJSON *arr = cJSON_CreateArray();
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct depot_printer_row p;
        read_row(s, &p);
        cJSON *o = row_json(&p);
        cJSON_AddNumberToObject(o, "queued", sqlite3_column_int(s, 8));
        cJSON_AddItemToArray(arr, o);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(arr);
        return store__dberr(st, "list printers");
    }
    *out = arr;
    return DEPOT_OK;
}

depot_err depot_print_recover_interrupted(depot_store *st, int *n)
{
    store__clear_error(st);
    if (n)
        *n = 0;
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    int count = 0;
    for (;;) {
        sqlite3_stmt *q = store__stmt(st,
            "SELECT id FROM print_jobs WHERE status = 'sending' ORDER BY id LIMIT 1");
        if (!q) {
            e = DEPOT_E_DB;
            goto fail;
        }
        int rc = sqlite3_step(q);
        int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
        sqlite3_reset(q);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            e = store__dberr(st, "find interrupted print jobs");
            goto fail;
        }
        sqlite3_stmt *u = store__stmt(st,
            "UPDATE print_jobs SET status = 'failed', last_error = ?2, updated_at = ?3"
            " WHERE id = ?1");
        if (!u) {
            e = DEPOT_E_DB;
            goto fail;
        }
        sqlite3_bind_int64(u, 1, id);
        sqlite3_bind_text(u, 2, DEPOT_PRINT_INTERRUPTED_ERROR, -1, SQLITE_STATIC);
        sqlite3_bind_int64(u, 3, store__now());
        if ((e = store__step_done(st, u)) != DEPOT_OK)
            goto fail;
        char entity[40];
        snprintf(entity, sizeof entity, "print_job:%lld", (long long)id);
        if ((e = store__audit(st, "system:print-worker", "print.interrupted", entity, "{}")) !=
            DEPOT_OK)
            goto fail;
        count++;
    }
    if ((e = store__commit(st)) != DEPOT_OK)
        return e;
    if (n)
        *n = count;
    return DEPOT_OK;
fail:
    store__rollback(st);
    return e;
}
