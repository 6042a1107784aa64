/* The print worker (see print_worker.h): a manager thread that follows the printers
 * table, and one thread per enabled printer that sends that printer's queued jobs in
 * order through its backend (drivers/printer.h). Nothing here runs on the event loop. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "monotonic.h"
#include "print_worker.h"
#include "printer.h"
#include "printers.h"
#include "store.h"

/* Rationale: one printer, one job at a time, oldest first (depot_print_next). For a job:
 *   1. connect; ask ~HS (backends with status). No reply or a fault (paper out, head
 *      open, paused, ribbon out, buffer full): nothing is sent, the job stays queued, the
 *      state is published, and the printer is asked again after a backoff.
 *   2. mark the job "sending" (committed) and write the whole payload (and a ~HS).
 *   3. wait until the bytes have left this host (TCP: acknowledged by the printer). If
 *      the write or this wait fails, the job goes back to "queued" and the connection is
 *      closed (which discards any unsent rest), so it is sent again, whole.
 *   4. ask ~HS again. OK: "done". No reply or a fault: the label is at the printer but
 *      not confirmed; the job stays "sending", is never written again, and becomes
 *      "done" when the printer next answers OK (paper loaded, head closed, back online).
 * So a label is written once unless the write itself failed. A job found "sending" that
 * this printer thread did not deliver itself was cut off by a crash or kill -9 (or its
 * printer's configuration changed while it waited for the OK): it may or may not have
 * printed, so it is failed with a message for a person (start-up recovery does this for
 * the whole queue), and a reprint is always an explicit new job. SIGTERM lets a job
 * being written finish. */

#define MANAGER_PERIOD_MS 1000 /* how often the printers table is re-read */
#define POLL_MS 250            /* how often an idle printer's queue is looked at */
#define IDLE_CHECK_MS 5000     /* how often an idle printer's status is refreshed */
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 2000
#define ERRLEN 256

struct printer_thread;

struct depot_print_worker {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* CLOCK_MONOTONIC; broadcast on stop */
    int stopping;
    char db_path[PATH_MAX];
    int busy_timeout_ms;
    depot_print_publish_fn publish;
    void *user;
    pthread_t manager;
    struct printer_thread *threads[DEPOT_PRINTERS_MAX];
    int nthreads;
    struct depot_printer_row rows[DEPOT_PRINTERS_MAX]; /* the manager's last read */
};

struct printer_thread {
    struct depot_print_worker *w;
    struct depot_printer_row row; /* the configuration it was started with */
    pthread_t tid;
    int stop; /* under w->lock */
    /* Owned by the thread itself: */
    depot_store *st;
    struct depot_printer_conf conf;
    const struct printer_ops *ops;
    void *conn;
    int64_t delivered_id; /* the job written and drained, awaiting the printer's OK */
    int backoff_ms;
    int64_t idle_check_at; /* monotonic ms */
};

static int stopping(struct printer_thread *t)
{
    pthread_mutex_lock(&t->w->lock);
    int s = t->stop || t->w->stopping;
    pthread_mutex_unlock(&t->w->lock);
    return s;
}

/* Sleeps ms unless told to stop first; returns 1 if stopping. flag is the caller's own
 * stop flag (NULL: only the worker's). */
static int sleep_ms(struct depot_print_worker *w, const int *flag, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&w->lock);
    int rc = 0;
    while (!w->stopping && !(flag && *flag) && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&w->cond, &w->lock, &until);
    int s = w->stopping || (flag && *flag);
    pthread_mutex_unlock(&w->lock);
    return s;
}

static int routine_state(enum depot_printer_state s)
{
    return s == DEPOT_PRINTER_READY || s == DEPOT_PRINTER_PRINTING ||
           s == DEPOT_PRINTER_UNKNOWN;
}

/* Records the printer's state; on a change logs it (faults as warnings, the way back to
 * ready as info, the ready/printing of every job at debug) and publishes a device
 * event. */
static void set_state(struct printer_thread *t, enum depot_printer_state state,
                      const char *message, int64_t job)
{
    struct depot_printer_live live;
    int had = depot_printer_live_get(t->row.name, &live) == 0;
    enum depot_printer_state before = had ? live.state : DEPOT_PRINTER_UNKNOWN;
    if (depot_printer_live_set(t->row.name, state, message, job) != 1)
        return;
    depot_printer_live_get(t->row.name, &live);
    const char *name = depot_printer_state_name(state);
    enum depot_log_level level = DEPOT_LOG_INFO;
    if (!routine_state(state) && state != DEPOT_PRINTER_STOPPED)
        level = DEPOT_LOG_WARN;
    else if (routine_state(state) && routine_state(before))
        level = DEPOT_LOG_DEBUG;
    depot_log_kv(level, "print", DEPOT_KV({"printer", t->row.name}, {"state", name}),
                 "printer %s: %s%s%s", t->row.name, name, message && *message ? ": " : "",
                 message ? message : "");
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "kind", "printer");
    cJSON_AddStringToObject(d, "name", t->row.name);
    cJSON_AddStringToObject(d, "state", name);
    cJSON_AddStringToObject(d, "message", message ? message : "");
    cJSON_AddNumberToObject(d, "job", (double)job);
    cJSON_AddNumberToObject(d, "printed", (double)live.printed);
    t->w->publish(t->w->user, d);
}

