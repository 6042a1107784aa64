/* The outbox, delivery side: recovering in-flight rows after a crash, coalescing stock
 * pushes, finding and claiming due rows in order, and recording outcomes in one
 * transaction per batch (see outbox_claim.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "outbox_claim.h"
#include "store_int.h"

/* Rationale: status IN ('pending', 'inflight') is written exactly as in the partial
 * indexes (outbox_due, outbox_live_aggregate) so SQLite can use them; the delivered
 * history never has to be read. */

void depot_outbox_item_clear(struct depot_outbox_item *it)
{
    free(it->payload);
    it->payload = NULL;
}

/* Runs one UPDATE bound with now as ?1 in its own transaction; *n gets the row count. */
static depot_err update_all(depot_store *st, const char *sql, int *n)
{
    store__clear_error(st);
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    sqlite3_stmt *s = store__stmt(st, sql);
    if (!s) {
        store__rollback(st);
        return DEPOT_E_DB;
    }
    sqlite3_bind_int64(s, 1, store__now());
    if ((e = store__step_done(st, s)) != DEPOT_OK) {
        store__rollback(st);
        return e;
    }
    int changed = sqlite3_changes(st->db);
    if ((e = store__commit(st)) != DEPOT_OK)
        return e;
    if (n)
        *n = changed;
    return DEPOT_OK;
}

depot_err depot_outbox_recover(depot_store *st, int *n)
{
    /* The IN clause repeats the partial indexes' condition so that SQLite may use one. */
    return update_all(st,
        "UPDATE outbox SET status = 'pending', next_attempt_at = ?1, updated_at = ?1"
        " WHERE status IN ('pending', 'inflight') AND status = 'inflight'"
        "   AND target = 'channel'", n);
}

/* Rationale: only a row written since the last pass can make an older one obsolete, so
 * the pass starts from the new rows (ids above since, usually none) and looks back
 * through their aggregates, instead of testing the whole backlog every time. */
depot_err depot_outbox_coalesce(depot_store *st, int64_t *since, int *n)
{
    store__clear_error(st);
    if (n)
        *n = 0;
    sqlite3_stmt *s = store__stmt(st, "SELECT coalesce(max(id), 0) FROM outbox");
    if (!s)
        return DEPOT_E_DB;
    int64_t newest = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_reset(s);
    if (newest < 0)
        return store__dberr(st, "read the newest outbox id");
    if (newest <= *since)
        return DEPOT_OK;
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    s = store__stmt(st,
        "UPDATE outbox SET status = 'superseded', updated_at = ?2"
        " WHERE id IN (SELECT o.id FROM outbox n JOIN outbox o"
        "                ON o.target_id = n.target_id AND o.aggregate = n.aggregate"
        "               AND o.target = n.target"
        "               AND o.status IN ('pending', 'inflight') AND o.id < n.id"
        "             WHERE n.id > ?1 AND n.status = 'pending' AND n.target = 'channel'"
        "               AND n.topic = 'inventory.set')"
        "   AND status = 'pending' AND topic = 'inventory.set'");
    if (!s) {
        store__rollback(st);
        return DEPOT_E_DB;
    }
    sqlite3_bind_int64(s, 1, *since);
    sqlite3_bind_int64(s, 2, store__now());
    if ((e = store__step_done(st, s)) != DEPOT_OK) {
        store__rollback(st);
        return e;
    }
    int changed = sqlite3_changes(st->db);
    if ((e = store__commit(st)) != DEPOT_OK)
        return e;
    *since = newest;
    if (n)
        *n = changed;
    return DEPOT_OK;
}

static void copy_col(char *dst, size_t cap, sqlite3_stmt *s, int col)
{
    const unsigned char *v = sqlite3_column_text(s, col);
    snprintf(dst, cap, "%s", v ? (const char *)v : "");
}

