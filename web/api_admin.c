/* The administration endpoints: users and API tokens (admin), and the audit log
 * (supervisor and up). */
#include <string.h>
#include <mbedtls/platform_util.h>
#include "api.h"

#define PASSWORD_MIN 8
#define PASSWORD_MAX 1024

/* A list keyed by id: the cursor query argument, limit, and the store's view. */
static void id_list(struct web_request *req, struct web_response *res, const char *cursor,
                    depot_err (*view)(depot_store *, int64_t, int, cJSON **))
{
    int64_t from, limit;
    cJSON *doc = NULL;
    if (web_api_page(req, res, cursor, &from, &limit) != 0)
        return;
    depot_err e = view(req->srv->st, from, (int)limit, &doc);
    web_api_view(res, req->srv->st, e, doc, NULL);
}

static void user_list(struct web_request *req, struct web_response *res)
{
    id_list(req, res, "after", depot_user_list_json);
}

/* The 201 answer to a create: the new row's id, name and role. */
static cJSON *created(int64_t id, const char *name, const char *role)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "id", (double)id);
    cJSON_AddStringToObject(doc, "name", name);
    cJSON_AddStringToObject(doc, "role", role);
    return doc;
}

/* The name and role members every create request has. */
static int name_and_role(const cJSON *body, struct web_response *res, const char **name,
                         const char **role)
{
    if (web_api_string(body, "name", 1, DEPOT_USER_NAME_MAX, res, name) != 0 ||
        web_api_string(body, "role", 1, 16, res, role) != 0)
        return -1;
    if (web_role_parse(*role) == WEB_ROLE_NONE) {
        web_respond_error(res, 400, "invalid_parameter",
                          "'role' must be packer, supervisor or admin");
        return -1;
    }
    return 0;
}

static void user_create(struct web_request *req, struct web_response *res)
{
    static const char *const fields[] = {"name", "role", "password", NULL};
    const char *name, *role, *password = NULL;
    int64_t id = 0;
    cJSON *body = web_body_json(req, res);
    if (!body)
        return;
    if (web_api_only(body, fields, res) != 0 || name_and_role(body, res, &name, &role) != 0 ||
        web_api_string(body, "password", 0, PASSWORD_MAX, res, &password) != 0)
        goto out;
    if (password && strlen(password) < PASSWORD_MIN) {
        web_respond_error(res, 400, "invalid_parameter",
                          "'password' must be %d..%d characters", PASSWORD_MIN, PASSWORD_MAX);
        goto out;
    }
    depot_err e = depot_user_add(req->srv->st, name, role, password, req->auth.actor, &id);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, req->srv->st, e);
        goto out;
    }
    cJSON *doc = created(id, name, role);
    cJSON_AddBoolToObject(doc, "password", password != NULL);
    web_respond_json(res, 201, doc);
out:
    if (password)
        mbedtls_platform_zeroize((char *)password, strlen(password));
    cJSON_Delete(body);
}

static void token_list(struct web_request *req, struct web_response *res)
{
    id_list(req, res, "after", depot_token_list_json);
}

/* The plain token is in this one answer only; the store keeps its SHA-256. */
static void token_create(struct web_request *req, struct web_response *res)
{
    static const char *const fields[] = {"name", "role", NULL};
    const char *name, *role;
    char token[DEPOT_TOKEN_LEN + 1];
    int64_t id = 0;
    cJSON *body = web_body_json(req, res);
    if (!body)
        return;
    if (web_api_only(body, fields, res) != 0 || name_and_role(body, res, &name, &role) != 0)
        goto out;
    depot_err e = depot_token_create(req->srv->st, name, role, req->auth.actor, token, &id);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, req->srv->st, e);
        goto out;
    }
    cJSON *doc = created(id, name, role);
    cJSON_AddStringToObject(doc, "token", token);
    mbedtls_platform_zeroize(token, sizeof token);
    web_respond_json(res, 201, doc);
out:
    cJSON_Delete(body);
}

static void token_revoke(struct web_request *req, struct web_response *res)
{
    int64_t id;
    if (web_param_id(req, res, 0, &id) != 0)
        return;
    depot_err e = depot_token_revoke(req->srv->st, id, req->auth.actor);
    if (e != DEPOT_OK) {
        web_respond_store_error(res, req->srv->st, e);
        return;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "id", (double)id);
    cJSON_AddBoolToObject(doc, "revoked", 1);
    web_respond_json(res, 200, doc);
}

static void audit_list(struct web_request *req, struct web_response *res)
{
    id_list(req, res, "before", depot_audit_list_json);
}

const struct web_route web_routes_admin[] = {
    {WEB_GET, "/api/v1/users", WEB_ROLE_ADMIN, 0, user_list, "users_list"},
    {WEB_POST, "/api/v1/users", WEB_ROLE_ADMIN, 0, user_create, "users_create"},
    {WEB_GET, "/api/v1/tokens", WEB_ROLE_ADMIN, 0, token_list, "tokens_list"},
    {WEB_POST, "/api/v1/tokens", WEB_ROLE_ADMIN, 0, token_create, "tokens_create"},
    {WEB_DELETE, "/api/v1/tokens/{id}", WEB_ROLE_ADMIN, 0, token_revoke, "tokens_revoke"},
    {WEB_GET, "/api/v1/audit", WEB_ROLE_SUPERVISOR, 0, audit_list, "audit_list"},
    {0},
};
