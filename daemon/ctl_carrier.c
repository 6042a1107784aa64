/* depotctl's carrier and OAuth app commands: add a FedEx/UPS/DHL account with its client
 * credentials sealed in the vault, list carriers (never their secrets), test one by
 * getting a token through the token service (its expiry is printed, never the token),
 * track or void a shipment at the carrier, set the Shopify app's credentials used by
 * the OAuth install, and start that install (the authorize link to open). */
#include <string.h>
#include <time.h>
#include "carrier.h"
#include "carriers.h"
#include "ctl.h"
#include "token_install.h"
#include "token_service.h"

#define SECRETS_ORDER "of the options' help"

enum { SEC_ID, SEC_SECRET, SEC_USER, SEC_PASSWORD, SEC_COUNT };

int ctl__carrier_add(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"client-id", required_argument, NULL, 'i'},
        {"client-secret", required_argument, NULL, 's'},
        {"username", required_argument, NULL, 'u'},
        {"password", required_argument, NULL, 'p'},
        {"account", required_argument, NULL, 'a'},
        {"api-base", required_argument, NULL, 'b'},
        {"token-url", required_argument, NULL, 't'},
        {"name", required_argument, NULL, 'n'},
        {"config", required_argument, NULL, 'c'},
        {0},
    };
    struct depot_carrier_in in = {0};
    const char *sec[SEC_COUNT] = {0};
    char (*buf)[CTL_SECRET_LINE_MAX] = NULL;
    uint8_t key[DEPOT_MASTER_KEY_LEN];
    depot_store *st = NULL;
    int64_t id = 0;
    int o, rc;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0) {
        switch (o) {
        case 'i': sec[SEC_ID] = optarg; break;
        case 's': sec[SEC_SECRET] = optarg; break;
        case 'u': sec[SEC_USER] = optarg; break;
        case 'p': sec[SEC_PASSWORD] = optarg; break;
        case 'a': in.account = optarg; break;
        case 'b': in.api_base = optarg; break;
        case 't': in.token_url = optarg; break;
        case 'n': in.name = optarg; break;
        case 'c': in.config_json = optarg; break;
        }
    }
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, 1) != 0)
        return CTL_EXIT_USAGE;
    in.kind = argv[optind];
    if (strcmp(in.kind, "fedex") != 0 && strcmp(in.kind, "ups") != 0 &&
        strcmp(in.kind, "dhl") != 0)
        return ctl__usage_error(c, "carrier kind must be fedex, ups or dhl, not '%s'", in.kind);
    if (!sec[SEC_ID] || !sec[SEC_SECRET])
        return ctl__usage_error(c, "a carrier needs --client-id and --client-secret");
    if (strcmp(in.kind, "dhl") == 0 ? !sec[SEC_USER] || !sec[SEC_PASSWORD]
                                     : sec[SEC_USER] || sec[SEC_PASSWORD])
        return ctl__usage_error(c, "--username and --password are for dhl (Parcel DE "
                                   "password grant), where both are required");
    if ((rc = ctl__read_secrets(c, sec, SEC_COUNT, SECRETS_ORDER, &buf)) != CTL_EXIT_OK)
        goto out;
    in.client_id = sec[SEC_ID];
    in.client_secret = sec[SEC_SECRET];
    in.username = sec[SEC_USER];
    in.password = sec[SEC_PASSWORD];
    if ((rc = ctl__master_key(c, key)) != CTL_EXIT_OK ||
        (rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        goto out;
    depot_err e = depot_carrier_add(st, key, &in, c->actor, &id);
    struct depot_carrier cr;
    if (e == DEPOT_OK)
        e = depot_carrier_get(st, id, &cr);
    if (e != DEPOT_OK) {
        rc = ctl__store_fail(c, st, e);
        goto out;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "id", (double)id);
    cJSON_AddStringToObject(doc, "kind", cr.kind);
    cJSON_AddStringToObject(doc, "name", cr.name);
    cJSON_AddStringToObject(doc, "api_base", cr.api_base);
    rc = ctl__done(c, doc, "carrier %lld: %s %s%s%s", (long long)id, cr.kind, cr.name,
                   cr.api_base[0] ? " via " : "", cr.api_base);
out:
    depot_store_close(st);
    explicit_bzero(key, sizeof key);
    ctl__wipe_secrets(buf, SEC_COUNT);
    return rc;
}

int ctl__carrier_list(struct ctl *c, int argc, char **argv)
{
    cJSON *doc, *it;
    int rc = ctl__account_list(c, argc, argv, depot_carrier_list_json, &doc);
    if (rc != CTL_GO)
        return rc;
    printf("%-4s %-6s %-20s %-12s %s\n", "ID", "KIND", "NAME", "ACCOUNT", "API BASE");
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(doc, "items")) {
        const char *base = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "api_base"));
        printf("%-4.0f %-6s %-20s %-12s %s\n",
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "id")),
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "kind")),
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "name")),
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "account")),
               base && base[0] ? base : "(carrier)");
    }
    cJSON_Delete(doc);
    return CTL_EXIT_OK;
}