static void drop_conn(struct printer_thread *t)
{
    t->ops->close(t->conn);
    t->conn = NULL;
}

static int ensure_open(struct printer_thread *t, int64_t job)
{
    char err[ERRLEN];
    if (t->conn)
        return 0;
    if (t->ops->open(&t->conf, &t->conn, err, sizeof err) != 0) {
        t->conn = NULL;
        set_state(t, DEPOT_PRINTER_OFFLINE, err, job);
        return -1;
    }
    return 0;
}

/* Asks the printer's status: 1 ready (or no status to ask), 0 not (state published). */
static int printer_ready(struct printer_thread *t, int64_t job)
{
    struct depot_zebra_status s;
    char err[ERRLEN];
    if (!t->ops->query_status)
        return 1;
    int rc = t->ops->query_status(t->conn, t->conf.timeout_ms, &s, err, sizeof err);
    if (rc == DEPOT_PRINTER_LOST) {
        drop_conn(t);
        set_state(t, DEPOT_PRINTER_OFFLINE, err, job);
        return 0;
    }
    if (rc != 0) {
        set_state(t, DEPOT_PRINTER_NO_REPLY, err, job);
        return 0;
    }
    enum depot_printer_state st = depot_printer_state_from_status(&s);
    if (st != DEPOT_PRINTER_READY) {
        set_state(t, st, "", job);
        return 0;
    }
    return 1;
}

/* After a failed store call: logs it and, for a passing failure (a busy or failing
 * database), waits and returns 1 to try again, so a job's state change is not lost; 0
 * when the worker is stopping or trying again cannot help (the job changed meanwhile). */
static int retry_store(struct printer_thread *t, depot_err e, const char *what)
{
    int passing = e == DEPOT_E_BUSY || e == DEPOT_E_DB || e == DEPOT_E_IO ||
                  e == DEPOT_E_NOMEM;
    depot_log_kv(DEPOT_LOG_ERROR, "print", DEPOT_KV({"printer", t->row.name}),
                 "printer %s: %s failed%s: %s", t->row.name, what,
                 passing ? ", will retry" : "", depot_store_errmsg(t->st));
    return passing && !sleep_ms(t->w, &t->stop, BACKOFF_MAX_MS);
}

static void job_done(struct printer_thread *t, int64_t id)
{
    depot_err e;
    while ((e = depot_print_mark_done(t->st, id)) != DEPOT_OK)
        if (!retry_store(t, e, "marking a job done"))
            return; /* left "sending": start-up recovery shows it to a person */
    t->delivered_id = 0;
    depot_printer_live_printed(t->row.name);
    set_state(t, DEPOT_PRINTER_READY, "", 0);
    char id_text[24];
    snprintf(id_text, sizeof id_text, "%lld", (long long)id);
    depot_log_kv(DEPOT_LOG_INFO, "print", DEPOT_KV({"printer", t->row.name}, {"job", id_text}),
                 "printer %s: job %lld printed", t->row.name, (long long)id);
}

/* The write or the delivery failed: back to the queue, sent again whole later. */
static void job_requeue(struct printer_thread *t, int64_t id, const char *why)
{
    char error[201]; /* the queue keeps at most 200 characters of it */
    depot_err e;
    snprintf(error, sizeof error, "%.200s", why);
    drop_conn(t);
    set_state(t, DEPOT_PRINTER_OFFLINE, error, id);
    while ((e = depot_print_mark_failed(t->st, id, error, 0)) != DEPOT_OK)
        if (!retry_store(t, e, "re-queueing a job"))
            return;
}

/* Sends job (steps 2-4 of the rationale). Returns 1 when it is done, 0 to retry later. */
static int send_job(struct printer_thread *t, const struct depot_print_job *job)
{
    char err[ERRLEN];
    depot_err e = depot_print_mark_sending(t->st, job->id);
    if (e == DEPOT_E_STATE)
        return 1; /* cancelled since it was read */
    if (e != DEPOT_OK) {
        retry_store(t, e, "marking a job sending");
        return 0;
    }
    set_state(t, DEPOT_PRINTER_PRINTING, "", job->id);
    /* A ~HS right behind the label makes the printer answer at once, and the answer
     * carries the TCP acknowledgement the drain waits for (no delayed-ACK wait). The
     * status query below discards that answer and asks again. */
    if (t->ops->write_all(t->conn, job->payload, job->len, t->conf.timeout_ms, err,
                          sizeof err) != 0 ||
        (t->ops->query_status &&
         t->ops->write_all(t->conn, "~HS", 3, t->conf.timeout_ms, err, sizeof err) != 0) ||
        (t->ops->drain && t->ops->drain(t->conn, t->conf.timeout_ms, err, sizeof err) != 0)) {
        job_requeue(t, job->id, err);
        return 0;
    }
    t->delivered_id = job->id;
    if (!printer_ready(t, job->id))
        return 0; /* delivered, not confirmed: held in "sending" */
    job_done(t, job->id);
    return 1;
}

