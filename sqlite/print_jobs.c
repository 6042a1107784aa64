/* The print queue, store side: queueing, listing, cancelling and re-printing jobs, and
 * the state changes the print worker makes as it sends them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_int.h"

/* Rationale: a job row is committed before any byte is sent, and moves to "sending"
 * (attempts + 1) before the first write, so after a crash a "sending" job is known to be
 * possibly printed: the worker decides whether to resend it rather than the queue
 * silently printing twice. A failed send goes back to "queued" with its id, so a printer
 * that comes back prints its jobs in the order they were queued. */

static int valid_printer(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= DEPOT_PRINTER_NAME_MAX &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static depot_err bad_printer(depot_store *st)
{
    return store__fail(st, DEPOT_E_INVALID, "printer name must be 1..%d of A-Z a-z 0-9 . _ -",
                       DEPOT_PRINTER_NAME_MAX);
}

/* Audits action on job id with a JSON detail, inside the caller's transaction. */
static depot_err audit_job(depot_store *st, const char *actor, const char *action,
                           int64_t id, const char *detail)
{
    char entity[40];
    snprintf(entity, sizeof entity, "print_job:%lld", (long long)id);
    return store__audit(st, actor, action, entity, detail);
}

depot_err depot_print_enqueue(depot_store *st, const char *printer, const void *payload,
                              size_t len, const char *actor, int64_t *id_out)
{
    char detail[128];
    store__clear_error(st);
    if (!valid_printer(printer))
        return bad_printer(st);
    if (!payload || len == 0 || len > DEPOT_PRINT_PAYLOAD_MAX)
        return store__fail(st, DEPOT_E_INVALID, "print payload must be 1..%d bytes",
                           DEPOT_PRINT_PAYLOAD_MAX);
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO print_jobs (printer, payload, status, created_at, updated_at)"
        " VALUES (?1, ?2, 'queued', ?3, ?3)");
    if (!s) {
        e = DEPOT_E_DB;
        goto fail;
    }
    sqlite3_bind_text(s, 1, printer, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, payload, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, store__now());
    if ((e = store__step_done(st, s)) != DEPOT_OK)
        goto fail;
    int64_t id = sqlite3_last_insert_rowid(st->db);
    snprintf(detail, sizeof detail, "{\"printer\":\"%s\",\"bytes\":%zu}", printer, len);
    if ((e = audit_job(st, actor, "print.enqueue", id, detail)) != DEPOT_OK)
        goto fail;
    if ((e = store__commit(st)) != DEPOT_OK)
        return e;
    if (id_out)
        *id_out = id;
    return DEPOT_OK;
fail:
    store__rollback(st);
    return e;
}

static cJSON *job_row(sqlite3_stmt *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(s, 0));
    cJSON_AddStringToObject(o, "printer", (const char *)sqlite3_column_text(s, 1));
    cJSON_AddStringToObject(o, "status", (const char *)sqlite3_column_text(s, 2));
    cJSON_AddNumberToObject(o, "attempts", sqlite3_column_int(s, 3));
    cJSON_AddNumberToObject(o, "bytes", (double)sqlite3_column_int64(s, 4));
    if (sqlite3_column_type(s, 5) == SQLITE_NULL)
        cJSON_AddNullToObject(o, "last_error");
    else
        cJSON_AddStringToObject(o, "last_error", (const char *)sqlite3_column_text(s, 5));
    cJSON_AddNumberToObject(o, "created_at", (double)sqlite3_column_int64(s, 6));
    cJSON_AddNumberToObject(o, "updated_at", (double)sqlite3_column_int64(s, 7));
    return o;
}

depot_err depot_print_list_json(depot_store *st, const char *printer, int limit,
                                cJSON **out)
{
    store__clear_error(st);
    *out = NULL;
    if (printer && !valid_printer(printer))
        return bad_printer(st);
    if (limit < 1 || limit > 1000)
        return store__fail(st, DEPOT_E_INVALID, "limit must be 1..1000");
    sqlite3_stmt *s = store__stmt(st,
        "SELECT id, printer, status, attempts, length(payload), last_error, created_at,"
        "       updated_at"
        "  FROM print_jobs WHERE ?1 IS NULL OR printer = ?1 ORDER BY id DESC LIMIT ?2");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, printer, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, limit);
    cJSON *arr = cJSON_CreateArray();
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        cJSON *row = job_row(s);
        if (!cJSON_AddItemToArray(arr, row)) {
            cJSON_Delete(row);
            break;
        }
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        cJSON_Delete(arr);
        return rc == SQLITE_ROW ? store__fail(st, DEPOT_E_NOMEM, "out of memory")
                                : store__dberr(st, "list print jobs");
    }
    *out = arr;
    return DEPOT_OK;
}

/* After an UPDATE of job id changed nothing: no such job, or not in a wanted status. */
static depot_err unchanged(depot_store *st, int64_t id, const char *wanted)
{
    sqlite3_stmt *q = store__stmt(st, "SELECT status FROM print_jobs WHERE id = ?1");
    if (!q)
        return DEPOT_E_DB;
    sqlite3_bind_int64(q, 1, id);
    depot_err e = sqlite3_step(q) == SQLITE_ROW
        ? store__fail(st, DEPOT_E_STATE, "print job %lld is %s, not %s", (long long)id,
                      (const char *)sqlite3_column_text(q, 0), wanted)
        : store__fail(st, DEPOT_E_NOT_FOUND, "no print job %lld", (long long)id);
    sqlite3_reset(q);
    return e;
}

/* One state change of job id in its own transaction: sql (a literal) binds ?1 id,
 * ?2 now and, when error is not NULL, ?3 error; wanted names the statuses it accepts.
 * With an actor the change is audited as action. */
