/* Input validation and view answers shared by the REST API handlers (see api.h). */
#include <string.h>
#include "api.h"

#define JSON_INT_LIMIT 9007199254740992.0 /* 2^53: larger doubles are not exact */

int web_api_only(const cJSON *body, const char *const *allowed, struct web_response *res)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, body) {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], m->string) != 0)
            i++;
        if (!allowed[i]) {
            web_respond_error(res, 400, "invalid_parameter", "unknown field '%.64s'",
                              m->string);
            return -1;
        }
    }
    return 0;
}

/* The member called name into *v, NULL when absent or JSON null. Returns 0, or -1 with
 * the 400 when it is absent but required. */
static int member(const cJSON *body, const char *name, int required,
                  struct web_response *res, const cJSON **v)
{
    *v = cJSON_GetObjectItemCaseSensitive(body, name);
    if (cJSON_IsNull(*v))
        *v = NULL;
    if (!*v && required) {
        web_respond_error(res, 400, "invalid_parameter", "'%s' is required", name);
        return -1;
    }
    return 0;
}

int web_api_string(const cJSON *body, const char *name, int required, size_t maxlen,
                   struct web_response *res, const char **out)
{
    const cJSON *v;
    *out = NULL;
    if (member(body, name, required, res, &v) != 0)
        return -1;
    if (!v)
        return 0;
    if (!cJSON_IsString(v)) {
        web_respond_error(res, 400, "invalid_parameter", "'%s' must be a string", name);
        return -1;
    }
    size_t len = strlen(v->valuestring);
    if (len < 1 || len > maxlen) {
        web_respond_error(res, 400, "invalid_parameter", "'%s' must be 1..%zu characters",
                          name, maxlen);
        return -1;
    }
    *out = v->valuestring;
    return 0;
}

int web_api_int(const cJSON *body, const char *name, int required, int64_t min,
                int64_t max, int64_t def, struct web_response *res, int64_t *out)
{
    const cJSON *v;
    *out = def;
    if (member(body, name, required, res, &v) != 0)
        return -1;
    if (!v)
        return 0;
    double d = cJSON_IsNumber(v) ? v->valuedouble : 0;
    if (!cJSON_IsNumber(v) || d < -JSON_INT_LIMIT || d > JSON_INT_LIMIT ||
        (double)(int64_t)d != d) {
        web_respond_error(res, 400, "invalid_parameter", "'%s' must be an integer", name);
        return -1;
    }
    if ((int64_t)d < min || (int64_t)d > max) {
        web_respond_error(res, 400, "invalid_parameter", "'%s' must be in %lld..%lld", name,
                          (long long)min, (long long)max);
        return -1;
    }
    *out = (int64_t)d;
    return 0;
}

int web_api_query(struct web_request *req, struct web_response *res, const char *name,
                  size_t maxlen, char buf[WEB_API_QUERY_MAX], const char **out)
{
    *out = web_query(req, name, buf, WEB_API_QUERY_MAX);
    if (*out && strlen(*out) > maxlen) {
        web_respond_error(res, 400, "invalid_parameter",
                          "query parameter '%s' must be at most %zu characters", name,
                          maxlen);
        return -1;
    }
    return 0;
}

int web_api_page(struct web_request *req, struct web_response *res, const char *cursor,
                 int64_t *cursor_out, int64_t *limit)
{
    if (cursor && web_query_int(req, res, cursor, 1, INT64_MAX, 0, cursor_out) != 0)
        return -1;
    return web_query_int(req, res, "limit", 1, DEPOT_LIST_LIMIT_MAX,
                         DEPOT_LIST_LIMIT_DEFAULT, limit);
}

void web_api_view(struct web_response *res, depot_store *st, depot_err e, cJSON *doc,
                  const char *field)
{
    if (e == DEPOT_OK)
        web_respond_json(res, 200, doc);
    else if (e == DEPOT_E_INVALID && field)
        web_respond_error(res, 400, "invalid_parameter", "query parameter '%s': %s", field,
                          depot_store_errmsg(st));
    else
        web_respond_store_error(res, st, e);
}
