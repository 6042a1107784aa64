/* The print worker: threads, off the event loop, that send each enabled printer's queued
 * jobs in order and keep the printers' live state (drivers/printer.h) up to date. */
#ifndef DEPOT_PRINT_WORKER_H
#define DEPOT_PRINT_WORKER_H

#include <stddef.h>
#include <cjson/cJSON.h>

struct depot_print_worker;

/* Called from a worker thread when a printer's state changes, with the event's data
 * ({"kind":"printer","name","state","message","job","printed"}); takes ownership. Must
 * be thread-safe (depot_web_publish is). */
typedef void (*depot_print_publish_fn)(void *user, cJSON *data);

/* Recovers jobs a previous run left half-sent (see depot_print_recover_interrupted),
 * then starts the worker on the database at db_path; every thread opens its own store
 * connection. Returns NULL with a one-line reason in err. */
struct depot_print_worker *depot_print_worker_start(const char *db_path, int busy_timeout_ms,
                                                    depot_print_publish_fn publish,
                                                    void *user, char *err, size_t errlen);

/* Stops the worker: a job being written is finished (bounded by its printer's timeout),
 * nothing new is started; joins every thread and frees w (NULL is fine). A label that
 * was delivered but still waits for the printer's OK stays "sending", and the next
 * start shows it for a person (depot_print_recover_interrupted). */
void depot_print_worker_stop(struct depot_print_worker *w);

#endif