depot_err depot_outbox_due(depot_store *st, int64_t channel_id, int64_t now, int max,
                           struct depot_outbox_item *items, int *n)
{
    store__clear_error(st);
    *n = 0;
    if (max <= 0)
        return DEPOT_OK;
    sqlite3_stmt *s = store__stmt(st,
        "SELECT o.id, o.target_id, o.attempts, o.topic, o.aggregate, o.idempotency_key,"
        "       o.payload"
        "  FROM outbox o"
        " WHERE o.target_id = ?3 AND o.status IN ('pending', 'inflight')"
        "   AND o.status = 'pending' AND o.next_attempt_at <= ?1 AND o.target = 'channel'"
        "   AND NOT EXISTS (SELECT 1 FROM outbox p"
        "                    WHERE p.target_id = o.target_id AND p.aggregate = o.aggregate"
        "                      AND p.target = o.target"
        "                      AND p.status IN ('pending', 'inflight') AND p.id < o.id)"
        " ORDER BY o.id LIMIT ?2");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int(s, 2, max);
    sqlite3_bind_int64(s, 3, channel_id);
    int rc, k = 0;
    depot_err e = DEPOT_OK;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && k < max) {
        struct depot_outbox_item *it = &items[k];
        memset(it, 0, sizeof *it);
        it->id = sqlite3_column_int64(s, 0);
        it->channel_id = sqlite3_column_int64(s, 1);
        it->attempts = sqlite3_column_int(s, 2);
        copy_col(it->topic, sizeof it->topic, s, 3);
        copy_col(it->aggregate, sizeof it->aggregate, s, 4);
        copy_col(it->key, sizeof it->key, s, 5);
        const unsigned char *p = sqlite3_column_text(s, 6);
        if (!(it->payload = strdup(p ? (const char *)p : "{}"))) {
            e = store__fail(st, DEPOT_E_NOMEM, "out of memory");
            break;
        }
        k++;
    }
    sqlite3_reset(s);
    if (e == DEPOT_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        e = store__dberr(st, "read due outbox rows");
    if (e != DEPOT_OK) {
        for (int i = 0; i < k; i++)
            depot_outbox_item_clear(&items[i]);
        return e;
    }
    *n = k;
    return DEPOT_OK;
}

depot_err depot_outbox_claim(depot_store *st, const int64_t *ids, int n)
{
    store__clear_error(st);
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE outbox SET status = 'inflight', updated_at = ?2"
        " WHERE id = ?1 AND status = 'pending'");
    if (!s) {
        store__rollback(st);
        return DEPOT_E_DB;
    }
    int64_t now = store__now();
    for (int i = 0; i < n; i++) {
        sqlite3_bind_int64(s, 1, ids[i]);
        sqlite3_bind_int64(s, 2, now);
        if ((e = store__step_done(st, s)) != DEPOT_OK) {
            store__rollback(st);
            return e;
        }
    }
    return store__commit(st);
}

/* Within a transaction: remembers the level the channel was told for the row's aggregate. */
static depot_err record_level(depot_store *st, int64_t outbox_id, int64_t level, int64_t now)
{
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO channel_pushed_levels (channel_id, aggregate, quantity, outbox_id,"
        "                                   pushed_at)"
        " SELECT target_id, aggregate, ?2, id, ?3 FROM outbox WHERE id = ?1"
        " ON CONFLICT (channel_id, aggregate) DO UPDATE SET quantity = excluded.quantity,"
        "   outbox_id = excluded.outbox_id, pushed_at = excluded.pushed_at");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, outbox_id);
    sqlite3_bind_int64(s, 2, level);
    sqlite3_bind_int64(s, 3, now);
    return store__step_done(st, s);
}

