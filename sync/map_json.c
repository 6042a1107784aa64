/* Typed, bounded access to channel payload fields for the map files: every wrong type
 * or out-of-range value is an error that names the field. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "inbound_map.h"

#define JSON_INT_LIMIT 9007199254740992.0 /* 2^53: larger doubles are not exact */

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int map_parse(const char *body, size_t len, cJSON **doc, char *err, size_t errlen)
{
    const char *end = NULL;
    *doc = body && len ? cJSON_ParseWithLengthOpts(body, len, &end, 0) : NULL;
    if (!*doc)
        return fail(err, errlen, "malformed JSON at byte %zu",
                    end && body ? (size_t)(end - body) : (size_t)0);
    if (!cJSON_IsObject(*doc)) {
        cJSON_Delete(*doc);
        *doc = NULL;
        return fail(err, errlen, "the payload must be a JSON object");
    }
    return 0;
}

static const cJSON *member(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNull(v) ? NULL : v;
}

int map_id(const cJSON *obj, const char *name, int required, char out[MAP_ID_MAX],
           const char *where, char *err, size_t errlen)
{
    const cJSON *v = member(obj, name);
    out[0] = '\0';
    if (!v)
        return required ? fail(err, errlen, "%s.%s is missing", where, name) : 0;
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d < 0 || d >= JSON_INT_LIMIT || (double)(int64_t)d != d)
            return fail(err, errlen, "%s.%s must be a whole number below 2^53", where, name);
        snprintf(out, MAP_ID_MAX, "%lld", (long long)d);
        return 0;
    }
    if (cJSON_IsString(v)) {
        size_t n = strlen(v->valuestring);
        if (n == 0 || n >= MAP_ID_MAX)
            return fail(err, errlen, "%s.%s must be 1..%d characters", where, name,
                        MAP_ID_MAX - 1);
        for (size_t i = 0; i < n; i++)
            if (!isgraph((unsigned char)v->valuestring[i]))
                return fail(err, errlen, "%s.%s must be printable", where, name);
        memcpy(out, v->valuestring, n + 1);
        return 0;
    }
    return fail(err, errlen, "%s.%s must be a number or a string", where, name);
}

int map_int(const cJSON *obj, const char *name, int required, int64_t min, int64_t max,
            int64_t def, int64_t *out, const char *where, char *err, size_t errlen)
{
    const cJSON *v = member(obj, name);
    *out = def;
    if (!v)
        return required ? fail(err, errlen, "%s.%s is missing", where, name) : 0;
    if (!cJSON_IsNumber(v))
        return fail(err, errlen, "%s.%s must be a number", where, name);
    double d = v->valuedouble;
    if (d < -JSON_INT_LIMIT || d > JSON_INT_LIMIT || (double)(int64_t)d != d ||
        (int64_t)d < min || (int64_t)d > max)
        return fail(err, errlen, "%s.%s must be a whole number in %lld..%lld", where, name,
                    (long long)min, (long long)max);
    *out = (int64_t)d;
    return 0;
}

int map_string(const cJSON *obj, const char *name, const char **out, const char *where,
               char *err, size_t errlen)
{
    const cJSON *v = member(obj, name);
    *out = NULL;
    if (!v)
        return 0;
    if (!cJSON_IsString(v))
        return fail(err, errlen, "%s.%s must be a string", where, name);
    *out = v->valuestring;
    return 0;
}

int map_array(const cJSON *obj, const char *name, size_t max, const cJSON **out,
              const char *where, char *err, size_t errlen)
{
    const cJSON *v = member(obj, name);
    *out = NULL;
    if (!v)
        return 0;
    if (!cJSON_IsArray(v))
        return fail(err, errlen, "%s.%s must be an array", where, name);
    if ((size_t)cJSON_GetArraySize(v) > max)
        return fail(err, errlen, "%s.%s has more than %zu items", where, name, max);
    *out = v;
    return 0;
}
