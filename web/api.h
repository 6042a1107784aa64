/* Helpers shared by the REST API handlers (web/api_*.c): typed JSON body members and
 * query arguments, each refused with a 400 invalid_parameter that names the field, and
 * the answer for a store view. */
#ifndef DEPOT_WEB_API_H
#define DEPOT_WEB_API_H

#include <stddef.h>
#include <stdint.h>
#include "web_int.h"

/* Each returns 0, or -1 with res holding the 400. */

/* Refuses a body member whose name is not in allowed (NULL-terminated), so a misspelt
 * field is an error rather than silently ignored. */
int web_api_only(const cJSON *body, const char *const *allowed, struct web_response *res);

/* A string member of 1..maxlen bytes. Absent or null: *out = NULL, an error when
 * required. *out points into body. */
int web_api_string(const cJSON *body, const char *name, int required, size_t maxlen,
                   struct web_response *res, const char **out);

/* An integer member within [min, max] (|min|, |max| <= 2^53). Absent or null: def, an
 * error when required. */
int web_api_int(const cJSON *body, const char *name, int required, int64_t min,
                int64_t max, int64_t def, struct web_response *res, int64_t *out);

/* A query argument of at most maxlen bytes (maxlen < WEB_API_QUERY_MAX) copied into buf
 * (at least WEB_API_QUERY_MAX bytes); *out = NULL when absent, "" when empty. */
#define WEB_API_QUERY_MAX 1024
int web_api_query(struct web_request *req, struct web_response *res, const char *name,
                  size_t maxlen, char buf[WEB_API_QUERY_MAX], const char **out);

/* The page arguments of a list view: the query argument cursor (1..INT64_MAX, 0 when
 * absent), unless cursor is NULL, and limit (1..DEPOT_LIST_LIMIT_MAX, default
 * DEPOT_LIST_LIMIT_DEFAULT). */
int web_api_page(struct web_request *req, struct web_response *res, const char *cursor,
                 int64_t *cursor_out, int64_t *limit);

/* 200 with doc (taking it) when e is DEPOT_OK, else the store's error; an invalid_input
 * from a list view is about its filter, so with field set it becomes a 400
 * invalid_parameter naming that query parameter. */
void web_api_view(struct web_response *res, depot_store *st, depot_err e, cJSON *doc,
                  const char *field);

#endif
