/* The durable webhook inbox: validated, group-committed puts with de-duplication (and
 * the signal that deliveries are arriving, for the worker), the processing queue (next,
 * ignore, fail with retry or dead letter), replay of dead letters, and the CLI's
 * list/show views. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mbedtls/sha256.h>
#include "inbound_int.h"
#include "monotonic.h"

#define TOPIC_MAX 64
#define ERROR_MAX 500

/* Monotonic microseconds of the last committed put (depot_inbox_receiving). */
static _Atomic int64_t last_put_us;

int depot_inbox_receiving(int within_ms)
{
    int64_t last = atomic_load_explicit(&last_put_us, memory_order_relaxed);
    return last && depot_monotonic_us() - last < (int64_t)within_ms * 1000;
}

void depot_inbox_body_sha256(const void *body, size_t len, char hex[65])
{
    unsigned char hash[32];
    mbedtls_sha256_ret(len ? body : (const void *)"", len, hash, 0);
    store__hex(hash, sizeof hash, hex);
}

static int valid_id_text(const char *s)
{
    return s && store__valid_code(s, DEPOT_INBOX_ID_MAX);
}

/* What is wrong with d (a static string), or NULL if it can be stored. */
static const char *delivery_problem(const struct depot_inbox_delivery *d)
{
    if (!valid_id_text(d->source) || !valid_id_text(d->delivery_id))
        return "source and delivery id must be 1..300 printable ASCII characters without "
               "',' or '\"'";
    if (!d->topic || !store__valid_code(d->topic, TOPIC_MAX))
        return "topic must be 1..64 printable ASCII characters without ',' or '\"'";
    if (d->event_id && !valid_id_text(d->event_id))
        return "event id must be 1..300 printable ASCII characters without ',' or '\"'";
    if (d->channel_id <= 0)
        return "no channel";
    if (d->body_len > DEPOT_INBOX_BODY_MAX || (d->body_len && !d->body))
        return "body too large";
    if (d->body_sha256 && (strlen(d->body_sha256) != 64 ||
                           strspn(d->body_sha256, "0123456789abcdef") != 64))
        return "bad body hash";
    return NULL;
}

int depot_inbox_delivery_valid(const struct depot_inbox_delivery *d, const char **why)
{
    const char *problem = delivery_problem(d);
    if (why)
        *why = problem;
    return problem == NULL;
}

static depot_err validate_delivery(depot_store *st, const struct depot_inbox_delivery *d,
                                   size_t i)
{
    const char *problem = delivery_problem(d);
    return problem ? store__fail(st, DEPOT_E_INVALID, "delivery %zu: %s", i, problem)
                   : DEPOT_OK;
}

static depot_err insert_delivery(depot_store *st, const struct depot_inbox_delivery *d,
                                 int64_t now, int *duplicate)
{
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO inbox (source, delivery_id, channel_id, topic, event_id, triggered_at,"
        " headers, body, body_sha256, status, received_at, stale)"
        " VALUES (?1, ?2, ?3, ?4, ?5, nullif(?6, 0), ?7, ?8, ?9, 'pending', ?10, ?11)"
        " ON CONFLICT DO NOTHING");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, d->source, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, d->delivery_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, d->channel_id);
    sqlite3_bind_text(s, 4, d->topic, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, d->event_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, d->triggered_at);
    sqlite3_bind_text(s, 7, d->headers_json ? d->headers_json : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 8, d->body_len ? d->body : "", (int)d->body_len, SQLITE_STATIC);
    sqlite3_bind_text(s, 9, d->body_sha256, -1, SQLITE_STATIC); /* NULL binds NULL */
    sqlite3_bind_int64(s, 10, now);
    sqlite3_bind_int(s, 11, d->stale ? 1 : 0);
    depot_err e = store__step_done(st, s);
    if (e == DEPOT_OK && duplicate)
        *duplicate = sqlite3_changes(st->db) == 0;
    return e;
}

