/* The WooCommerce side of the backstop pull: GET /orders (REST v3) modified after the
 * channel's cursor, oldest modification first, page by page. Each order is already in the
 * shape the order.updated webhook carries. */
#include <stdio.h>
#include <string.h>
#include "inbound.h"
#include "log.h"
#include "sync_int.h"

/* Rationale: modified_after is exclusive and compares whole seconds, so the query asks
 * from one second before the cursor (what comes back twice is dropped by the inbox);
 * dates_are_gmt=true makes it UTC like the date_modified_gmt we read. WooCommerce pages
 * by number, and page numbers shift when an order is modified while we read (it moves
 * to the end), which could skip another one. So the next page is asked by time instead:
 * modified after the newest one seen, page 1 again; only when a whole page shares one
 * second does the page number go up. A page shorter than per_page is the last. */

#define PER_PAGE 50
#define PER_PAGE_TEXT "50"

static enum sync_step page_call(struct sync_job *job, int page)
{
    char after[32], page_text[16];
    sync_format_utc(job->since_ms - 1000, after, sizeof after);
    snprintf(page_text, sizeof page_text, "%d", page);
    const struct sync_oauth1_param q[] = {
        {"modified_after", after}, {"dates_are_gmt", "true"}, {"orderby", "modified"},
        {"order", "asc"},          {"per_page", PER_PAGE_TEXT}, {"page", page_text},
    };
    if (sync_woo_request(job, "GET", "orders", "/orders", q, sizeof q / sizeof q[0]) != 0) {
        sync_job_error(job, "cannot build the request");
        return SYNC_RETRY;
    }
    return SYNC_SEND;
}

enum sync_step sync_woo_pull_begin(struct sync_job *job)
{
    job->phase = 1;
    return page_call(job, 1);
}

enum sync_step sync_woo_on_pull(struct sync_job *job, const struct sync_response *res)
{
    cJSON *root = cJSON_ParseWithLength(res->body, res->len);
    if (!cJSON_IsArray(root)) {
        cJSON_Delete(root);
        job->upstream_fault = 1;
        sync_job_error(job, "WooCommerce orders are not a JSON list (HTTP %ld)", res->status);
        return SYNC_RETRY;
    }
    int n = cJSON_GetArraySize(root);
    int64_t newest = 0;
    cJSON *order;
    while ((order = cJSON_DetachItemFromArray(root, 0))) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(order, "id");
        const char *modified = sync_json_str(order, "date_modified_gmt");
        char idbuf[32] = "", upd[64] = "";
        if (cJSON_IsNumber(id) && id->valuedouble >= 0 && id->valuedouble < 9007199254740992.0)
            snprintf(idbuf, sizeof idbuf, "%.0f", id->valuedouble);
        snprintf(upd, sizeof upd, "%s", modified ? modified : "");
        int64_t ms;
        if (modified && depot_time_parse_iso8601(modified, &ms) == 0 && ms > newest)
            newest = ms;
        if (sync_pull_add(job, idbuf, upd, order) != 0)
            depot_log(DEPOT_LOG_WARN, "sync", "channel %lld: a pulled order has no usable "
                      "id or date_modified_gmt; skipped", (long long)job->ch->row.id);
    }
    cJSON_Delete(root);
    sync_pull_page_done(job);
    if (n < PER_PAGE || sync_pull_pages(job) >= SYNC_PULL_PAGES_MAX)
        return SYNC_DONE;
    if (newest / 1000 > job->since_ms / 1000) {
        job->since_ms = newest; /* asks again from the newest second seen */
        job->phase = 1;
    } else {
        job->phase++; /* a whole page within one second: the next page of it */
    }
    return page_call(job, job->phase);
}
