/* Gauges for monitoring: outbox and inbox rows waiting or needing attention, active
 * reservations, orders in progress and the database size, as one JSON document (read by
 * /metrics). */
#include "store_int.h"

/* Rationale: a scrape runs on the web thread, so it must cost what the live work costs,
 * not what the history costs. Only statuses an index covers are counted: outbox pending,
 * inflight and dead; inbox pending, failed and dead; orders not yet shipped or cancelled;
 * active reservations. Delivered and finished rows (done, superseded, ignored, shipped,
 * cancelled) only grow and would need a scan of the whole table. Every listed status
 * appears, 0 when unused, so a dashboard's series do not come and go. */
static const char *const outbox_statuses[] = {"pending", "inflight", "dead", NULL};
static const char *const inbox_statuses[] = {"pending", "failed", "dead", NULL};
static const char *const order_statuses[] = {"open", "reserved", "needs_attention", "packed",
                                             NULL};

/* {status: count} from a statement returning (status, count) rows. */
static depot_err count_by_status(depot_store *st, sqlite3_stmt *s,
                                 const char *const *statuses, cJSON *parent,
                                 const char *name)
{
    if (!s)
        return DEPOT_E_DB;
    cJSON *obj = cJSON_AddObjectToObject(parent, name);
    if (!obj)
        return store__fail(st, DEPOT_E_NOMEM, "out of memory");
    for (const char *const *p = statuses; *p; p++)
        cJSON_AddNumberToObject(obj, *p, 0);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        cJSON *item = cJSON_GetObjectItemCaseSensitive(
            obj, (const char *)sqlite3_column_text(s, 0));
        if (item)
            cJSON_SetNumberValue(item, (double)sqlite3_column_int64(s, 1));
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? DEPOT_OK : store__dberr(st, name);
}

static depot_err single_int(depot_store *st, sqlite3_stmt *s, cJSON *parent,
                            const char *name)
{
    if (!s)
        return DEPOT_E_DB;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        cJSON_AddNumberToObject(parent, name, (double)sqlite3_column_int64(s, 0));
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? DEPOT_OK : store__dberr(st, name);
}

/* One read transaction, so the figures are one consistent snapshot. */
depot_err depot_store_stats_json(depot_store *st, cJSON **out)
{
    store__clear_error(st);
    *out = NULL;
    cJSON *doc = cJSON_CreateObject();
    if (!doc)
        return store__fail(st, DEPOT_E_NOMEM, "out of memory");
    if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        cJSON_Delete(doc);
        return store__dberr(st, "begin");
    }
    depot_err e = count_by_status(
        st,
        store__stmt(st, "SELECT status, count(*) FROM outbox"
                        " WHERE status IN ('pending', 'inflight') GROUP BY status"
                        " UNION ALL SELECT 'dead', count(*) FROM outbox WHERE status = 'dead'"),
        outbox_statuses, doc, "outbox");
    if (e == DEPOT_OK)
        e = count_by_status(
            st,
            store__stmt(st, "SELECT 'pending', count(*) FROM inbox WHERE status = 'pending'"
                            " UNION ALL SELECT status, count(*) FROM inbox"
                            " WHERE status = 'failed' OR status = 'dead' GROUP BY status"),
            inbox_statuses, doc, "inbox");
    if (e == DEPOT_OK)
        e = single_int(st, store__stmt(st, "SELECT count(*) FROM reservations"
                                           " WHERE status = 'active'"),
                       doc, "reservations_active");
    if (e == DEPOT_OK)
        e = count_by_status(
            st,
            store__stmt(st, "SELECT status, count(*) FROM orders"
                            " WHERE status IN ('open', 'reserved', 'needs_attention', 'packed')"
                            " GROUP BY status"),
            order_statuses, doc, "orders");
    if (e == DEPOT_OK)
        e = single_int(st, store__stmt(st, "SELECT page_count * page_size"
                                           " FROM pragma_page_count(), pragma_page_size()"),
                       doc, "database_size_bytes");
    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    if (e != DEPOT_OK) {
        cJSON_Delete(doc);
        return e;
    }
    *out = doc;
    return DEPOT_OK;
}
