/* The GS1 Application Identifiers Depot knows, and validation of their values. */
#include <stdio.h>
#include <string.h>
#include "gs1_int.h"

/* Rationale: the rows follow GS1's Barcode Syntax Dictionary (gs1/gs1-syntax-engine,
 * gs1-syntax-dictionary.txt): "N14,csum" is {'N',14,14,CSUM}, "X..20" is {'X',1,20},
 * and sep is 0 exactly for the entries marked "*" there (GS1's predefined-length AIs,
 * after which no FNC1 is needed). Every date AI here is "N6,yymmd0" (DD 00 allowed)
 * except 7006, FIRST FREEZE DATE, which is "N6,yymmdd". The AIs are prefix-free, so at
 * most one row matches the digits at any position. */

#define N(len, lint) {'N', len, len, lint}
#define X_UPTO(len) {'X', 1, len, GS1__LINT_NONE}
#define N_UPTO(len) {'N', 1, len, GS1__LINT_NONE}
#define NONE {0, 0, 0, GS1__LINT_NONE}

static const struct gs1__ai table[] = {
    {"00", "00", 0, {N(18, GS1__LINT_CSUM), NONE}},     /* SSCC */
    {"01", "01", 0, {N(14, GS1__LINT_CSUM), NONE}},     /* GTIN */
    {"02", "02", 0, {N(14, GS1__LINT_CSUM), NONE}},     /* CONTENT */
    {"10", "10", 1, {X_UPTO(20), NONE}},                /* BATCH/LOT */
    {"11", "13", 0, {N(6, GS1__LINT_YYMMD0), NONE}},    /* PROD, DUE, PACK DATE */
    {"15", "17", 0, {N(6, GS1__LINT_YYMMD0), NONE}},    /* BEST BEFORE, SELL BY, USE BY */
    {"20", "20", 0, {N(2, GS1__LINT_NONE), NONE}},      /* VARIANT */
    {"21", "22", 1, {X_UPTO(20), NONE}},                /* SERIAL, CPV */
    {"30", "30", 1, {N_UPTO(8), NONE}},                 /* VAR. COUNT */
    {"3100", "3165", 0, {N(6, GS1__LINT_NONE), NONE}},  /* metric trade measures */
    {"3200", "3295", 0, {N(6, GS1__LINT_NONE), NONE}},  /* imperial trade measures */
    {"3300", "3365", 0, {N(6, GS1__LINT_NONE), NONE}},  /* metric logistic measures */
    {"3370", "3375", 0, {N(6, GS1__LINT_NONE), NONE}},  /* KG PER m² */
    {"3400", "3495", 0, {N(6, GS1__LINT_NONE), NONE}},  /* imperial logistic measures */
    {"3500", "3575", 0, {N(6, GS1__LINT_NONE), NONE}},  /* areas, net weight/volume */
    {"3600", "3695", 0, {N(6, GS1__LINT_NONE), NONE}},  /* volumes */
    {"37", "37", 1, {N_UPTO(8), NONE}},                 /* COUNT */
    {"400", "401", 1, {X_UPTO(30), NONE}},              /* ORDER NUMBER, GINC */
    {"402", "402", 1, {N(17, GS1__LINT_CSUM), NONE}},   /* GSIN */
    {"403", "403", 1, {X_UPTO(30), NONE}},              /* ROUTE */
    {"410", "417", 0, {N(13, GS1__LINT_CSUM), NONE}},   /* GLNs: SHIP TO LOC ... PARTY */
    {"420", "420", 1, {X_UPTO(20), NONE}},              /* SHIP TO POST */
    {"421", "421", 1, {N(3, GS1__LINT_NONE), X_UPTO(9)}}, /* SHIP TO POST + country */
    {"422", "422", 1, {N(3, GS1__LINT_NONE), NONE}},    /* ORIGIN (country) */
    {"7006", "7006", 1, {N(6, GS1__LINT_YYMMDD), NONE}}, /* FIRST FREEZE DATE */
};

/* GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1). */
static const char cset82[] = "!\"%&'()*+,-./0123456789:;<=>?"
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

static int matches(const struct gs1__ai *ai, const char *p, size_t n)
{
    size_t len = strlen(ai->lo);
    if (n < len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (p[i] < ai->lo[i] || p[i] > ai->hi[i])
            return 0;
    return 1;
}

const struct gs1__ai *gs1__ai_find(const char *p, size_t n)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (matches(&table[i], p, n))
            return &table[i];
    return NULL;
}

