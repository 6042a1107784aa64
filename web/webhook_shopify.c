/* POST /webhooks/shopify: the shop from X-Shopify-Shop-Domain (404 if unknown), the
 * signature X-Shopify-Hmac-Sha256 over the raw body (401), then the delivery goes to the
 * inbox keyed by X-Shopify-Webhook-Id and X-Shopify-Event-Id + topic; a delivery
 * triggered longer ago than webhook_stale_after is flagged stale. The signature is
 * checked off the loop, by webhooks.c's verifiers, unless an earlier refusal needs it. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "store.h"
#include "webhooks.h"

#define HDR WEB_WEBHOOK_HEADER_MAX

struct shopify_headers {
    char shop[HDR], hmac[HDR], topic[HDR], webhook_id[HDR], event_id[HDR];
    char triggered_at[HDR], api_version[HDR];
};

static void read_headers(struct web_request *req, struct shopify_headers *h)
{
    static const struct { const char *name; size_t off; } map[] = {
        {"x-shopify-shop-domain", offsetof(struct shopify_headers, shop)},
        {"x-shopify-hmac-sha256", offsetof(struct shopify_headers, hmac)},
        {"x-shopify-topic", offsetof(struct shopify_headers, topic)},
        {"x-shopify-webhook-id", offsetof(struct shopify_headers, webhook_id)},
        {"x-shopify-event-id", offsetof(struct shopify_headers, event_id)},
        {"x-shopify-triggered-at", offsetof(struct shopify_headers, triggered_at)},
        {"x-shopify-api-version", offsetof(struct shopify_headers, api_version)},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        char *dst = (char *)h + map[i].off;
        if (!web_header(req, map[i].name, dst, HDR))
            dst[0] = '\0';
    }
}

/* The headers worth keeping with the delivery (never the signature). */
static char *kept_headers(const struct shopify_headers *h, const char *request_id)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "shop_domain", h->shop);
    cJSON_AddStringToObject(o, "topic", h->topic);
    cJSON_AddStringToObject(o, "webhook_id", h->webhook_id);
    cJSON_AddStringToObject(o, "event_id", h->event_id);
    cJSON_AddStringToObject(o, "triggered_at", h->triggered_at);
    cJSON_AddStringToObject(o, "api_version", h->api_version);
    cJSON_AddStringToObject(o, "request_id", request_id);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

void web_webhook_shopify(struct web_request *req, struct web_response *res)
{
    struct shopify_headers h;
    struct depot_channel ch;
    char source[48], delivery_id[80];
    read_headers(req, &h);

    depot_err e = web_webhook_channel(req->srv, "shopify", h.shop, &ch);
    if (e == DEPOT_E_NOT_FOUND || (e == DEPOT_OK && !ch.enabled)) {
        web_respond_error(res, 404, "unknown_shop", "no enabled Shopify channel for this "
                                                    "X-Shopify-Shop-Domain");
        return;
    }
    if (e != DEPOT_OK) {
        web_respond_store_error(res, req->srv->st, e);
        return;
    }
    if (!h.hmac[0]) {
        web_respond_error(res, 401, "missing_signature", "X-Shopify-Hmac-Sha256 is missing");
        return;
    }
    struct web_webhook_signature sig = {
        .secret = web_webhook_secret(req, res, ch.id), .given = h.hmac,
        .header = "X-Shopify-Hmac-Sha256", .vendor = "Shopify", .channel = ch.name,
    };
    if (!sig.secret)
        return;
    if (!h.topic[0] || strlen(h.topic) > 64) {
        if (web_webhook_verify_now(req, res, &sig))
            web_respond_error(res, 400, "missing_topic", "X-Shopify-Topic is missing");
        return;
    }
    char body_sha256[65] = "";
    if (!h.webhook_id[0]) { /* every delivery has one; without it, the body identifies it */
        depot_inbox_body_sha256(req->body, req->body_len, body_sha256);
        snprintf(delivery_id, sizeof delivery_id, "sha256:%s", body_sha256);
    } else {
        snprintf(delivery_id, sizeof delivery_id, "%.79s", h.webhook_id);
    }
    int64_t triggered_ms = 0;
    int64_t triggered = h.triggered_at[0] &&
                        depot_time_parse_iso8601(h.triggered_at, &triggered_ms) == 0
                            ? triggered_ms / 1000 : 0;
    int stale = triggered && (int64_t)time(NULL) - triggered >
                                 req->srv->cfg.webhook_stale_after;
    snprintf(source, sizeof source, "shopify:%lld", (long long)ch.id);
    char *headers = kept_headers(&h, req->request_id);
    struct depot_inbox_delivery d = {
        .source = source, .delivery_id = delivery_id, .channel_id = ch.id, .topic = h.topic,
        .event_id = h.event_id[0] ? h.event_id : NULL, .triggered_at = triggered,
        .stale = stale, .headers_json = headers,
        .body_sha256 = body_sha256[0] ? body_sha256 : NULL,
    };
    web_webhook_enqueue(req, res, &d, &sig); /* a stale one is logged once stored */
    cJSON_free(headers);
}
