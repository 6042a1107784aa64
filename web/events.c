/* The event hub: events published from any thread, handed to the loop thread, and fanned
 * out into every WebSocket client's bounded queue. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "web_int.h"

/* Rationale: a publisher formats the message once, on its own thread, and appends it to
 * a mutex-protected list; the first append after a drain wakes the loop with
 * lws_cancel_service(). The loop thread then moves the list into every client's queue.
 * Messages are shared between queues (reference counts, touched on the loop thread only)
 * and carry LWS_PRE bytes of headroom, so a send is one lws_write without a copy.
 * A queue holds at most QUEUE_MAX_MSGS messages or QUEUE_MAX_BYTES bytes; a client that
 * falls behind that far loses its queue and gets one "resync" message instead, so a slow
 * reader costs a bounded amount of memory and never holds up the loop. The pending list
 * is bounded the same way (if the loop stalls, every client gets a resync). */
#define QUEUE_MAX_MSGS 256
#define QUEUE_MAX_BYTES (1024 * 1024)
#define PENDING_MAX 4096

struct event_msg {
    struct event_msg *next; /* in the pending list */
    unsigned refs;
    size_t len;
    unsigned char buf[];    /* LWS_PRE headroom, len bytes of JSON, NUL */
};

struct web_ws_client {
    struct web_ws_client *prev, *next;
    struct lws *wsi;
    struct event_msg *queue[QUEUE_MAX_MSGS];
    size_t head, count, bytes;
    int broken; /* out of memory while queueing: drop the connection */
};

struct web_events {
    pthread_mutex_t lock;       /* guards the four pending_* fields */
    struct event_msg *pending_head, *pending_tail;
    size_t pending_n;
    size_t pending_lost;        /* events dropped before reaching the loop */
    struct web_ws_client *clients; /* loop thread only from here on */
    size_t n_clients;
    uint64_t dropped;
};

/* {"type":..,"ts":"2024-05-01T12:00:00.000Z","data":..} as a message; takes data. */
static struct event_msg *msg_new(const char *type, cJSON *data)
{
    struct timespec now;
    struct tm tm;
    char ts[32];
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%03ldZ", now.tv_nsec / 1000000);

    struct event_msg *m = NULL;
    cJSON *doc = cJSON_CreateObject();
    if (!doc || !cJSON_AddStringToObject(doc, "type", type) ||
        !cJSON_AddStringToObject(doc, "ts", ts)) {
        cJSON_Delete(data);
        goto out;
    }
    cJSON_AddItemToObject(doc, "data", data ? data : cJSON_CreateObject());
    char *text = cJSON_PrintUnformatted(doc);
    if (!text)
        goto out;
    size_t len = strlen(text);
    if ((m = malloc(sizeof *m + LWS_PRE + len + 1))) {
        m->next = NULL;
        m->refs = 1;
        m->len = len;
        memcpy(m->buf + LWS_PRE, text, len + 1);
    }
    cJSON_free(text);
out:
    cJSON_Delete(doc);
    return m;
}

static void msg_unref(struct event_msg *m)
{
    if (m && --m->refs == 0)
        free(m);
}

static void queue_clear(struct web_ws_client *c)
{
    for (size_t i = 0; i < c->count; i++)
        msg_unref(c->queue[(c->head + i) % QUEUE_MAX_MSGS]);
    c->head = c->count = c->bytes = 0;
}

static void queue_push(struct web_ws_client *c, struct event_msg *m)
{
    m->refs++;
    c->queue[(c->head + c->count) % QUEUE_MAX_MSGS] = m;
    c->count++;
    c->bytes += m->len;
}

/* Queues m for c; a full queue is replaced by one resync message. */
static void queue_put(struct web_events *ev, struct web_ws_client *c, struct event_msg *m)
{
    if (c->count < QUEUE_MAX_MSGS && c->bytes + m->len <= QUEUE_MAX_BYTES) {
        queue_push(c, m);
        return;
    }
    ev->dropped += c->count + 1;
    queue_clear(c);
    cJSON *why = cJSON_CreateObject();
    cJSON_AddStringToObject(why, "reason", "slow client");
    struct event_msg *resync = msg_new("resync", why);
    if (!resync) {
        c->broken = 1;
        return;
    }
    queue_push(c, resync);
    msg_unref(resync);
}

