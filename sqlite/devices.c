/* Stations and serial scanners in the store: validation, audited adds, and the lists the
 * daemon and the API read (see devices.h). */
#include "devices.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_int.h"

void depot_scanner_conf_default(struct depot_scanner_conf *c)
{
    memset(c, 0, sizeof *c);
    c->baud = 9600;
    c->data_bits = 8;
    c->parity = 'N';
    c->stop_bits = 1;
    snprintf(c->flow, sizeof c->flow, "none");
    snprintf(c->suffix, sizeof c->suffix, "cr");
    c->enabled = 1;
}

static int valid_port(const char *p)
{
    size_t n = strnlen(p, DEPOT_DEVICE_PORT_MAX + 1);
    if (n == 0 || n > DEPOT_DEVICE_PORT_MAX || p[0] != '/')
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] >= 0x7f)
            return 0;
    return 1;
}

static int valid_suffix(const char *s)
{
    if (!strcmp(s, "cr") || !strcmp(s, "lf") || !strcmp(s, "crlf"))
        return 1;
    if (strncmp(s, "timeout:", 8) != 0)
        return 0;
    const char *ms = s + 8;
    size_t n = strlen(ms);
    if (n < 1 || n > 5 || ms[0] < '1' || ms[0] > '9' || strspn(ms, "0123456789") != n)
        return 0;
    return atoi(ms) <= 10000;
}

static int valid_prefix(const char *s)
{
    size_t n = strnlen(s, 17);
    if (n > 16)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return 0;
    return 1;
}

/* Every field of c, with the first bad one named in the store's message. */
static depot_err check_scanner(depot_store *st, const struct depot_scanner_conf *c)
{
    if (!store__valid_code(c->name, DEPOT_DEVICE_NAME_MAX))
        return store__fail(st, DEPOT_E_INVALID, "scanner name must be 1..%d printable "
                           "characters", DEPOT_DEVICE_NAME_MAX);
    if (!store__valid_code(c->station, DEPOT_DEVICE_NAME_MAX))
        return store__fail(st, DEPOT_E_INVALID, "station name must be 1..%d printable "
                           "characters", DEPOT_DEVICE_NAME_MAX);
    if (!valid_port(c->port))
        return store__fail(st, DEPOT_E_INVALID, "port must be an absolute path of 1..%d "
                           "printable characters", DEPOT_DEVICE_PORT_MAX);
    if (c->baud < 50 || c->baud > 4000000)
        return store__fail(st, DEPOT_E_INVALID, "baud %d is out of range 50..4000000",
                           c->baud);
    if (c->data_bits < 5 || c->data_bits > 8)
        return store__fail(st, DEPOT_E_INVALID, "data bits must be 5..8");
    if (c->parity != 'N' && c->parity != 'O' && c->parity != 'E')
        return store__fail(st, DEPOT_E_INVALID, "parity must be N, O or E");
    if (c->stop_bits != 1 && c->stop_bits != 2)
        return store__fail(st, DEPOT_E_INVALID, "stop bits must be 1 or 2");
    if (strcmp(c->flow, "none") && strcmp(c->flow, "xonxoff") && strcmp(c->flow, "rtscts"))
        return store__fail(st, DEPOT_E_INVALID, "flow must be none, xonxoff or rtscts");
    if (!valid_suffix(c->suffix))
        return store__fail(st, DEPOT_E_INVALID,
                           "suffix must be cr, lf, crlf or timeout:MS (MS 1..10000)");
    if (!valid_prefix(c->prefix))
        return store__fail(st, DEPOT_E_INVALID,
                           "prefix must be at most 16 printable ASCII characters");
    return DEPOT_OK;
}