/* One job of the queue (step 1, or the confirmation of a delivered one). Returns 1 if
 * it was finished, 0 to back off. */
static int process(struct printer_thread *t, const struct depot_print_job *job)
{
    int sending = strcmp(job->status, "sending") == 0;
    if (sending && job->id != t->delivered_id) {
        /* Not delivered by this thread: its outcome is unknown, a person decides. */
        depot_err e;
        while ((e = depot_print_mark_failed(t->st, job->id, DEPOT_PRINT_INTERRUPTED_ERROR,
                                            1)) != DEPOT_OK)
            if (!retry_store(t, e, "failing an interrupted job"))
                return 0;
        return 1;
    }
    if (ensure_open(t, job->id) != 0 || !printer_ready(t, job->id))
        return 0;
    if (sending) {
        job_done(t, job->id);
        return 1;
    }
    return send_job(t, job);
}

/* No job: refresh the printer's state now and then, so a fault shows while idle. */
static void idle(struct printer_thread *t)
{
    if (depot_monotonic_ms() < t->idle_check_at)
        return;
    t->idle_check_at = depot_monotonic_ms() + IDLE_CHECK_MS;
    if (ensure_open(t, 0) == 0 && printer_ready(t, 0))
        set_state(t, DEPOT_PRINTER_READY, "", 0);
}

static int configure(struct printer_thread *t, char *err, size_t errlen)
{
    struct depot_printer_conf *c = &t->conf;
    *c = (struct depot_printer_conf){.timeout_ms = t->row.timeout_ms};
    snprintf(c->name, sizeof c->name, "%s", t->row.name);
    snprintf(c->address, sizeof c->address, "%s", t->row.address);
    depot_serial_config_default(&c->serial);
    if (depot_printer_backend_parse(t->row.backend, &c->backend) != 0 ||
        depot_printer_address_validate(c->backend, c->address, err, errlen) != 0 ||
        depot_serial_config_parse(t->row.serial, &c->serial, err, errlen) != 0)
        return -1;
    t->ops = depot_printer_ops_for(c->backend);
    return 0;
}

static void *printer_main(void *arg)
{
    struct printer_thread *t = arg;
    char err[ERRLEN];
    struct depot_store_options opt = {.busy_timeout_ms = t->w->busy_timeout_ms};
    if (configure(t, err, sizeof err) != 0) {
        set_state(t, DEPOT_PRINTER_OFFLINE, err, 0); /* until the configuration changes */
        return NULL;
    }
    while (depot_store_open(t->w->db_path, &opt, &t->st, err, sizeof err) != DEPOT_OK) {
        set_state(t, DEPOT_PRINTER_OFFLINE, err, 0);
        if (sleep_ms(t->w, &t->stop, BACKOFF_MAX_MS))
            return NULL;
    }
    t->backoff_ms = BACKOFF_MIN_MS;
    while (!stopping(t)) {
        struct depot_print_job job;
        depot_err e = depot_print_next(t->st, t->row.name, &job);
        int wait;
        if (e == DEPOT_E_NOT_FOUND) {
            idle(t);
            wait = POLL_MS;
        } else if (e != DEPOT_OK) {
            if (!retry_store(t, e, "reading the queue"))
                sleep_ms(t->w, &t->stop, BACKOFF_MAX_MS); /* never a busy loop */
            continue;
        } else {
            int finished = process(t, &job);
            depot_print_job_free(&job);
            if (finished) {
                t->backoff_ms = BACKOFF_MIN_MS;
                continue;
            }
            wait = t->backoff_ms;
            t->backoff_ms = t->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                                                                : t->backoff_ms * 2;
        }
        sleep_ms(t->w, &t->stop, wait);
    }
    if (t->conn)
        drop_conn(t);
    set_state(t, DEPOT_PRINTER_STOPPED, "", 0);
    depot_store_close(t->st);
    return NULL;
}

/* ---- The manager ------------------------------------------------------------------ */

static void stop_thread(struct depot_print_worker *w, int i)
{
    struct printer_thread *t = w->threads[i];
    pthread_mutex_lock(&w->lock);
    t->stop = 1;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(t->tid, NULL);
    free(t);
    w->threads[i] = w->threads[--w->nthreads];
}

