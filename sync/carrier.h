/* One vtable per carrier (FedEx, UPS, DHL Parcel DE), in the shape of curl's TLS
 * backends: a name, capabilities, then verbs with one-line contracts. An adapter builds
 * the carrier's documented request bodies and reads its documented answers; the shared
 * call path (carrier_call.c) adds the bearer token from the token service, retries once
 * after a 401 with a refreshed token, bounds and type-checks answers, and turns
 * failures into one-line reasons without secrets. Calls block: they run on a worker or
 * CLI thread, never on the event loop. */
#ifndef DEPOT_SYNC_CARRIER_H
#define DEPOT_SYNC_CARRIER_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "carriers.h"
#include "store.h"

#define CARRIER_ERROR_MAX 300
#define CARRIER_TRACKING_MAX 64

/* Pinned API versions (docs/CARRIERS.md). */
#define CARRIER_UPS_API_VERSION "v2409"
#define CARRIER_DHL_PROFILE_DEFAULT "STANDARD_GRUPPENPROFIL"

struct carrier_ctx {
    depot_store *st;                 /* the calling thread's connection */
    const uint8_t *key;              /* master key */
    const struct depot_carrier *row;
    const char *actor;
    char owner[DEPOT_TOKEN_OWNER_MAX]; /* "carrier:<id>" */
    int timeout_ms;                  /* one HTTP call: config timeout_ms, else 20000 */
    char error[CARRIER_ERROR_MAX];   /* why the last call failed */
    int retryable;                   /* the last failure may pass later (5xx, timeout) */
    int answered;                    /* the last call got an HTTP answer (so a refused
                                      * create certainly created nothing) */
    int token_refreshes;             /* 401 -> refresh-and-retry count, for tests/metrics */
};

void carrier_ctx_init(struct carrier_ctx *cx, depot_store *st, const uint8_t *key,
                      const struct depot_carrier *row, const char *actor);

struct carrier_address {
    const char *name, *company, *phone, *email;
    const char *street1, *street2, *city, *state, *postal_code;
    const char *country; /* ISO 3166-1 alpha-2, e.g. "US", "DE" */
};

/* Reads {"name","company","phone","email","street1","street2","city","state",
 * "postal_code","country"} (strings; the struct points into obj), also under Shopify's
 * (address1, zip, province_code, country_code) and WooCommerce's (address_1, postcode)
 * names. -1 unless name, street, city, postal code and a two-letter country are there. */
int carrier_address_from_json(const cJSON *obj, struct carrier_address *out);

struct carrier_shipment_req {
    const char *reference;   /* our shipment id, "depot-shipment-<id>": idempotency key */
    const char *service;     /* carrier service code; NULL = the carrier config's */
    struct carrier_address shipper, recipient;
    double weight_kg;        /* > 0 */
    const char *label_format; /* "zpl" (thermal printers), "pdf" or "png" */
};

struct carrier_label {
    char tracking[CARRIER_TRACKING_MAX + 1];
    char format[8];          /* "zpl", "pdf", "png" */
    unsigned char *data;     /* malloc'd label bytes (decoded) */
    size_t len;
};
void carrier_label_free(struct carrier_label *l);

struct carrier_track {
    char status[16];         /* pre_transit, in_transit, delivered, exception, unknown */
    char description[128];   /* the carrier's words */
};

enum { CARRIER_CAN_LOOKUP = 1 << 0 /* lookup() finds a shipment by our reference */ };

struct carrier_ops {
    const char *name;        /* "fedex", "ups", "dhl": the carriers.kind */
    unsigned caps;
    /* Creates the shipment and its label: DEPOT_OK with *out filled; DEPOT_E_IO when it
     * may work later (cx->retryable), others refused (cx->error). */
    depot_err (*create)(struct carrier_ctx *cx, const struct carrier_shipment_req *req,
                        struct carrier_label *out);
    /* Finds a shipment created with reference: DEPOT_OK with its tracking number,
     * DEPOT_E_NOT_FOUND when there is none. NULL when the API has no such lookup. */
    depot_err (*lookup)(struct carrier_ctx *cx, const char *reference,
                        char tracking[CARRIER_TRACKING_MAX + 1]);
    /* Voids the label so the merchant is not billed. */
    depot_err (*cancel)(struct carrier_ctx *cx, const char *tracking);
    /* The shipment's current status, normalised. */
    depot_err (*track)(struct carrier_ctx *cx, const char *tracking, struct carrier_track *out);
};