depot_err depot_station_add(depot_store *st, const char *name, const char *printer,
                            const char *actor, int64_t *id_out)
{
    store__clear_error(st);
    if (!name || !store__valid_code(name, DEPOT_DEVICE_NAME_MAX))
        return store__fail(st, DEPOT_E_INVALID, "station name must be 1..%d printable "
                           "characters", DEPOT_DEVICE_NAME_MAX);
    if (printer && !store__valid_code(printer, DEPOT_DEVICE_NAME_MAX))
        return store__fail(st, DEPOT_E_INVALID, "printer name must be 1..%d printable "
                           "characters", DEPOT_DEVICE_NAME_MAX);
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    sqlite3_stmt *s = store__stmt(st, "INSERT INTO stations (name, printer, created_at)"
                                      " VALUES (?1, ?2, ?3)");
    if (!s) {
        e = DEPOT_E_DB;
        goto out;
    }
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    if (printer)
        sqlite3_bind_text(s, 2, printer, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, store__now());
    if ((e = store__step_done(st, s)) != DEPOT_OK) {
        if (e == DEPOT_E_CONFLICT)
            store__fail(st, e, "station %s already exists", name);
        goto out;
    }
    int64_t id = sqlite3_last_insert_rowid(st->db);
    char entity[80];
    snprintf(entity, sizeof entity, "station:%s", name);
    cJSON *detail = cJSON_CreateObject();
    cJSON_AddNumberToObject(detail, "id", (double)id);
    if (printer)
        cJSON_AddStringToObject(detail, "printer", printer);
    else
        cJSON_AddNullToObject(detail, "printer");
    e = store__audit_json(st, actor, "station.add", entity, detail);
    if (e == DEPOT_OK && (e = store__commit(st)) == DEPOT_OK && id_out)
        *id_out = id;
out:
    if (e != DEPOT_OK)
        store__rollback(st);
    return e;
}

