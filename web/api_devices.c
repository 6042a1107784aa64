/* GET /api/v1/devices: stations and scanners from the store merged with the scanners'
 * live state, plus every other section a device manager provides (printers); moving a
 * scanner to another station; and the provider table and change listener behind
 * web/devices_hook.h. */
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "api_devices.h"
#include "devices.h"
#include "devices_hook.h"

static struct {
    char section[16];
    depot_devices_provider fn;
    void *user;
} providers[DEPOT_DEVICES_SECTIONS_MAX];

int depot_devices_provide(const char *section, depot_devices_provider fn, void *user)
{
    int free_slot = -1;
    for (int i = 0; i < DEPOT_DEVICES_SECTIONS_MAX; i++) {
        if (providers[i].fn && !strcmp(providers[i].section, section)) {
            providers[i].fn = fn;
            providers[i].user = user;
            return 0;
        }
        if (!providers[i].fn && free_slot < 0)
            free_slot = i;
    }
    if (!fn)
        return 0;
    if (free_slot < 0 || strlen(section) >= sizeof providers[0].section)
        return -1;
    strcpy(providers[free_slot].section, section);
    providers[free_slot].fn = fn;
    providers[free_slot].user = user;
    return 0;
}

/* A section's live array from its provider, or [] without one; NULL if out of memory. */
static cJSON *provided(const char *section)
{
    for (int i = 0; i < DEPOT_DEVICES_SECTIONS_MAX; i++)
        if (providers[i].fn && !strcmp(providers[i].section, section))
            return providers[i].fn(providers[i].user);
    return cJSON_CreateArray();
}

/* The live element named name in arr, or NULL. */
static cJSON *live_by_name(cJSON *arr, const char *name)
{
    cJSON *el;
    cJSON_ArrayForEach(el, arr) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(el, "name");
        if (cJSON_IsString(n) && !strcmp(n->valuestring, name))
            return el;
    }
    return NULL;
}

/* Each configured scanner with its live fields; a scanner the daemon has not loaded
 * (added since its last start or SIGHUP) is "not_loaded", a disabled one "disabled". */
static cJSON *scanners_view(const struct depot_scanner_conf *confs, size_t n, cJSON *live)
{
    static const char *const live_fields[] = {"state", "since", "device", "error",
                                              "counters"};
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < n; i++) {
        cJSON *o = depot_scanner_conf_json(&confs[i]);
        if (!o) {
            cJSON_Delete(arr);
            return NULL;
        }
        cJSON_AddItemToArray(arr, o);
        cJSON *l = live_by_name(live, confs[i].name);
        if (!l) {
            cJSON_AddStringToObject(o, "state",
                                    confs[i].enabled ? "not_loaded" : "disabled");
            continue;
        }
        for (size_t f = 0; f < sizeof live_fields / sizeof live_fields[0]; f++) {
            cJSON *v = cJSON_GetObjectItemCaseSensitive(l, live_fields[f]);
            if (v)
                cJSON_AddItemToObject(o, live_fields[f], cJSON_Duplicate(v, 1));
        }
    }
    return arr;
}

static void devices_get(struct web_request *req, struct web_response *res)
{
    depot_store *st = req->srv->st;
    cJSON *stations = NULL, *live = NULL, *doc = NULL;
    struct depot_scanner_conf *confs = NULL;
    size_t n = 0;
    depot_err e = depot_station_list_json(st, &stations);
    if (e == DEPOT_OK)
        e = depot_scanner_list(st, 0, &confs, &n);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, st, e);
        goto out;
    }
    doc = cJSON_CreateObject();
    live = provided("scanners");
    cJSON *scanners = live ? scanners_view(confs, n, live) : NULL;
    if (!doc || !scanners) {
        cJSON_Delete(scanners);
        web_respond_error(res, 500, "out_of_memory", "out of memory");
        goto out;
    }
    cJSON_AddItemToObject(doc, "stations", stations);
    stations = NULL;
    cJSON_AddItemToObject(doc, "scanners", scanners);
    cJSON *printers = provided("printers");
    cJSON_AddItemToObject(doc, "printers", printers ? printers : cJSON_CreateArray());
    for (int i = 0; i < DEPOT_DEVICES_SECTIONS_MAX; i++) {
        const char *name = providers[i].section;
        if (!providers[i].fn || !strcmp(name, "scanners") || !strcmp(name, "printers"))
            continue;
        cJSON *arr = providers[i].fn(providers[i].user);
        if (arr)
            cJSON_AddItemToObject(doc, name, arr);
    }
    web_respond_json(res, 200, doc);
    doc = NULL;
out:
    cJSON_Delete(doc);
    cJSON_Delete(live);
    cJSON_Delete(stations);
    free(confs);
}

static struct {
    void (*fn)(void *user);
    void *user;
} watcher;

void depot_devices_watch(void (*fn)(void *user), void *user)
{
    watcher.fn = fn;
    watcher.user = user;
}

void depot_devices_changed(void)
{
    if (watcher.fn)
        watcher.fn(watcher.user);
}

/* POST /api/v1/scanners/{name}/station {"station":"PACK-2"}: re-pairs a scanner; its next
 * scan is published for the new station (the scanner manager reloads at once). */
static void scanner_pair(struct web_request *req, struct web_response *res)
{
    static const char *const fields[] = {"station", NULL};
    depot_store *st = req->srv->st;
    const char *station = NULL;
    cJSON *body = web_body_json(req, res);
    if (!body)
        return;
    if (web_api_only(body, fields, res) != 0 ||
        web_api_string(body, "station", 1, DEPOT_DEVICE_NAME_MAX, res, &station) != 0)
        goto out;
    depot_err e = depot_scanner_set_station(st, req->params[0], station, req->auth.actor);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, st, e);
        goto out;
    }
    depot_devices_changed(); /* the scanner manager publishes the scanner's new state */
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "scanner", req->params[0]);
    cJSON_AddStringToObject(doc, "station", station);
    web_respond_json(res, 200, doc);
out:
    cJSON_Delete(body);
}

const struct web_route web_routes_devices[] = {
    {WEB_GET, "/api/v1/devices", WEB_ROLE_PACKER, 0, devices_get, "devices"},
    {WEB_POST, "/api/v1/scanners/{name}/station", WEB_ROLE_SUPERVISOR, 0, scanner_pair,
     "scanners_pair"},
    {0},
};