static depot_err update_job(depot_store *st, int64_t id, const char *sql, const char *error,
                            const char *wanted, const char *actor, const char *action)
{
    if (id <= 0)
        return store__fail(st, DEPOT_E_INVALID, "print job id must be a positive number");
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    sqlite3_stmt *s = store__stmt(st, sql);
    if (!s) {
        e = DEPOT_E_DB;
        goto fail;
    }
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, store__now());
    if (error)
        sqlite3_bind_text(s, 3, error, -1, SQLITE_STATIC);
    if ((e = store__step_done(st, s)) != DEPOT_OK)
        goto fail;
    if (sqlite3_changes(st->db) == 0) {
        e = unchanged(st, id, wanted);
        goto fail;
    }
    if (actor && (e = audit_job(st, actor, action, id, "{}")) != DEPOT_OK)
        goto fail;
    return store__commit(st);
fail:
    store__rollback(st);
    return e;
}

depot_err depot_print_cancel(depot_store *st, int64_t id, const char *actor)
{
    return update_job(st, id,
                      "UPDATE print_jobs SET status = 'cancelled', updated_at = ?2"
                      " WHERE id = ?1 AND status IN ('queued', 'failed')",
                      NULL, "queued or failed", actor, "print.cancel");
}

depot_err depot_print_reprint(depot_store *st, int64_t id, const char *actor,
                              int64_t *new_id)
{
    char detail[48];
    store__clear_error(st);
    if (id <= 0)
        return store__fail(st, DEPOT_E_INVALID, "print job id must be a positive number");
    depot_err e = store__begin(st);
    if (e != DEPOT_OK)
        return e;
    sqlite3_stmt *s = store__stmt(st,
        "INSERT INTO print_jobs (printer, payload, status, created_at, updated_at)"
        " SELECT printer, payload, 'queued', ?2, ?2 FROM print_jobs WHERE id = ?1");
    if (!s) {
        e = DEPOT_E_DB;
        goto fail;
    }
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, store__now());
    if ((e = store__step_done(st, s)) != DEPOT_OK)
        goto fail;
    if (sqlite3_changes(st->db) == 0) {
        e = store__fail(st, DEPOT_E_NOT_FOUND, "no print job %lld", (long long)id);
        goto fail;
    }
    int64_t nid = sqlite3_last_insert_rowid(st->db);
    snprintf(detail, sizeof detail, "{\"reprint_of\":%lld}", (long long)id);
    if ((e = audit_job(st, actor, "print.reprint", nid, detail)) != DEPOT_OK)
        goto fail;
    if ((e = store__commit(st)) != DEPOT_OK)
        return e;
    if (new_id)
        *new_id = nid;
    return DEPOT_OK;
fail:
    store__rollback(st);
    return e;
}

depot_err depot_print_next(depot_store *st, const char *printer,
                           struct depot_print_job *job)
{
    store__clear_error(st);
    *job = (struct depot_print_job){0};
    if (!valid_printer(printer))
        return bad_printer(st);
    sqlite3_stmt *s = store__stmt(st,
        "SELECT id, status, attempts, payload FROM print_jobs"
        " WHERE printer = ?1 AND status IN ('queued', 'sending') ORDER BY id LIMIT 1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, printer, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    depot_err e = DEPOT_OK;
    if (rc == SQLITE_ROW) {
        size_t len = (size_t)sqlite3_column_bytes(s, 3);
        job->payload = malloc(len ? len : 1);
        if (!job->payload) {
            e = store__fail(st, DEPOT_E_NOMEM, "out of memory");
        } else {
            memcpy(job->payload, sqlite3_column_blob(s, 3), len);
            job->len = len;
            job->id = sqlite3_column_int64(s, 0);
            snprintf(job->status, sizeof job->status, "%s",
                     (const char *)sqlite3_column_text(s, 1));
            job->attempts = sqlite3_column_int(s, 2);
        }
    } else if (rc == SQLITE_DONE) {
        e = store__fail(st, DEPOT_E_NOT_FOUND, "no print job due for %s", printer);
    } else {
        e = store__dberr(st, "next print job");
    }
    sqlite3_reset(s);
    return e;
}

void depot_print_job_free(struct depot_print_job *job)
{
    free(job->payload);
    *job = (struct depot_print_job){0};
}

depot_err depot_print_mark_sending(depot_store *st, int64_t id)
{
    return update_job(st, id,
                      "UPDATE print_jobs SET status = 'sending', attempts = attempts + 1,"
                      " updated_at = ?2 WHERE id = ?1 AND status IN ('queued', 'sending')",
                      NULL, "queued or sending", NULL, NULL);
}

depot_err depot_print_mark_done(depot_store *st, int64_t id)
{
    return update_job(st, id,
                      "UPDATE print_jobs SET status = 'done', updated_at = ?2"
                      " WHERE id = ?1 AND status = 'sending'",
                      NULL, "sending", NULL, NULL);
}

depot_err depot_print_mark_failed(depot_store *st, int64_t id, const char *error,
                                  int give_up)
{
    if (!store__valid_text(error, 200))
        return store__fail(st, DEPOT_E_INVALID, "error must be 1..200 characters");
    if (give_up)
        return update_job(st, id,
                          "UPDATE print_jobs SET status = 'failed', last_error = ?3,"
                          " updated_at = ?2 WHERE id = ?1 AND status = 'sending'",
                          error, "sending", NULL, NULL);
    return update_job(st, id,
                      "UPDATE print_jobs SET status = 'queued', last_error = ?3,"
                      " updated_at = ?2 WHERE id = ?1 AND status = 'sending'",
                      error, "sending", NULL, NULL);
}
