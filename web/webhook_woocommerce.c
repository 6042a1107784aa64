/* POST /webhooks/woocommerce: the store from X-WC-Webhook-Source (404 if unknown), the
 * signature X-WC-Webhook-Signature over the raw body (401), then the delivery goes to
 * the inbox keyed by (webhook id, delivery id, body hash) -- the delivery id is only a
 * hash of the webhook id and the current second, so it is not unique on its own.
 * WooCommerce's unsigned ping (a form POST "webhook_id=<id>") is answered 200. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "store.h"
#include "webhooks.h"

#define HDR WEB_WEBHOOK_HEADER_MAX
#define ID_MAX 64 /* longest webhook id / delivery id used in the inbox key */

/* The ping WooCommerce sends when a webhook is created: exactly "webhook_id=<digits>". */
static int is_ping(const struct web_request *req)
{
    static const char prefix[] = "webhook_id=";
    size_t n = sizeof prefix - 1;
    if (!req->body || req->body_len <= n || req->body_len > n + 20 ||
        memcmp(req->body, prefix, n) != 0)
        return 0;
    for (size_t i = n; i < req->body_len; i++)
        if (!isdigit((unsigned char)req->body[i]))
            return 0;
    return 1;
}

static const char *header(struct web_request *req, const char *name, char buf[HDR])
{
    if (!web_header(req, name, buf, HDR))
        buf[0] = '\0';
    return buf;
}

void web_webhook_woocommerce(struct web_request *req, struct web_response *res)
{
    char sig[HDR], src[HDR], topic[HDR], wid[HDR], did[HDR];
    header(req, "x-wc-webhook-signature", sig);
    if (!sig[0] && is_ping(req)) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "status", "ok");
        web_respond_json(res, 200, doc);
        return;
    }
    header(req, "x-wc-webhook-source", src);
    struct depot_channel ch;
    depot_err e = web_webhook_channel(req->srv, "woocommerce", src, &ch);
    if (e == DEPOT_E_NOT_FOUND || (e == DEPOT_OK && !ch.enabled)) {
        web_respond_error(res, 404, "unknown_store", "no enabled WooCommerce channel for "
                                                     "this X-WC-Webhook-Source");
        return;
    }
    if (e != DEPOT_OK) {
        web_respond_store_error(res, req->srv->st, e);
        return;
    }
    if (!sig[0]) {
        web_respond_error(res, 401, "missing_signature", "X-WC-Webhook-Signature is missing");
        return;
    }
    struct web_webhook_signature check = {
        .secret = web_webhook_secret(req, res, ch.id), .given = sig,
        .header = "X-WC-Webhook-Signature", .vendor = "WooCommerce", .channel = ch.name,
    };
    if (!check.secret)
        return;
    header(req, "x-wc-webhook-topic", topic);
    header(req, "x-wc-webhook-id", wid);
    header(req, "x-wc-webhook-delivery-id", did);
    if (!topic[0] || strlen(topic) > 64) {
        if (web_webhook_verify_now(req, res, &check))
            web_respond_error(res, 400, "missing_topic", "X-WC-Webhook-Topic is missing");
        return;
    }
    char hex[65], delivery_id[2 * ID_MAX + 70], source[48];
    depot_inbox_body_sha256(req->body, req->body_len, hex);
    snprintf(delivery_id, sizeof delivery_id, "%.*s:%.*s:%s", ID_MAX, wid[0] ? wid : "-",
             ID_MAX, did[0] ? did : "-", hex);
    snprintf(source, sizeof source, "woocommerce:%lld", (long long)ch.id);
    cJSON *kept = cJSON_CreateObject();
    cJSON_AddStringToObject(kept, "source", src);
    cJSON_AddStringToObject(kept, "topic", topic);
    cJSON_AddStringToObject(kept, "webhook_id", wid);
    cJSON_AddStringToObject(kept, "delivery_id", did);
    cJSON_AddStringToObject(kept, "request_id", req->request_id);
    char *headers = cJSON_PrintUnformatted(kept);
    cJSON_Delete(kept);
    struct depot_inbox_delivery d = {
        .source = source, .delivery_id = delivery_id, .channel_id = ch.id, .topic = topic,
        .headers_json = headers, .body_sha256 = hex,
    };
    web_webhook_enqueue(req, res, &d, &check); /* the signature is checked off the loop */
    cJSON_free(headers);
}