depot_err depot_inbox_put_batch(depot_store *st, const struct depot_inbox_delivery *d,
                                size_t n, int *duplicate)
{
    store__clear_error(st);
    for (size_t i = 0; i < n; i++) {
        depot_err e = validate_delivery(st, &d[i], i);
        if (e != DEPOT_OK)
            return e;
    }
    if (n == 0)
        return DEPOT_OK;
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    int64_t now = store__now();
    for (size_t i = 0; i < n && e == DEPOT_OK; i++)
        e = insert_delivery(st, &d[i], now, duplicate ? &duplicate[i] : NULL);
    if (e != DEPOT_OK) {
        store__rollback(st);
        return e;
    }
    if ((e = store__commit(st)) == DEPOT_OK)
        atomic_store_explicit(&last_put_us, depot_monotonic_us(), memory_order_relaxed);
    return e;
}

depot_err depot_inbox_put(depot_store *st, const struct depot_inbox_delivery *d,
                          int *duplicate)
{
    return depot_inbox_put_batch(st, d, 1, duplicate);
}

depot_err depot_inbox_prune(depot_store *st, int64_t received_before, int max, int *deleted)
{
    store__clear_error(st);
    *deleted = 0;
    if (max <= 0)
        return DEPOT_OK;
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    /* Oldest first along the primary key; dead and failed deliveries stay for people. */
    sqlite3_stmt *s = store__stmt(st,
        "DELETE FROM inbox WHERE id IN (SELECT id FROM inbox"
        " WHERE (status = 'done' OR status = 'ignored') AND received_at < ?1"
        " ORDER BY id LIMIT ?2)");
    e = s ? DEPOT_OK : DEPOT_E_DB;
    if (s) {
        sqlite3_bind_int64(s, 1, received_before);
        sqlite3_bind_int(s, 2, max);
        e = store__step_done(st, s);
    }
    int n = e == DEPOT_OK ? sqlite3_changes(st->db) : 0;
    if ((e = store__end_tx(st, e)) == DEPOT_OK)
        *deleted = n;
    return e;
}

depot_err depot_inbox_next(depot_store *st, int64_t now, struct depot_inbox_item *out)
{
    store__clear_error(st);
    memset(out, 0, sizeof *out);
    /* Two index probes: the pending queue, then failed deliveries that are due. */
    sqlite3_stmt *s = store__stmt(st,
        "SELECT id, coalesce(channel_id, 0), source, topic, coalesce(triggered_at, 0),"
        "       stale, attempts, body,"
        "       coalesce(json_extract(headers, '$.request_id'), '') FROM inbox"
        " WHERE id = coalesce((SELECT id FROM inbox WHERE status = 'pending' ORDER BY id"
        "                       LIMIT 1),"
        "                     (SELECT id FROM inbox WHERE status = 'failed'"
        "                         AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id"
        "                       LIMIT 1))");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, now);
    int rc = sqlite3_step(s);
    depot_err e = DEPOT_OK;
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(s, 0);
        out->channel_id = sqlite3_column_int64(s, 1);
        snprintf(out->source, sizeof out->source, "%s", sqlite3_column_text(s, 2));
        snprintf(out->topic, sizeof out->topic, "%s", sqlite3_column_text(s, 3));
        out->triggered_at = sqlite3_column_int64(s, 4);
        out->stale = sqlite3_column_int(s, 5);
        out->attempts = sqlite3_column_int(s, 6);
        snprintf(out->request_id, sizeof out->request_id, "%s", sqlite3_column_text(s, 8));
        int len = sqlite3_column_bytes(s, 7);
        const void *body = sqlite3_column_blob(s, 7);
        out->body = malloc((size_t)len + 1);
        if (!out->body) {
            e = store__fail(st, DEPOT_E_NOMEM, "out of memory");
        } else {
            if (len)
                memcpy(out->body, body, (size_t)len);
            out->body[len] = '\0';
            out->body_len = (size_t)len;
        }
    } else if (rc == SQLITE_DONE) {
        e = store__fail(st, DEPOT_E_NOT_FOUND, "no inbox delivery is due");
    } else {
        e = store__dberr(st, "read inbox");
    }
    sqlite3_reset(s);
    return e;
}

