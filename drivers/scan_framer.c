/* Scan framing: one frame per barcode out of a scanner's byte stream (see
 * scan_framer.h for what ends a frame and what is dropped). */
#include "scan_framer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GS 0x1d

void depot_scan_framer_config_default(struct depot_scan_framer_config *c)
{
    memset(c, 0, sizeof *c);
    c->suffix = DEPOT_SCAN_SUFFIX_CR;
    c->timeout_ms = 50;
    c->max_len = 512;
}

int depot_scan_suffix_parse(const char *text, struct depot_scan_framer_config *c)
{
    if (!strcmp(text, "cr")) {
        c->suffix = DEPOT_SCAN_SUFFIX_CR;
    } else if (!strcmp(text, "lf")) {
        c->suffix = DEPOT_SCAN_SUFFIX_LF;
    } else if (!strcmp(text, "crlf")) {
        c->suffix = DEPOT_SCAN_SUFFIX_CRLF;
    } else if (!strncmp(text, "timeout:", 8)) {
        const char *ms = text + 8;
        char *end;
        if (*ms < '1' || *ms > '9' || strlen(ms) > 5)
            return -1;
        long v = strtol(ms, &end, 10);
        if (*end || v < 1 || v > DEPOT_SCAN_TIMEOUT_MS_MAX)
            return -1;
        c->suffix = DEPOT_SCAN_SUFFIX_TIMEOUT;
        c->timeout_ms = (int)v;
    } else {
        return -1;
    }
    return 0;
}

char *depot_scan_suffix_format(const struct depot_scan_framer_config *c, char *buf,
                               size_t len)
{
    switch (c->suffix) {
    case DEPOT_SCAN_SUFFIX_LF: snprintf(buf, len, "lf"); break;
    case DEPOT_SCAN_SUFFIX_CRLF: snprintf(buf, len, "crlf"); break;
    case DEPOT_SCAN_SUFFIX_TIMEOUT: snprintf(buf, len, "timeout:%d", c->timeout_ms); break;
    default: snprintf(buf, len, "cr"); break;
    }
    return buf;
}

int depot_scan_framer_config_valid(const struct depot_scan_framer_config *c)
{
    size_t plen = strnlen(c->prefix, sizeof c->prefix);
    if (plen > DEPOT_SCAN_PREFIX_MAX)
        return -1;
    for (size_t i = 0; i < plen; i++)
        if (c->prefix[i] < 0x20 || c->prefix[i] > 0x7e)
            return -1;
    if (c->max_len < 1 || c->max_len > DEPOT_SCAN_FRAME_MAX)
        return -1;
    if (c->suffix < DEPOT_SCAN_SUFFIX_CR || c->suffix > DEPOT_SCAN_SUFFIX_TIMEOUT)
        return -1;
    if (c->suffix == DEPOT_SCAN_SUFFIX_TIMEOUT &&
        (c->timeout_ms < 1 || c->timeout_ms > DEPOT_SCAN_TIMEOUT_MS_MAX))
        return -1;
    return 0;
}

void depot_scan_framer_init(struct depot_scan_framer *f,
                            const struct depot_scan_framer_config *c)
{
    memset(f, 0, sizeof *f);
    f->cfg = *c;
}

static void reset_frame(struct depot_scan_framer *f)
{
    f->len = 0;
    f->garbage = 0;
    f->overlong = 0;
    f->cr_pending = 0;
}

/* The current frame is complete: deliver it or count why not. */
static void end_frame(struct depot_scan_framer *f, depot_scan_frame_fn fn, void *user)
{
    size_t plen = strlen(f->cfg.prefix);
    if (f->overlong) {
        f->stats.dropped_overlong++;
    } else if (f->garbage) {
        f->stats.dropped_garbage++;
    } else if (f->len > 0) {
        if (f->len < plen || memcmp(f->buf, f->cfg.prefix, plen) != 0) {
            f->stats.dropped_prefix++;
        } else if (f->len > plen) {
            f->buf[f->len] = '\0';
            f->stats.frames++;
            fn(user, f->buf + plen, f->len - plen);
        }
    }
    reset_frame(f);
}

static int in_frame(const struct depot_scan_framer *f)
{
    return f->len > 0 || f->garbage || f->overlong;
}

/* A byte that is part of a frame's data (not a suffix). */
static void add_byte(struct depot_scan_framer *f, unsigned char b)
{
    int bad = (b < 0x20 && b != GS) || b >= 0x7f;
    if (bad && !in_frame(f)) {
        f->stats.noise_bytes++;
        return;
    }
    if (f->overlong)
        return;
    if (bad)
        f->garbage = 1;
    if (f->len >= strlen(f->cfg.prefix) + f->cfg.max_len) {
        f->overlong = 1;
        return;
    }
    f->buf[f->len++] = (char)b;
}

/* A CR or LF: a suffix, part of one, or noise, depending on the mode. Scanners often
 * send CR LF whatever they were told, so CR mode swallows the LF right after its CR and
 * LF mode accepts a CR right before its LF. */
static void line_byte(struct depot_scan_framer *f, unsigned char b, depot_scan_frame_fn fn,
                      void *user)
{
    int swallow_lf = f->swallow_lf;
    f->swallow_lf = 0;
    switch (f->cfg.suffix) {
    case DEPOT_SCAN_SUFFIX_CR:
        if (b == '\r') {
            end_frame(f, fn, user);
            f->swallow_lf = 1;
        } else if (swallow_lf) {
            /* the LF of a CR LF pair */
        } else if (in_frame(f)) {
            f->garbage = 1;
        } else {
            f->stats.noise_bytes++;
        }
        break;
    case DEPOT_SCAN_SUFFIX_LF:
    case DEPOT_SCAN_SUFFIX_CRLF:
        if (b == '\r') {
            if (f->cr_pending)
                f->garbage = 1;
            f->cr_pending = 1;
        } else if (f->cr_pending || f->cfg.suffix == DEPOT_SCAN_SUFFIX_LF) {
            end_frame(f, fn, user);
        } else if (in_frame(f)) {
            f->garbage = 1;
        } else {
            f->stats.noise_bytes++;
        }
        break;
    case DEPOT_SCAN_SUFFIX_TIMEOUT:
        add_byte(f, b);
        break;
    }
}

void depot_scan_framer_feed(struct depot_scan_framer *f, const void *data, size_t n,
                            depot_scan_frame_fn fn, void *user)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = p[i];
        if (b == '\r' || b == '\n') {
            line_byte(f, b, fn, user);
            continue;
        }
        f->swallow_lf = 0;
        if (f->cr_pending) { /* LF or CRLF mode: a CR not followed by LF */
            f->cr_pending = 0;
            f->garbage = 1;
        }
        add_byte(f, b);
    }
}

int depot_scan_framer_pending(const struct depot_scan_framer *f)
{
    return in_frame(f) || f->cr_pending;
}

void depot_scan_framer_flush(struct depot_scan_framer *f, depot_scan_frame_fn fn,
                             void *user)
{
    if (!depot_scan_framer_pending(f))
        return;
    if (f->cfg.suffix != DEPOT_SCAN_SUFFIX_TIMEOUT)
        f->garbage = 1;
    end_frame(f, fn, user);
}