cJSON *depot_scanner_conf_json(const struct depot_scanner_conf *c)
{
    char serial[64];
    snprintf(serial, sizeof serial, "%d,%d,%c,%d,%s", c->baud, c->data_bits, c->parity,
             c->stop_bits, c->flow);
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "id", (double)c->id);
    cJSON_AddStringToObject(o, "name", c->name);
    cJSON_AddStringToObject(o, "station", c->station);
    cJSON_AddStringToObject(o, "port", c->port);
    cJSON_AddStringToObject(o, "serial", serial);
    cJSON_AddStringToObject(o, "suffix", c->suffix);
    cJSON_AddStringToObject(o, "prefix", c->prefix);
    if (!cJSON_AddBoolToObject(o, "enabled", c->enabled)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

depot_err depot_scanner_add(depot_store *st, const struct depot_scanner_conf *c,
                            const char *actor, int64_t *id_out)
{
    store__clear_error(st);
    depot_err e = check_scanner(st, c);
    if (e != DEPOT_OK)
        return e;
    if ((e = store__begin(st)) != DEPOT_OK)
        return e;
    sqlite3_stmt *s = store__stmt(st, "SELECT id FROM stations WHERE name = ?1");
    if (!s) {
        e = DEPOT_E_DB;
        goto out;
    }
    sqlite3_bind_text(s, 1, c->station, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    int64_t station_id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    if (rc != SQLITE_ROW) {
        e = rc == SQLITE_DONE
                ? store__fail(st, DEPOT_E_NOT_FOUND, "no station %s", c->station)
                : store__dberr(st, "read stations");
        goto out;
    }
    s = store__stmt(st, "INSERT INTO scanners (name, station_id, port, baud, data_bits,"
                        " parity, stop_bits, flow, suffix, prefix, enabled, created_at)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    if (!s) {
        e = DEPOT_E_DB;
        goto out;
    }
    char parity[2] = {c->parity, '\0'};
    sqlite3_bind_text(s, 1, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, station_id);
    sqlite3_bind_text(s, 3, c->port, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, c->baud);
    sqlite3_bind_int(s, 5, c->data_bits);
    sqlite3_bind_text(s, 6, parity, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 7, c->stop_bits);
    sqlite3_bind_text(s, 8, c->flow, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 9, c->suffix, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 10, c->prefix, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 11, c->enabled ? 1 : 0);
    sqlite3_bind_int64(s, 12, store__now());
    if ((e = store__step_done(st, s)) != DEPOT_OK) {
        if (e == DEPOT_E_CONFLICT)
            store__fail(st, e, "scanner %s already exists", c->name);
        goto out;
    }
    struct depot_scanner_conf saved = *c;
    saved.id = sqlite3_last_insert_rowid(st->db);
    char entity[80];
    snprintf(entity, sizeof entity, "scanner:%s", c->name);
    e = store__audit_json(st, actor, "scanner.add", entity, depot_scanner_conf_json(&saved));
    if (e == DEPOT_OK && (e = store__commit(st)) == DEPOT_OK && id_out)
        *id_out = saved.id;
out:
    if (e != DEPOT_OK)
        store__rollback(st);
    return e;
}

static void copy_col(char *dst, size_t len, sqlite3_stmt *s, int col)
{
    const char *v = (const char *)sqlite3_column_text(s, col);
    snprintf(dst, len, "%s", v ? v : "");
}

depot_err depot_scanner_list(depot_store *st, int only_enabled,
                             struct depot_scanner_conf **out, size_t *n)
{
    store__clear_error(st);
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = store__stmt(st,
        "SELECT c.id, c.name, s.name, c.port, c.baud, c.data_bits, c.parity, c.stop_bits,"
        " c.flow, c.suffix, c.prefix, c.enabled FROM scanners c"
        " JOIN stations s ON s.id = c.station_id"
        " WHERE c.enabled = 1 OR ?1 = 0 ORDER BY c.id");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int(s, 1, only_enabled ? 1 : 0);
    struct depot_scanner_conf *list = NULL;
    size_t count = 0, cap = 0;
    int rc;
    depot_err e = DEPOT_OK;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct depot_scanner_conf *nl = realloc(list, ncap * sizeof *nl);
            if (!nl) {
                e = store__fail(st, DEPOT_E_NOMEM, "out of memory");
                break;
            }
            list = nl;
            cap = ncap;
        }
        struct depot_scanner_conf *c = &list[count++];
        memset(c, 0, sizeof *c);
        c->id = sqlite3_column_int64(s, 0);
        copy_col(c->name, sizeof c->name, s, 1);
        copy_col(c->station, sizeof c->station, s, 2);
        copy_col(c->port, sizeof c->port, s, 3);
        c->baud = sqlite3_column_int(s, 4);
        c->data_bits = sqlite3_column_int(s, 5);
        const char *parity = (const char *)sqlite3_column_text(s, 6);
        c->parity = parity ? parity[0] : 'N';
        c->stop_bits = sqlite3_column_int(s, 7);
        copy_col(c->flow, sizeof c->flow, s, 8);
        copy_col(c->suffix, sizeof c->suffix, s, 9);
        copy_col(c->prefix, sizeof c->prefix, s, 10);
        c->enabled = sqlite3_column_int(s, 11);
    }
    if (e == DEPOT_OK && rc != SQLITE_DONE)
        e = store__dberr(st, "read scanners");
    sqlite3_reset(s);
    if (e != DEPOT_OK) {
        free(list);
        return e;
    }
    *out = list;
    *n = count;
    return DEPOT_OK;
}