size_t gs1__ai_min(const struct gs1__ai *ai)
{
    return (size_t)ai->parts[0].min + ai->parts[1].min;
}

size_t gs1__ai_max(const struct gs1__ai *ai)
{
    return (size_t)ai->parts[0].max + ai->parts[1].max;
}

int depot_gs1_check_digit_ok(const char *digits, size_t len)
{
    if (len < 2)
        return 0;
    unsigned sum = 0;
    for (size_t i = 0; i < len; i++) {
        if (digits[i] < '0' || digits[i] > '9')
            return 0;
        /* weights 3,1,3,... from the digit left of the check digit */
        if (i < len - 1)
            sum += (unsigned)(digits[i] - '0') * (((len - 1 - i) % 2) ? 3u : 1u);
    }
    return (unsigned)(digits[len - 1] - '0') == (10 - sum % 10) % 10;
}

static int two(const char *p)
{
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/* Rationale: GS1 maps YY into a window around the current year (General Specifications
 * 7.12), which until 2050 holds no century year but 2000, a leap year; so a YY divisible
 * by 4 is a leap year, and the check stays a pure function of its input. */
static int date_ok(const char *p, int day_zero_ok)
{
    static const int days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int yy = two(p), mm = two(p + 2), dd = two(p + 4);
    if (mm < 1 || mm > 12)
        return 0;
    if (dd == 0)
        return day_zero_ok;
    if (mm == 2 && yy % 4 != 0)
        return dd <= 28;
    return dd <= days[mm - 1];
}

static int in_cset(char cset, char c)
{
    if (cset == 'N')
        return c >= '0' && c <= '9';
    return c != '\0' && strchr(cset82, c) != NULL;
}

/* Checks one component v[0..n) at offset off. */
static depot_gs1_err check_part(const struct gs1__part *pt, const char *name, const char *v,
                                size_t n, size_t off, char *why, size_t why_len)
{
    for (size_t i = 0; i < n; i++) {
        if (!in_cset(pt->cset, v[i])) {
            snprintf(why, why_len, "AI (%s): %s character 0x%02X at offset %zu", name,
                     pt->cset == 'N' ? "non-digit" : "disallowed", (unsigned char)v[i],
                     off + i);
            return DEPOT_GS1_E_CHARSET;
        }
    }
    switch (pt->lint) {
    case GS1__LINT_CSUM:
        if (!depot_gs1_check_digit_ok(v, n)) {
            snprintf(why, why_len, "AI (%s): wrong check digit '%c' at offset %zu", name,
                     v[n - 1], off + n - 1);
            return DEPOT_GS1_E_CHECK_DIGIT;
        }
        break;
    case GS1__LINT_YYMMD0:
    case GS1__LINT_YYMMDD:
        if (!date_ok(v, pt->lint == GS1__LINT_YYMMD0)) {
            snprintf(why, why_len, "AI (%s): %.6s at offset %zu is not a valid YYMMDD date",
                     name, v, off);
            return DEPOT_GS1_E_DATE;
        }
        break;
    case GS1__LINT_NONE:
        break;
    }
    return DEPOT_GS1_OK;
}

depot_gs1_err gs1__ai_check(const struct gs1__ai *ai, const char *name, const char *v,
                            size_t n, size_t off, char *why, size_t why_len)
{
    size_t min = gs1__ai_min(ai), max = gs1__ai_max(ai);
    if (n < min || n > max) {
        if (min == max)
            snprintf(why, why_len, "AI (%s) at offset %zu: value has %zu characters, "
                     "needs %zu", name, off, n, max);
        else
            snprintf(why, why_len, "AI (%s) at offset %zu: value has %zu characters, "
                     "needs %zu to %zu", name, off, n, min, max);
        return DEPOT_GS1_E_LENGTH;
    }
    size_t first = ai->parts[1].max ? ai->parts[0].max : n;
    depot_gs1_err e = check_part(&ai->parts[0], name, v, first, off, why, why_len);
    if (e == DEPOT_GS1_OK && first < n)
        e = check_part(&ai->parts[1], name, v + first, n - first, off + first, why, why_len);
    return e;
}