extern const struct carrier_ops carrier_fedex_ops;
extern const struct carrier_ops carrier_ups_ops;
extern const struct carrier_ops carrier_dhl_ops;

/* The ops for a carriers.kind, NULL if unknown. */
const struct carrier_ops *carrier_ops_for(const char *kind);

/* The verbs through the carrier's ops (cx->row->kind); DEPOT_E_INVALID for an unknown
 * kind or a verb it lacks. */
depot_err carrier_create(struct carrier_ctx *cx, const struct carrier_shipment_req *req,
                         struct carrier_label *out);
depot_err carrier_lookup(struct carrier_ctx *cx, const char *reference,
                         char tracking[CARRIER_TRACKING_MAX + 1]);
depot_err carrier_cancel(struct carrier_ctx *cx, const char *tracking);
depot_err carrier_track(struct carrier_ctx *cx, const char *tracking, struct carrier_track *out);

/* ---- Shared by the adapters (carrier_call.c) ---------------------------------------- */

enum carrier_auth { CARRIER_AUTH_BEARER, CARRIER_AUTH_API_KEY /* DHL-API-Key: client id */ };

/* One JSON call: method to cx->row->api_base (or def_base) + path, body (owned, may be
 * NULL), extra headers as NULL-terminated name/value pairs (may be NULL). On a 2xx,
 * DEPOT_OK and *answer the parsed JSON object (caller frees). A 401 rejects the token
 * and retries once with a fresh one. Failures set cx->error/retryable: DEPOT_E_IO for
 * no answer, 5xx or 429; DEPOT_E_CRYPTO for 401/403; DEPOT_E_NOT_FOUND for 404;
 * DEPOT_E_INVALID for other refusals or an answer that is not a JSON object. */
depot_err carrier_call(struct carrier_ctx *cx, const char *method, const char *def_base,
                       const char *path, cJSON *body, const char *const *headers,
                       enum carrier_auth auth, cJSON **answer);

/* Sets cx->error (printf-style) and returns e. */
depot_err carrier_fail(struct carrier_ctx *cx, depot_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Decodes a base64 label into out->data; -1 on bad input. */
int carrier_label_base64(struct carrier_label *out, const char *b64);
/* Percent-encodes s into out (a path segment or query value); -1 if it does not fit. */
int carrier_escape(const char *s, char *out, size_t cap);
/* A string member, or NULL; or fallback instead of NULL. */
const char *carrier_json_str(const cJSON *o, const char *name);
const char *carrier_json_str_or(const cJSON *o, const char *name, const char *fallback);
/* Member i of an array, or the value itself when it is an object (UPS sends single
 * elements as objects). */
const cJSON *carrier_json_item(const cJSON *v, int i);

/* ---- Labels for shipments (carrier_label.c) ----------------------------------------- */

struct depot_label_job;

/* Works one claimed label request (depot_label_claim) to its end: builds the request
 * (shipper from the carrier's config, ship-to from the order), and -- when an earlier
 * attempt may have reached the carrier -- looks the shipment up by our reference first
 * and voids what it finds (its label bytes were lost with the crash) before creating
 * it again; carriers without a lookup are not retried blindly (dead-lettered with the
 * reason). Stores label + print job + outcome in one transaction (depot_label_store) or
 * records the failure with backoff. Returns DEPOT_OK when labelled (tracking and
 * *print_job filled), else the error with err set. */
depot_err carrier_label_process(depot_store *st, const uint8_t *key,
                                struct depot_label_job *job, const char *actor,
                                char tracking[CARRIER_TRACKING_MAX + 1], int64_t *print_job,
                                char *err, size_t errlen);

/* ---- Voids (carrier_void.c) --------------------------------------------------------- */

struct depot_void_result;

/* Works one claimed void request (depot_void_claim): voids the label at the carrier,
 * then depot_void_done (shipment voided, fulfillment withdrawn if unsent, goods back as
 * chosen; *result says what happened). A failure is recorded on the request -- retried
 * with backoff when the carrier may answer later, else dead-lettered -- and returned
 * with err set. */
depot_err carrier_void_process(depot_store *st, const uint8_t *key,
                               struct depot_label_job *job, const char *actor,
                               struct depot_void_result *result, char *err, size_t errlen);

#endif