struct web_events *web_events_new(void)
{
    struct web_events *ev = calloc(1, sizeof *ev);
    if (ev && pthread_mutex_init(&ev->lock, NULL) != 0) {
        free(ev);
        return NULL;
    }
    return ev;
}

static void pending_free(struct event_msg *m)
{
    while (m) {
        struct event_msg *next = m->next;
        msg_unref(m);
        m = next;
    }
}

void web_events_free(struct web_events *ev)
{
    if (!ev)
        return;
    while (ev->clients)
        web_events_leave(ev, ev->clients);
    pending_free(ev->pending_head);
    pthread_mutex_destroy(&ev->lock);
    free(ev);
}

void web_events_publish(struct web_server *srv, const char *type, cJSON *data)
{
    struct web_events *ev = srv->events;
    struct event_msg *m = msg_new(type, data);
    pthread_mutex_lock(&ev->lock);
    int wake = ev->pending_n == 0 && ev->pending_lost == 0;
    if (!m || ev->pending_n == PENDING_MAX) {
        ev->pending_lost += 1 + ev->pending_n;
        pending_free(ev->pending_head);
        ev->pending_head = ev->pending_tail = NULL;
        ev->pending_n = 0;
        msg_unref(m);
    } else {
        if (ev->pending_tail)
            ev->pending_tail->next = m;
        else
            ev->pending_head = m;
        ev->pending_tail = m;
        ev->pending_n++;
    }
    pthread_mutex_unlock(&ev->lock);
    if (wake && srv->ctx)
        lws_cancel_service(srv->ctx);
}

void web_events_deliver(struct web_events *ev)
{
    pthread_mutex_lock(&ev->lock);
    struct event_msg *list = ev->pending_head;
    size_t lost = ev->pending_lost;
    ev->pending_head = ev->pending_tail = NULL;
    ev->pending_n = ev->pending_lost = 0;
    pthread_mutex_unlock(&ev->lock);
    if (!list && !lost)
        return;

    struct event_msg *resync = NULL;
    if (lost) {
        cJSON *why = cJSON_CreateObject();
        cJSON_AddStringToObject(why, "reason", "events lost");
        resync = msg_new("resync", why);
        ev->dropped += lost * ev->n_clients;
    }
    for (struct web_ws_client *c = ev->clients; c; c = c->next) {
        if (lost) {
            if (resync)
                queue_put(ev, c, resync);
            else
                c->broken = 1;
        }
        for (struct event_msg *m = list; m; m = m->next)
            queue_put(ev, c, m);
        if (c->wsi)
            lws_callback_on_writable(c->wsi);
    }
    msg_unref(resync);
    pending_free(list);
}

struct web_ws_client *web_events_join(struct web_events *ev, struct lws *wsi)
{
    struct web_ws_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->wsi = wsi;
    c->next = ev->clients;
    if (ev->clients)
        ev->clients->prev = c;
    ev->clients = c;
    ev->n_clients++;
    return c;
}

void web_events_leave(struct web_events *ev, struct web_ws_client *c)
{
    if (!c)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        ev->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    ev->n_clients--;
    queue_clear(c);
    free(c);
}

int web_events_send(struct web_events *ev, struct web_ws_client *c, const char *type,
                    cJSON *data)
{
    struct event_msg *m = msg_new(type, data);
    if (!m)
        return -1;
    queue_put(ev, c, m);
    msg_unref(m);
    return c->broken ? -1 : 0;
}

int web_events_next(struct web_ws_client *c, unsigned char **msg, size_t *len)
{
    if (c->broken)
        return -1;
    if (c->count == 0)
        return 0;
    struct event_msg *m = c->queue[c->head];
    *msg = m->buf + LWS_PRE;
    *len = m->len;
    return 1;
}

int web_events_pop(struct web_ws_client *c)
{
    if (c->count == 0)
        return 0;
    struct event_msg *m = c->queue[c->head];
    c->head = (c->head + 1) % QUEUE_MAX_MSGS;
    c->count--;
    c->bytes -= m->len;
    msg_unref(m);
    return c->count > 0;
}

void web_events_counts(const struct web_events *ev, size_t *clients, uint64_t *dropped)
{
    *clients = ev->n_clients;
    *dropped = ev->dropped;
}
