/* The webhook endpoints' shared machinery, for webhook_shopify.c, webhook_woocommerce.c
 * and server.c: the channels and secrets deliveries name (webhook_channels.c), signature
 * checks and the group commit that makes a delivery durable before it is acknowledged
 * (webhooks.c). */
#ifndef DEPOT_WEB_WEBHOOKS_H
#define DEPOT_WEB_WEBHOOKS_H

#include <stddef.h>
#include <stdint.h>
#include "inbound.h"
#include "web_int.h"

#define WEB_WEBHOOK_HEADER_MAX 256 /* longest header value kept from a delivery */

/* 1 if sig_b64 is base64(HMAC-SHA256(body, secret)), compared in constant time; 0
 * otherwise (also for a malformed or missing signature). */
int web_webhook_signature_ok(const char *secret, const void *body, size_t len,
                             const char *sig_b64);

/* ---- The channels the deliveries name (webhook_channels.c), loop thread only ---- */
struct web_webhook_channels *web_webhook_channels_new(void);
void web_webhook_channels_free(struct web_webhook_channels *c);
/* The channel of kind ("shopify", "woocommerce") that a delivery names given (its shop
 * domain or store URL), as depot_channel_find, answered from a cache for up to a second
 * (never across a channel change made by this process). */
depot_err web_webhook_channel(struct web_server *srv, const char *kind, const char *given,
                              struct depot_channel *out);
/* The decrypted webhook secret of a channel (malloc'd; wipe and free it with
 * web_webhook_secret_free), unsealed once per cached channel. On failure fills res (500)
 * and returns NULL. */
char *web_webhook_secret(struct web_request *req, struct web_response *res,
                         int64_t channel_id);
void web_webhook_secret_free(char *secret);

/* A delivery's signature: checked against the channel's secret, and how a mismatch is
 * reported (warning "<vendor> delivery refused: bad signature" with the channel's name;
 * 401 invalid_signature "<header> does not match the body"). */
struct web_webhook_signature {
    char *secret;        /* from web_webhook_secret; taken (wiped and freed) by the calls */
    const char *given;   /* the signature header's value */
    const char *header;  /* static: "X-Shopify-Hmac-Sha256" */
    const char *vendor;  /* static: "Shopify" */
    const char *channel; /* the channel's name */
};

/* Checks sig on the loop thread, for the rare answers that must wait for it (a refusal
 * never tells an unsigned caller more than 401): 1 if it matches; 0 after answering 401. */
int web_webhook_verify_now(struct web_request *req, struct web_response *res,
                           struct web_webhook_signature *sig);

/* Queues a delivery for a verifier thread (HMAC over the body against sig) and the
 * committer, and defers the answer: 200 {"status":"accepted"|"duplicate"} once
 * committed, 401 invalid_signature if sig does not match (nothing stored), 503 if the
 * commit failed; 400 invalid_delivery (after the signature check) if d cannot be stored.
 * The body is taken from req (req->body becomes NULL); d's strings and sig's are copied;
 * sig->secret is taken. */
void web_webhook_enqueue(struct web_request *req, struct web_response *res,
                         const struct depot_inbox_delivery *d,
                         struct web_webhook_signature *sig);

/* The endpoints (webhook_shopify.c, webhook_woocommerce.c); routed in webhooks.c. */
void web_webhook_shopify(struct web_request *req, struct web_response *res);
void web_webhook_woocommerce(struct web_request *req, struct web_response *res);

/* The deliveries waiting for their commit, and the committer thread with its own
 * connection to db_path. new returns NULL with a reason in err. stop joins the thread
 * (before the libwebsockets context goes: it wakes the loop); free releases the rest. */
struct web_webhooks *web_webhooks_new(struct web_server *srv, const char *db_path,
                                      char *err, size_t errlen);
void web_webhooks_stop(struct web_webhooks *w);
void web_webhooks_free(struct web_webhooks *w);

/* On the loop thread after each round of lws_service: hands the deliveries queued in
 * that round to the verifiers at once (one lock and wake-up for the round). */
void web_webhooks_flush(struct web_server *srv);

/* On the loop thread when it was woken (LWS_CALLBACK_EVENT_WAIT_CANCELLED): answers the
 * deliveries whose commit finished. */
void web_webhooks_completed(struct web_server *srv);

#endif