void depot_inbox_item_free(struct depot_inbox_item *it)
{
    if (!it)
        return;
    free(it->body);
    it->body = NULL;
}

/* Within a transaction: a delivery's outcome. */
static depot_err set_outcome(depot_store *st, int64_t id, const char *status,
                             const char *note, int64_t next_attempt_at, int count_attempt)
{
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE inbox SET status = ?2, last_error = ?3, next_attempt_at = ?4,"
        " attempts = attempts + ?5, processed_at = ?6 WHERE id = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, note, note ? (int)strnlen(note, ERROR_MAX) : 0, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, next_attempt_at);
    sqlite3_bind_int(s, 5, count_attempt);
    sqlite3_bind_int64(s, 6, store__now());
    depot_err e = store__step_done(st, s);
    if (e == DEPOT_OK && sqlite3_changes(st->db) != 1)
        e = store__fail(st, DEPOT_E_NOT_FOUND, "no inbox delivery %lld", (long long)id);
    return e;
}

depot_err store__inbox_done(depot_store *st, int64_t id, const char *status,
                            const char *note)
{
    if (id <= 0)
        return DEPOT_OK;
    return set_outcome(st, id, status, note, 0, 1);
}

depot_err depot_inbox_ignore(depot_store *st, int64_t id, const char *note)
{
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    if ((e = set_outcome(st, id, "ignored", note, 0, 1)) != DEPOT_OK) {
        store__rollback(st);
        return e;
    }
    return store__commit(st);
}

depot_err depot_inbox_fail(depot_store *st, int64_t id, const char *error, int permanent,
                           int max_attempts, int64_t retry_at, int *dead)
{
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    sqlite3_stmt *s = store__stmt(st, "SELECT attempts FROM inbox WHERE id = ?1");
    if (!s) {
        store__rollback(st);
        return DEPOT_E_DB;
    }
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    int attempts = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
    sqlite3_reset(s);
    if (rc != SQLITE_ROW) {
        store__rollback(st);
        return store__fail(st, DEPOT_E_NOT_FOUND, "no inbox delivery %lld", (long long)id);
    }
    int give_up = permanent || attempts + 1 >= max_attempts;
    e = set_outcome(st, id, give_up ? "dead" : "failed", error && *error ? error : "failed",
                    give_up ? 0 : retry_at, 1);
    if (e != DEPOT_OK) {
        store__rollback(st);
        return e;
    }
    if ((e = store__commit(st)) == DEPOT_OK && dead)
        *dead = give_up;
    return e;
}

static depot_err replay_where(depot_store *st, int64_t id, const char *actor, int *n)
{
    store__clear_error(st);
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    sqlite3_stmt *s = store__stmt(st,
        "UPDATE inbox SET status = 'pending', attempts = 0, next_attempt_at = 0"
        " WHERE status = 'dead' AND (?1 = 0 OR id = ?1)");
    if (!s) {
        store__rollback(st);
        return DEPOT_E_DB;
    }
    sqlite3_bind_int64(s, 1, id);
    if ((e = store__step_done(st, s)) != DEPOT_OK) {
        store__rollback(st);
        return e;
    }
    int changed = sqlite3_changes(st->db);
    if (id && changed == 0) {
        s = store__stmt(st, "SELECT status FROM inbox WHERE id = ?1");
        int rc = SQLITE_DONE;
        if (s) {
            sqlite3_bind_int64(s, 1, id);
            rc = sqlite3_step(s);
        }
        if (rc == SQLITE_ROW)
            e = store__fail(st, DEPOT_E_STATE, "inbox delivery %lld is %s, not dead",
                            (long long)id, sqlite3_column_text(s, 0));
        else
            e = store__fail(st, DEPOT_E_NOT_FOUND, "no inbox delivery %lld", (long long)id);
        if (s)
            sqlite3_reset(s);
        store__rollback(st);
        return e;
    }
    char entity[32], detail[48];
    snprintf(entity, sizeof entity, id ? "inbox:%lld" : "inbox", (long long)id);
    snprintf(detail, sizeof detail, "{\"replayed\":%d}", changed);
    if (changed && (e = store__audit(st, actor, "inbox.replay", entity, detail)) != DEPOT_OK) {
        store__rollback(st);
        return e;
    }
    if ((e = store__commit(st)) == DEPOT_OK && n)
        *n = changed;
    return e;
}