static void start_thread(struct depot_print_worker *w, const struct depot_printer_row *row)
{
    struct printer_thread *t = calloc(1, sizeof *t);
    if (!t || w->nthreads == DEPOT_PRINTERS_MAX) {
        free(t);
        return;
    }
    t->w = w;
    t->row = *row;
    depot_printer_live_set(row->name, DEPOT_PRINTER_UNKNOWN, "", 0);
    if (pthread_create(&t->tid, NULL, printer_main, t) != 0) {
        depot_log(DEPOT_LOG_ERROR, "print", "cannot start a thread for printer %s",
                  row->name);
        free(t);
        return;
    }
    w->threads[w->nthreads++] = t;
}

static const struct depot_printer_row *find_row(const struct depot_printer_row *rows, int n,
                                                const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(rows[i].name, name) == 0)
            return &rows[i];
    return NULL;
}

/* Makes the running threads match the printers table: one per enabled printer, with its
 * current configuration. */
static void follow(struct depot_print_worker *w, const struct depot_printer_row *rows, int n)
{
    for (int i = w->nthreads - 1; i >= 0; i--) {
        char name[sizeof w->threads[i]->row.name];
        snprintf(name, sizeof name, "%s", w->threads[i]->row.name);
        const struct depot_printer_row *r = find_row(rows, n, name);
        if (!r || !r->enabled || memcmp(r, &w->threads[i]->row, sizeof *r) != 0)
            stop_thread(w, i);
        if (!r)
            depot_printer_live_forget(name); /* removed: its entry is free for another */
    }
    for (int i = 0; i < n; i++) {
        int running = 0;
        for (int k = 0; k < w->nthreads; k++)
            running |= strcmp(w->threads[k]->row.name, rows[i].name) == 0;
        if (!rows[i].enabled)
            depot_printer_live_set(rows[i].name, DEPOT_PRINTER_STOPPED, "disabled", 0);
        else if (!running)
            start_thread(w, &rows[i]);
    }
}

static void *manager_main(void *arg)
{
    struct depot_print_worker *w = arg;
    struct depot_store_options opt = {.busy_timeout_ms = w->busy_timeout_ms};
    depot_store *st = NULL;
    char err[ERRLEN];
    if (depot_store_open(w->db_path, &opt, &st, err, sizeof err) != DEPOT_OK) {
        depot_log(DEPOT_LOG_ERROR, "print", "print worker cannot open the store: %s", err);
        return NULL;
    }
    do {
        int n = 0;
        if (depot_printer_list(st, w->rows, DEPOT_PRINTERS_MAX, &n) == DEPOT_OK)
            follow(w, w->rows, n);
        else
            depot_log(DEPOT_LOG_WARN, "print", "cannot read the printers, will retry: %s",
                      depot_store_errmsg(st));
    } while (!sleep_ms(w, NULL, MANAGER_PERIOD_MS));
    while (w->nthreads > 0)
        stop_thread(w, w->nthreads - 1);
    depot_store_close(st);
    return NULL;
}

/* Fails the jobs a previous run left "sending" (see printers.h). */
static int recover(const char *db_path, int busy_timeout_ms, char *err, size_t errlen)
{
    struct depot_store_options opt = {.busy_timeout_ms = busy_timeout_ms};
    depot_store *st = NULL;
    int n = 0;
    if (depot_store_open(db_path, &opt, &st, err, errlen) != DEPOT_OK)
        return -1;
    depot_err e = depot_print_recover_interrupted(st, &n);
    if (e != DEPOT_OK)
        snprintf(err, errlen, "recovering print jobs: %s", depot_store_errmsg(st));
    depot_store_close(st);
    if (e != DEPOT_OK)
        return -1;
    if (n > 0)
        depot_log(DEPOT_LOG_WARN, "print",
                  "%d print job(s) were interrupted while sending by the last stop; marked "
                  "failed: check their labels and reprint them if needed", n);
    return 0;
}

struct depot_print_worker *depot_print_worker_start(const char *db_path, int busy_timeout_ms,
                                                    depot_print_publish_fn publish,
                                                    void *user, char *err, size_t errlen)
{
    pthread_condattr_t ca;
    if (recover(db_path, busy_timeout_ms, err, errlen) != 0)
        return NULL;
    struct depot_print_worker *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(w->db_path, sizeof w->db_path, "%s", db_path);
    w->busy_timeout_ms = busy_timeout_ms;
    w->publish = publish;
    w->user = user;
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&w->manager, NULL, manager_main, w) != 0) {
        snprintf(err, errlen, "cannot start the print worker thread");
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    return w;
}

void depot_print_worker_stop(struct depot_print_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->manager, NULL);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
    depot_printer_live_reset();
}