depot_err depot_station_list_json(depot_store *st, cJSON **out)
{
    store__clear_error(st);
    *out = NULL;
    sqlite3_stmt *s = store__stmt(st,
        "SELECT s.id, s.name, s.printer,"
        " (SELECT json_group_array(name) FROM"
        "   (SELECT name FROM scanners WHERE station_id = s.id ORDER BY name))"
        " FROM stations s ORDER BY s.name");
    if (!s)
        return DEPOT_E_DB;
    cJSON *arr = cJSON_CreateArray();
    int rc;
    depot_err e = arr ? DEPOT_OK : DEPOT_E_NOMEM;
    while (e == DEPOT_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        cJSON *scanners = cJSON_Parse((const char *)sqlite3_column_text(s, 3));
        if (!o || !scanners) {
            cJSON_Delete(o);
            cJSON_Delete(scanners);
            e = DEPOT_E_NOMEM;
            break;
        }
        cJSON_AddItemToArray(arr, o);
        cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(s, 0));
        cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(s, 1));
        if (sqlite3_column_type(s, 2) == SQLITE_NULL)
            cJSON_AddNullToObject(o, "printer");
        else
            cJSON_AddStringToObject(o, "printer", (const char *)sqlite3_column_text(s, 2));
        cJSON_AddItemToObject(o, "scanners", scanners);
    }
    if (e == DEPOT_OK && rc != SQLITE_DONE)
        e = store__dberr(st, "read stations");
    sqlite3_reset(s);
    if (e != DEPOT_OK) {
        cJSON_Delete(arr);
        return e == DEPOT_E_NOMEM ? store__fail(st, e, "out of memory") : e;
    }
    *out = arr;
    return DEPOT_OK;
}

/* Within the transaction: the id of the station or scanner called name (sql, a literal,
 * selects it), or DEPOT_E_NOT_FOUND naming it. */
static depot_err device_id(depot_store *st, const char *sql, const char *what,
                           const char *name, int64_t *id)
{
    sqlite3_stmt *s = store__stmt(st, sql);
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    if (rc == SQLITE_ROW)
        return DEPOT_OK;
    return rc == SQLITE_DONE ? store__fail(st, DEPOT_E_NOT_FOUND, "no %s named %s", what, name)
                             : store__dberr(st, what);
}

depot_err depot_scanner_set_station(depot_store *st, const char *scanner,
                                    const char *station, const char *actor)
{
    store__clear_error(st);
    if (!scanner || !store__valid_code(scanner, DEPOT_DEVICE_NAME_MAX) || !station ||
        !store__valid_code(station, DEPOT_DEVICE_NAME_MAX))
        return store__fail(st, DEPOT_E_INVALID, "scanner and station names are 1..%d "
                           "printable characters", DEPOT_DEVICE_NAME_MAX);
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    int64_t scanner_id, station_id;
    char before[DEPOT_DEVICE_NAME_MAX + 1] = "";
    if ((e = device_id(st, "SELECT id FROM scanners WHERE name = ?1", "scanner", scanner,
                       &scanner_id)) != DEPOT_OK ||
        (e = device_id(st, "SELECT id FROM stations WHERE name = ?1", "station", station,
                       &station_id)) != DEPOT_OK)
        goto out;
    sqlite3_stmt *s = store__stmt(st, "SELECT t.name FROM scanners c"
                                      " JOIN stations t ON t.id = c.station_id WHERE c.id = ?1");
    if (!s) {
        e = DEPOT_E_DB;
        goto out;
    }
    sqlite3_bind_int64(s, 1, scanner_id);
    if (sqlite3_step(s) == SQLITE_ROW)
        snprintf(before, sizeof before, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_reset(s);
    if (strcmp(before, station) == 0)
        goto out; /* already there: nothing to write */
    if (!(s = store__stmt(st, "UPDATE scanners SET station_id = ?2 WHERE id = ?1"))) {
        e = DEPOT_E_DB;
        goto out;
    }
    sqlite3_bind_int64(s, 1, scanner_id);
    sqlite3_bind_int64(s, 2, station_id);
    if ((e = store__step_done(st, s)) != DEPOT_OK)
        goto out;
    char entity[80];
    snprintf(entity, sizeof entity, "scanner:%s", scanner);
    cJSON *detail = cJSON_CreateObject();
    cJSON_AddStringToObject(detail, "from", before);
    cJSON_AddStringToObject(detail, "station", station);
    e = store__audit_json(st, actor, "scanner.pair", entity, detail);
out:
    if (e == DEPOT_OK)
        return store__commit(st);
    store__rollback(st);
    return e;
}
