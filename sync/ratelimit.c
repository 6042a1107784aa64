/* Rate limiting per channel that follows the platform's own signals: Shopify's GraphQL
 * cost bucket (extensions.cost.throttleStatus) and any 429/503 with Retry-After. */
#include <limits.h>
#include <time.h>
#include "sync_int.h"

double sync_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The bucket as it is now: what was measured plus what has been restored since. */
static double bucket_now(const struct sync_channel *ch, double now)
{
    double v = ch->bucket_available + (now - ch->bucket_at) * ch->bucket_restore;
    return v > ch->bucket_max ? ch->bucket_max : v;
}

int sync_rate_allow(const struct sync_channel *ch, double cost, double now)
{
    if (now < ch->paused_until)
        return 0;
    if (ch->bucket_max <= 0 || cost <= 0)
        return 1;
    return bucket_now(ch, now) >= cost;
}

int sync_rate_calls(const struct sync_channel *ch, double cost, double now)
{
    if (now < ch->paused_until)
        return 0;
    if (ch->bucket_max <= 0 || cost <= 0)
        return INT_MAX;
    double have = bucket_now(ch, now);
    if (cost > ch->bucket_max)
        return have >= ch->bucket_max ? 1 : 0;
    return have / cost >= INT_MAX ? INT_MAX : (int)(have / cost);
}

void sync_rate_observe_shopify(struct sync_channel *ch, const cJSON *extensions, double sent_at,
                               double now)
{
    const cJSON *cost = cJSON_GetObjectItemCaseSensitive(extensions, "cost");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(cost, "throttleStatus");
    const cJSON *max = cJSON_GetObjectItemCaseSensitive(ts, "maximumAvailable");
    const cJSON *cur = cJSON_GetObjectItemCaseSensitive(ts, "currentlyAvailable");
    const cJSON *rate = cJSON_GetObjectItemCaseSensitive(ts, "restoreRate");
    if (!cJSON_IsNumber(max) || !cJSON_IsNumber(cur) || !cJSON_IsNumber(rate) ||
        max->valuedouble <= 0 || rate->valuedouble <= 0)
        return;
    /* The figure counts the calls the platform has seen; those still on the wire will
     * be taken from it too. */
    double seen = cur->valuedouble - ch->wire_cost;
    if (sent_at < ch->bucket_read_at && ch->bucket_max > 0 && bucket_now(ch, now) < seen)
        seen = bucket_now(ch, now);
    ch->bucket_read_at = now;
    ch->bucket_max = max->valuedouble;
    ch->bucket_available = seen;
    ch->bucket_restore = rate->valuedouble;
    ch->bucket_at = now;
}

void sync_rate_pause(struct sync_channel *ch, double seconds, double now)
{
    ch->throttled++;
    if (seconds < 0.05)
        seconds = 0.05;
    if (now + seconds > ch->paused_until)
        ch->paused_until = now + seconds;
}

void sync_rate_spend(struct sync_channel *ch, double cost, double now)
{
    if (ch->bucket_max <= 0 || cost <= 0)
        return;
    ch->bucket_available = bucket_now(ch, now) - cost;
    ch->bucket_at = now;
}
