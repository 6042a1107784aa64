/* Private to drivers/gs1*.c: the Application Identifier table and value validation. */
#ifndef DEPOT_GS1_INT_H
#define DEPOT_GS1_INT_H

#include <stddef.h>
#include "gs1.h"

enum gs1__lint {
    GS1__LINT_NONE,
    GS1__LINT_CSUM,   /* GS1 mod-10 check digit in the last position */
    GS1__LINT_YYMMD0, /* YYMMDD date, DD may be 00 (meaning the end of the month) */
    GS1__LINT_YYMMDD, /* YYMMDD date, DD 01..last day of the month */
};

/* One component of an AI's value: 'N' numeric or 'X' (GS1 character set 82), length
 * min..max (equal for a fixed length), and a content check. */
struct gs1__part {
    char cset;
    unsigned char min, max;
    enum gs1__lint lint;
};

/* One AI or range of AIs. lo and hi have the same length (the AI's length) and are
 * compared digit by digit: "3100".."3165" is 310n..316n with n 0..5. sep is 1 when
 * GS1 requires FNC1 after the field unless it ends the data (every AI outside GS1's
 * table of predefined lengths). parts[1].max is 0 when the value has one component;
 * only the last component may have a variable length. */
struct gs1__ai {
    const char *lo, *hi;
    unsigned char sep;
    struct gs1__part parts[2];
};

/* The table row of the AI at p[0..n), or NULL if no known AI starts there. */
const struct gs1__ai *gs1__ai_find(const char *p, size_t n);

/* Shortest and longest value of an AI (all components). */
size_t gs1__ai_min(const struct gs1__ai *ai);
size_t gs1__ai_max(const struct gs1__ai *ai);

/* Checks value v[0..n) of AI ai (named name) whose first byte is at offset off of the
 * scan: length, character sets, check digit, date. Returns DEPOT_GS1_OK or the error
 * with the reason in why. */
depot_gs1_err gs1__ai_check(const struct gs1__ai *ai, const char *name, const char *v,
                            size_t n, size_t off, char *why, size_t why_len);

#endif