/* For a command that talks to the carrier named by its first of n positional arguments:
 * the common options, the master key, the store and the carrier. Returns CTL_GO to go on
 * (*st to be closed), else the exit status. */
static int open_carrier(struct ctl *c, int argc, char **argv, int n,
                        uint8_t key[DEPOT_MASTER_KEY_LEN], depot_store **st,
                        struct depot_carrier *cr)
{
    int rc = ctl__plain_args(c, argc, argv, n);
    *st = NULL;
    if (rc != CTL_GO)
        return rc;
    if ((rc = ctl__master_key(c, key)) != CTL_EXIT_OK || (rc = ctl__open(c, 0, st)) != CTL_EXIT_OK)
        return rc;
    depot_err e = depot_carrier_find(*st, argv[optind], cr);
    if (e != DEPOT_OK)
        return ctl__store_fail(c, *st, e);
    return CTL_GO;
}

int ctl__carrier_test(struct ctl *c, int argc, char **argv)
{
    uint8_t key[DEPOT_MASTER_KEY_LEN];
    char owner[DEPOT_TOKEN_OWNER_MAX], err[TOKEN_ERROR_MAX + 64], when[32];
    struct depot_carrier cr;
    depot_store *st = NULL;
    char *token = NULL;
    int64_t expires_at = 0;
    int rc = open_carrier(c, argc, argv, 1, key, &st, &cr);
    if (rc != CTL_GO)
        goto out;
    snprintf(owner, sizeof owner, "carrier:%lld", (long long)cr.id);
    struct token_service_ctx cx = {.st = st, .key = key, .actor = c->actor};
    depot_err e = token_service_get(&cx, owner, &token, &expires_at, err, sizeof err);
    if (e != DEPOT_OK) {
        rc = ctl__fail(c, e, "carrier %s: %s", cr.name, err);
        goto out;
    }
    time_t t = (time_t)expires_at;
    struct tm tm;
    if (expires_at)
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "carrier", cr.name);
    cJSON_AddStringToObject(doc, "kind", cr.kind);
    if (expires_at) {
        cJSON_AddNumberToObject(doc, "expires_at", (double)expires_at);
        cJSON_AddNumberToObject(doc, "expires_in", (double)(expires_at - time(NULL)));
    } else {
        cJSON_AddNullToObject(doc, "expires_at");
    }
    rc = ctl__done(c, doc, "carrier %s: token OK, expires %s", cr.name,
                   expires_at ? when : "never");
out:
    token_secret_free(token);
    depot_store_close(st);
    explicit_bzero(key, sizeof key);
    return rc;
}

/* carrier track|void NAME TRACKING: asks the carrier about the label now, or voids it. */
static int track_or_void(struct ctl *c, int argc, char **argv, int voiding)
{
    uint8_t key[DEPOT_MASTER_KEY_LEN];
    struct depot_carrier cr;
    struct carrier_track tr;
    depot_store *st = NULL;
    int rc = open_carrier(c, argc, argv, 2, key, &st, &cr);
    if (rc != CTL_GO)
        goto out;
    const char *number = argv[optind + 1];
    struct carrier_ctx cx;
    carrier_ctx_init(&cx, st, key, &cr, c->actor);
    depot_err e = voiding ? carrier_cancel(&cx, number) : carrier_track(&cx, number, &tr);
    if (e != DEPOT_OK) {
        rc = ctl__fail(c, e, "carrier %s: %s", cr.name, cx.error);
        goto out;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "carrier", cr.name);
    cJSON_AddStringToObject(doc, "tracking_number", number);
    if (voiding) {
        cJSON_AddBoolToObject(doc, "voided", 1);
        rc = ctl__done(c, doc, "%s %s: voided", cr.name, number);
    } else {
        cJSON_AddStringToObject(doc, "status", tr.status);
        cJSON_AddStringToObject(doc, "description", tr.description);
        rc = ctl__done(c, doc, "%s %s: %s (%s)", cr.name, number, tr.status, tr.description);
    }
out:
    depot_store_close(st);
    explicit_bzero(key, sizeof key);
    return rc;
}