static depot_err finish_one(depot_store *st, const struct depot_outbox_outcome *o,
                            int64_t now, const char *actor)
{
    static const char *const status[] = {"done", "pending", "pending", "dead"};
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE outbox SET status = ?2, attempts = attempts + ?3, next_attempt_at = ?4,"
        "       last_error = ?5, updated_at = ?6,"
        "       delivered_at = CASE WHEN ?2 = 'done' THEN ?6 ELSE delivered_at END"
        " WHERE id = ?1 AND status = 'inflight'");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, o->id);
    sqlite3_bind_text(s, 2, status[o->result], -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, o->result == DEPOT_OUTBOX_RETRY || o->result == DEPOT_OUTBOX_DEAD);
    sqlite3_bind_int64(s, 4, o->result == DEPOT_OUTBOX_RETRY || o->result == DEPOT_OUTBOX_DEFER
                                 ? o->next_attempt_at : now);
    if (o->result == DEPOT_OUTBOX_DONE || !o->error[0])
        sqlite3_bind_null(s, 5);
    else
        sqlite3_bind_text(s, 5, o->error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, now);
    depot_err e = store__step_done(st, s);
    if (e != DEPOT_OK || sqlite3_changes(st->db) == 0)
        return e;
    if (o->result == DEPOT_OUTBOX_DONE && o->has_level)
        return record_level(st, o->id, o->level, now);
    if (o->result == DEPOT_OUTBOX_DEAD) {
        char entity[48];
        snprintf(entity, sizeof entity, "outbox:%lld", (long long)o->id);
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "reason", o->error);
        e = store__audit_json(st, actor, "outbox.dead", entity, d);
    }
    return e;
}

depot_err depot_outbox_finish(depot_store *st, const struct depot_outbox_outcome *o, int n,
                              const char *actor)
{
    store__clear_error(st);
    if (n <= 0)
        return DEPOT_OK;
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    int64_t now = store__now();
    for (int i = 0; i < n; i++) {
        if ((e = finish_one(st, &o[i], now, actor)) != DEPOT_OK) {
            store__rollback(st);
            return e;
        }
    }
    return store__commit(st);
}

depot_err depot_outbox_pushed_level(depot_store *st, int64_t channel_id,
                                    const char *aggregate, int64_t *level)
{
    store__clear_error(st);
    sqlite3_stmt *s = store__stmt(st,
        "SELECT quantity FROM channel_pushed_levels WHERE channel_id = ?1 AND aggregate = ?2");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, channel_id);
    sqlite3_bind_text(s, 2, aggregate, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *level = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (rc == SQLITE_ROW)
        return DEPOT_OK;
    if (rc == SQLITE_DONE)
        return DEPOT_E_NOT_FOUND;
    return store__dberr(st, "read pushed level");
}

depot_err depot_outbox_channels(depot_store *st, int64_t *ids, int max, int *n)
{
    store__clear_error(st);
    *n = 0;
    sqlite3_stmt *s = store__stmt(st, "SELECT id FROM channels WHERE enabled = 1 ORDER BY id");
    if (!s)
        return DEPOT_E_DB;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max)
        ids[(*n)++] = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return store__dberr(st, "list channels");
    return DEPOT_OK;
}

depot_err depot_outbox_channel_sku(depot_store *st, int64_t channel_id, const char *sku,
                                   char product[129], char variant[129],
                                   char inventory_item[129])
{
    store__clear_error(st);
    sqlite3_stmt *s = store__stmt(st,
        "SELECT cs.external_product_id, cs.external_variant_id, cs.external_inventory_id"
        "  FROM channel_skus cs JOIN skus sk ON sk.id = cs.sku_id"
        " WHERE cs.channel_id = ?1 AND sk.code = ?2");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, channel_id);
    sqlite3_bind_text(s, 2, sku, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        copy_col(product, 129, s, 0);
        copy_col(variant, 129, s, 1);
        copy_col(inventory_item, 129, s, 2);
    }
    sqlite3_reset(s);
    if (rc == SQLITE_ROW)
        return DEPOT_OK;
    if (rc == SQLITE_DONE)
        return store__fail(st, DEPOT_E_NOT_FOUND, "SKU %s is not mapped to channel %lld", sku,
                           (long long)channel_id);
    return store__dberr(st, "read channel SKU");
}