depot_err depot_inbox_replay(depot_store *st, int64_t id, const char *actor)
{
    if (id <= 0)
        return store__fail(st, DEPOT_E_INVALID, "inbox id must be positive");
    return replay_where(st, id, actor, NULL);
}

depot_err depot_inbox_replay_all_dead(depot_store *st, const char *actor, int *n)
{
    return replay_where(st, 0, actor, n);
}

static cJSON *inbox_row(sqlite3_stmt *s)
{
    static const char *const names[] = {"id", "source", "delivery_id", "channel_id",
                                        "topic", "event_id", "status", "attempts",
                                        "last_error", "received_at", "processed_at",
                                        "stale", "next_attempt_at"};
    cJSON *o = cJSON_CreateObject();
    for (int c = 0; c < (int)(sizeof names / sizeof names[0]); c++) {
        switch (sqlite3_column_type(s, c)) {
        case SQLITE_NULL:
            cJSON_AddNullToObject(o, names[c]);
            break;
        case SQLITE_INTEGER:
            if (!strcmp(names[c], "stale"))
                cJSON_AddBoolToObject(o, names[c], sqlite3_column_int(s, c));
            else
                cJSON_AddNumberToObject(o, names[c], (double)sqlite3_column_int64(s, c));
            break;
        default:
            cJSON_AddStringToObject(o, names[c], (const char *)sqlite3_column_text(s, c));
        }
    }
    return o;
}

#define INBOX_COLUMNS                                                                  \
    "SELECT id, source, delivery_id, channel_id, topic, event_id, status, attempts,"   \
    " last_error, received_at, processed_at, stale, next_attempt_at FROM inbox"

depot_err depot_inbox_list_json(depot_store *st, int dead_only, int limit, cJSON **out)
{
    store__clear_error(st);
    *out = NULL;
    if (limit < 1 || limit > 1000)
        return store__fail(st, DEPOT_E_INVALID, "limit must be 1..1000");
    sqlite3_stmt *s = dead_only
        ? store__stmt(st, INBOX_COLUMNS " WHERE status = 'dead' ORDER BY id LIMIT ?1")
        : store__stmt(st, INBOX_COLUMNS " WHERE status = 'pending' OR status = 'failed'"
                          " OR status = 'dead' ORDER BY id LIMIT ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int(s, 1, limit);
    cJSON *arr = cJSON_CreateArray();
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        cJSON_AddItemToArray(arr, inbox_row(s));
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(arr);
        return store__dberr(st, "list inbox");
    }
    *out = arr;
    return DEPOT_OK;
}

depot_err depot_inbox_show_json(depot_store *st, int64_t id, cJSON **out)
{
    store__clear_error(st);
    *out = NULL;
    sqlite3_stmt *s = store__stmt(st,
        "SELECT id, source, delivery_id, channel_id, topic, event_id, status, attempts,"
        " last_error, received_at, processed_at, stale, next_attempt_at, headers, body"
        " FROM inbox WHERE id = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, id);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return store__fail(st, DEPOT_E_NOT_FOUND, "no inbox delivery %lld", (long long)id);
    }
    cJSON *o = inbox_row(s);
    cJSON *h = cJSON_Parse((const char *)sqlite3_column_text(s, 13));
    cJSON_AddItemToObject(o, "headers", h ? h : cJSON_CreateObject());
    int len = sqlite3_column_bytes(s, 14);
    char *body = malloc((size_t)len + 1);
    if (body) {
        if (len)
            memcpy(body, sqlite3_column_blob(s, 14), (size_t)len);
        body[len] = '\0';
        cJSON_AddStringToObject(o, "body", body);
        free(body);
    }
    sqlite3_reset(s);
    *out = o;
    return DEPOT_OK;
}