int ctl__carrier_track(struct ctl *c, int argc, char **argv)
{
    return track_or_void(c, argc, argv, 0);
}

int ctl__carrier_void(struct ctl *c, int argc, char **argv)
{
    return track_or_void(c, argc, argv, 1);
}

/* After an app command's options (o, ctl__getopt's last answer): its one positional
 * argument, the platform, which must be shopify. Returns CTL_GO, else the exit status. */
static int app_platform(struct ctl *c, int argc, char **argv, int o)
{
    if (o < 0)
        return ctl__opts_exit(o);
    if (ctl__positional(c, argc, argv, 1) != 0)
        return CTL_EXIT_USAGE;
    if (strcmp(argv[optind], "shopify") != 0)
        return ctl__usage_error(c, "app platform must be shopify, not '%s'", argv[optind]);
    return CTL_GO;
}

int ctl__app_set(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"client-id", required_argument, NULL, 'i'},
        {"client-secret", required_argument, NULL, 's'},
        {"scopes", required_argument, NULL, 'S'},
        {0},
    };
    const char *sec[2] = {0}, *scopes = NULL;
    char (*buf)[CTL_SECRET_LINE_MAX] = NULL;
    uint8_t key[DEPOT_MASTER_KEY_LEN];
    depot_store *st = NULL;
    int o, rc;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0) {
        switch (o) {
        case 'i': sec[0] = optarg; break;
        case 's': sec[1] = optarg; break;
        case 'S': scopes = optarg; break;
        }
    }
    if ((rc = app_platform(c, argc, argv, o)) != CTL_GO)
        return rc;
    if (!sec[0] || !sec[1] || !scopes)
        return ctl__usage_error(c, "app set shopify takes --client-id, --client-secret and "
                                   "--scopes");
    if ((rc = ctl__read_secrets(c, sec, 2, SECRETS_ORDER, &buf)) != CTL_EXIT_OK)
        goto out;
    if ((rc = ctl__master_key(c, key)) != CTL_EXIT_OK ||
        (rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        goto out;
    depot_err e = depot_oauth_app_set(st, key, "shopify", sec[0], sec[1], scopes, c->actor);
    if (e != DEPOT_OK) {
        rc = ctl__store_fail(c, st, e);
        goto out;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "app", "shopify");
    cJSON_AddStringToObject(doc, "scopes", scopes);
    rc = ctl__done(c, doc, "shopify app set (scopes %s)", scopes);
out:
    depot_store_close(st);
    explicit_bzero(key, sizeof key);
    ctl__wipe_secrets(buf, 2);
    return rc;
}

int ctl__app_install(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"shop", required_argument, NULL, 's'},
        {"redirect-uri", required_argument, NULL, 'r'},
        {"api-base", required_argument, NULL, 'b'},
        {0},
    };
    const char *shop_in = NULL, *redirect = NULL, *api_base = NULL;
    char url[2048], shop[SHOPIFY_SHOP_MAX + 1], err[256];
    uint8_t key[DEPOT_MASTER_KEY_LEN];
    depot_store *st = NULL;
    int o, rc;
    while ((o = ctl__getopt(c, argc, argv, opts)) > 0) {
        switch (o) {
        case 's': shop_in = optarg; break;
        case 'r': redirect = optarg; break;
        case 'b': api_base = optarg; break;
        }
    }
    if ((rc = app_platform(c, argc, argv, o)) != CTL_GO)
        return rc;
    if (!shop_in || !redirect)
        return ctl__usage_error(c, "app install shopify takes --shop and --redirect-uri");
    if ((rc = ctl__master_key(c, key)) != CTL_EXIT_OK ||
        (rc = ctl__open(c, 0, &st)) != CTL_EXIT_OK)
        goto out;
    depot_err e = shopify_install_start(st, key, shop_in, api_base, redirect, c->actor, url,
                                        sizeof url, shop, err, sizeof err);
    if (e != DEPOT_OK) {
        rc = ctl__fail(c, e, "%s", err);
        goto out;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "shop", shop);
    cJSON_AddStringToObject(doc, "authorize_url", url);
    cJSON_AddNumberToObject(doc, "state_expires_in", SHOPIFY_STATE_TTL_S);
    rc = ctl__done(c, doc, "Open this link as the shop's owner within %d minutes to install "
                   "Depot on %s:\n%s", SHOPIFY_STATE_TTL_S / 60, shop, url);
out:
    depot_store_close(st);
    explicit_bzero(key, sizeof key);
    return rc;
}
