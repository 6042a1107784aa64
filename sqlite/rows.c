/* Steps the store's files share around a statement's rows: reading one row into a
 * struct, copying a text column into a fixed-size field, finishing a JSON list read by
 * a step loop, auditing with a JSON detail, and ending a write transaction with a
 * commit or a rollback. */
#include <stdio.h>
#include "store_int.h"

void store__copy_text(char *dst, size_t cap, const unsigned char *src)
{
    snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

depot_err store__fetch_row(depot_store *st, sqlite3_stmt *s, store__row_fill fill, void *out,
                           const char *noun, const char *what)
{
    char context[48];
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        fill(s, out);
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return store__fail(st, DEPOT_E_NOT_FOUND, "unknown %s %s", noun, what);
    if (rc == SQLITE_ROW)
        return DEPOT_OK;
    snprintf(context, sizeof context, "read %s", noun);
    return store__dberr(st, context);
}

depot_err store__fetch_id(depot_store *st, sqlite3_stmt *s, int64_t id, store__row_fill fill,
                          void *out, const char *noun)
{
    char what[24];
    sqlite3_bind_int64(s, 1, id);
    snprintf(what, sizeof what, "%lld", (long long)id);
    return store__fetch_row(st, s, fill, out, noun, what);
}

depot_err store__list_end(depot_store *st, sqlite3_stmt *s, int rc, cJSON *doc,
                          const cJSON *items, const char *context, cJSON **out)
{
    sqlite3_reset(s);
    if (!items)
        rc = SQLITE_NOMEM;
    if (rc != SQLITE_DONE) {
        cJSON_Delete(doc);
        return rc == SQLITE_NOMEM ? store__fail(st, DEPOT_E_NOMEM, "out of memory")
                                  : store__dberr(st, context);
    }
    *out = doc;
    return DEPOT_OK;
}

depot_err store__audit_json(depot_store *st, const char *actor, const char *action,
                           const char *entity, cJSON *detail)
{
    char *json = cJSON_PrintUnformatted(detail);
    cJSON_Delete(detail);
    depot_err e = json ? store__audit(st, actor, action, entity, json)
                       : store__fail(st, DEPOT_E_NOMEM, "out of memory");
    cJSON_free(json);
    return e;
}

depot_err store__end_tx(depot_store *st, depot_err e)
{
    if (e == DEPOT_OK)
        e = store__commit(st);
    if (e != DEPOT_OK)
        store__rollback(st);
    return e;
}
