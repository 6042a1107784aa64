/* Token-bucket rate limits keyed by client IP or user name, in a bounded table that
 * forgets the least recently seen key when it is full. Pure: no I/O, no clock. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "web_int.h"

/* Rationale: every entry lives in one array allocated up front, so memory is fixed
 * whatever a client sends. Entries are chained per hash bucket (indices, not pointers)
 * and sit on a doubly linked recency list; a lookup moves its entry to the front, and a
 * new key takes the back entry's place when the array is full. A key's bucket starts
 * full; a forgotten key comes back with a full bucket, which is why the table should be
 * much larger than the number of clients expected in a refill period. Keys longer than
 * KEY_MAX bytes share the bucket of their first KEY_MAX bytes (IP addresses and user
 * names are shorter). The hash is not keyed, but a chain can never be longer than the
 * table, so crafted keys cost at most max_keys comparisons. */
#define KEY_MAX 64
#define NIL UINT32_MAX
#define EPSILON 1e-9 /* 12 * (1/12) must make one token despite rounding */

struct rl_entry {
    char key[KEY_MAX + 1];
    double tokens;
    double last;       /* when tokens was computed */
    uint32_t chain;    /* next entry in the same hash bucket */
    uint32_t newer, older;
};

struct web_ratelimit {
    double rate, burst;
    uint32_t cap, used;
    uint32_t nbuckets; /* a power of two */
    uint32_t *buckets;
    uint32_t newest, oldest;
    struct rl_entry *e;
};

static uint32_t hash_key(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; key[i] && i < KEY_MAX; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    return h;
}

struct web_ratelimit *web_ratelimit_new(double rate, double burst, size_t max_keys)
{
    if (!(rate > 0) || !(burst >= 1) || max_keys == 0 || max_keys >= NIL / 2)
        return NULL;
    struct web_ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    rl->rate = rate;
    rl->burst = burst;
    rl->cap = (uint32_t)max_keys;
    rl->nbuckets = 1;
    while (rl->nbuckets < rl->cap * 2)
        rl->nbuckets <<= 1;
    rl->buckets = malloc(rl->nbuckets * sizeof *rl->buckets);
    rl->e = calloc(rl->cap, sizeof *rl->e);
    if (!rl->buckets || !rl->e) {
        web_ratelimit_free(rl);
        return NULL;
    }
    for (uint32_t i = 0; i < rl->nbuckets; i++)
        rl->buckets[i] = NIL;
    rl->newest = rl->oldest = NIL;
    return rl;
}

void web_ratelimit_free(struct web_ratelimit *rl)
{
    if (!rl)
        return;
    free(rl->buckets);
    free(rl->e);
    free(rl);
}

static void lru_unlink(struct web_ratelimit *rl, uint32_t i)
{
    struct rl_entry *x = &rl->e[i];
    if (x->newer != NIL)
        rl->e[x->newer].older = x->older;
    else
        rl->newest = x->older;
    if (x->older != NIL)
        rl->e[x->older].newer = x->newer;
    else
        rl->oldest = x->newer;
}

static void lru_push_newest(struct web_ratelimit *rl, uint32_t i)
{
    struct rl_entry *x = &rl->e[i];
    x->newer = NIL;
    x->older = rl->newest;
    if (rl->newest != NIL)
        rl->e[rl->newest].newer = i;
    rl->newest = i;
    if (rl->oldest == NIL)
        rl->oldest = i;
}

static void chain_remove(struct web_ratelimit *rl, uint32_t i)
{
    uint32_t *link = &rl->buckets[hash_key(rl->e[i].key) & (rl->nbuckets - 1)];
    while (*link != i)
        link = &rl->e[*link].chain;
    *link = rl->e[i].chain;
}

/* The entry for key, created with a full bucket (evicting the oldest when the table is
 * full); it becomes the newest. */
static struct rl_entry *entry_for(struct web_ratelimit *rl, const char *key, double now)
{
    uint32_t *head = &rl->buckets[hash_key(key) & (rl->nbuckets - 1)];
    uint32_t i;
    for (i = *head; i != NIL; i = rl->e[i].chain)
        if (strncmp(rl->e[i].key, key, KEY_MAX) == 0)
            break;
    if (i != NIL) {
        lru_unlink(rl, i);
    } else {
        if (rl->used < rl->cap) {
            i = rl->used++;
        } else {
            i = rl->oldest;
            lru_unlink(rl, i);
            chain_remove(rl, i);
        }
        struct rl_entry *x = &rl->e[i];
        size_t n = strnlen(key, KEY_MAX);
        memcpy(x->key, key, n);
        x->key[n] = '\0';
        x->tokens = rl->burst;
        x->last = now;
        x->chain = *head;
        *head = i;
    }
    lru_push_newest(rl, i);
    return &rl->e[i];
}

int web_ratelimit_take(struct web_ratelimit *rl, const char *key, double now,
                       int *retry_after)
{
    struct rl_entry *x = entry_for(rl, key ? key : "", now);
    if (now > x->last) {
        x->tokens += (now - x->last) * rl->rate;
        if (x->tokens > rl->burst)
            x->tokens = rl->burst;
        x->last = now;
    }
    if (x->tokens >= 1 - EPSILON) {
        x->tokens = x->tokens > 1 ? x->tokens - 1 : 0;
        *retry_after = 0;
        return 0;
    }
    double wait = (1 - x->tokens) / rl->rate;
    int whole = wait > 86400 ? 86400 : (int)wait;
    if (wait - whole > EPSILON && whole < 86400)
        whole++; /* round up: a client that waits this long does get a token */
    *retry_after = whole < 1 ? 1 : whole;
    return -1;
}
