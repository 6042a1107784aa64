/* Scan framing: cuts the byte stream of a serial barcode scanner into one frame per
 * barcode (pure code, no I/O, no clock: the caller feeds bytes as they are read and, in
 * timeout mode, calls depot_scan_framer_flush when the line has been quiet long enough).
 *
 * A frame ends with the configured suffix: CR, LF, CR LF, or (timeout mode) a gap
 * between bytes. As scanners often send CR LF whatever they were told, CR mode also
 * swallows the LF right after its CR, and LF mode accepts a CR right before its LF.
 * Reads may split a frame anywhere (even between CR and LF) or carry several frames;
 * frames come out the same. What is dropped, and counted:
 *  - noise: control bytes (NUL, ...) and a stray LF between frames (bytes, not frames);
 *  - garbage: a frame holding a control byte other than GS (FNC1), or a byte >= 0x80
 *    (barcode data is ASCII), or, in LF and CRLF mode, a CR without its LF;
 *  - over-long: a frame longer than max_len (dropped up to its suffix, whatever it holds);
 *  - no prefix: with a prefix configured, a frame that does not start with it.
 * The prefix is removed from frames that have it. */
#ifndef DEPOT_SCAN_FRAMER_H
#define DEPOT_SCAN_FRAMER_H

#include <stddef.h>
#include <stdint.h>

#define DEPOT_SCAN_FRAME_MAX 1024 /* upper bound of max_len */
#define DEPOT_SCAN_PREFIX_MAX 16  /* longest prefix */
#define DEPOT_SCAN_TIMEOUT_MS_MAX 10000

enum depot_scan_suffix {
    DEPOT_SCAN_SUFFIX_CR = 0,
    DEPOT_SCAN_SUFFIX_LF,
    DEPOT_SCAN_SUFFIX_CRLF,
    DEPOT_SCAN_SUFFIX_TIMEOUT,
};

struct depot_scan_framer_config {
    enum depot_scan_suffix suffix;
    int timeout_ms;                         /* timeout mode: the gap that ends a frame */
    char prefix[DEPOT_SCAN_PREFIX_MAX + 1]; /* "" for none; printable ASCII */
    size_t max_len;                         /* 1..DEPOT_SCAN_FRAME_MAX, without prefix */
};

struct depot_scan_framer_stats {
    uint64_t frames;           /* frames delivered */
    uint64_t noise_bytes;      /* noise bytes between frames */
    uint64_t dropped_garbage;  /* frames dropped for bad bytes */
    uint64_t dropped_overlong; /* frames dropped for length */
    uint64_t dropped_prefix;   /* frames dropped for a missing prefix */
};

struct depot_scan_framer {
    struct depot_scan_framer_config cfg;
    struct depot_scan_framer_stats stats;
    char buf[DEPOT_SCAN_PREFIX_MAX + DEPOT_SCAN_FRAME_MAX + 1];
    size_t len;     /* bytes of the current frame in buf */
    int garbage;    /* the current frame holds a bad byte */
    int overlong;   /* the current frame is past max_len: discarding to its end */
    int cr_pending; /* LF/CRLF mode: a CR was the last byte */
    int swallow_lf; /* CR mode: a CR just ended a frame, an LF now is its pair */
};

/* Called once per frame: the frame's bytes without prefix and suffix, NUL-terminated
 * (len excludes the NUL; frames never contain NUL). The pointer is valid during the
 * call only. */
typedef void (*depot_scan_frame_fn)(void *user, const char *frame, size_t len);

/* Defaults: CR suffix, 50 ms timeout (used only in timeout mode), no prefix, 512. */
void depot_scan_framer_config_default(struct depot_scan_framer_config *c);

/* "cr" | "lf" | "crlf" | "timeout:MS" (MS 1..DEPOT_SCAN_TIMEOUT_MS_MAX). Sets suffix
 * and timeout_ms; returns 0, or -1 if the text is not one of these. */
int depot_scan_suffix_parse(const char *text, struct depot_scan_framer_config *c);
/* The same form back ("timeout:50"), into buf; returns buf. */
char *depot_scan_suffix_format(const struct depot_scan_framer_config *c, char *buf,
                               size_t len);

/* Checks prefix (printable ASCII, at most DEPOT_SCAN_PREFIX_MAX), max_len and
 * timeout_ms; 0 or -1. */
int depot_scan_framer_config_valid(const struct depot_scan_framer_config *c);

/* Starts a framer with a valid config (counters zero, nothing buffered). */
void depot_scan_framer_init(struct depot_scan_framer *f,
                            const struct depot_scan_framer_config *c);

/* Feeds n bytes as read from the port, calling fn for every frame they complete. */
void depot_scan_framer_feed(struct depot_scan_framer *f, const void *data, size_t n,
                            depot_scan_frame_fn fn, void *user);

/* 1 if part of a frame is buffered (a timeout-mode caller arms its timer then). */
int depot_scan_framer_pending(const struct depot_scan_framer *f);

/* The line went quiet: in timeout mode, ends the buffered frame (delivering or dropping
 * it); in suffix modes, drops a partial frame without a suffix as garbage. Also call it
 * when the port goes away. */
void depot_scan_framer_flush(struct depot_scan_framer *f, depot_scan_frame_fn fn,
                             void *user);

#endif
