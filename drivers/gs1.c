/* Parsing one barcode scan: the AIM symbology identifier, then a GS1 element string,
 * an EAN/UPC GTIN, or plain data (see gs1.h for which is which). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "gs1_int.h"

/* Rationale: an element string is read left to right. At each position an AI from the
 * table must start; its value runs to the next FNC1, the end of the data, or (for a
 * fixed-length AI) its length, whichever comes first, so a fixed field cut short by an
 * FNC1 is reported as too short rather than swallowing the separator. One FNC1 after a
 * field is consumed: required after variable-length AIs that do not end the data (and
 * after the fixed-length AIs outside GS1's predefined-length table), tolerated after
 * the others. A leading FNC1 and one FNC1 right before the end are tolerated too, as
 * some scanners send them; two in a row are an error. */

static const struct {
    char id[3];
    enum depot_gs1_symbology sym;
} aim_ids[] = {
    {"C1", DEPOT_GS1_SYM_GS1_128},        {"C0", DEPOT_GS1_SYM_CODE128},
    {"E0", DEPOT_GS1_SYM_EAN13},          {"E4", DEPOT_GS1_SYM_EAN8},
    {"e0", DEPOT_GS1_SYM_GS1_DATABAR},    {"d2", DEPOT_GS1_SYM_GS1_DATAMATRIX},
    {"d1", DEPOT_GS1_SYM_DATAMATRIX},     {"Q3", DEPOT_GS1_SYM_GS1_QR},
    {"Q1", DEPOT_GS1_SYM_QR},
};

const char *depot_gs1_symbology_name(enum depot_gs1_symbology s)
{
    switch (s) {
    case DEPOT_GS1_SYM_NONE: return "none";
    case DEPOT_GS1_SYM_GS1_128: return "gs1-128";
    case DEPOT_GS1_SYM_CODE128: return "code128";
    case DEPOT_GS1_SYM_EAN13: return "ean-13";
    case DEPOT_GS1_SYM_EAN8: return "ean-8";
    case DEPOT_GS1_SYM_GS1_DATABAR: return "gs1-databar";
    case DEPOT_GS1_SYM_GS1_DATAMATRIX: return "gs1-datamatrix";
    case DEPOT_GS1_SYM_DATAMATRIX: return "datamatrix";
    case DEPOT_GS1_SYM_GS1_QR: return "gs1-qr";
    case DEPOT_GS1_SYM_QR: return "qr";
    case DEPOT_GS1_SYM_UNKNOWN: break;
    }
    return "unknown";
}

static int is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static depot_gs1_err fail(struct depot_gs1_scan *out, depot_gs1_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static depot_gs1_err fail(struct depot_gs1_scan *out, depot_gs1_err e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->error, sizeof out->error, fmt, ap);
    va_end(ap);
    return e;
}

/* Strips the AIM identifier `]` + code letter + modifier character, if any. Returns
 * the number of bytes it took (0 or 3), or -1 if a ']' starts no identifier. */
static int strip_aim(const char *buf, size_t len, struct depot_gs1_scan *out)
{
    if (len == 0 || buf[0] != ']')
        return 0;
    if (len < 3 || !is_alpha(buf[1]) || !(is_alpha(buf[2]) || is_digit(buf[2])))
        return -1;
    memcpy(out->aim, buf, 3);
    out->symbology = DEPOT_GS1_SYM_UNKNOWN;
    for (size_t i = 0; i < sizeof aim_ids / sizeof aim_ids[0]; i++)
        if (!memcmp(aim_ids[i].id, buf + 1, 2))
            out->symbology = aim_ids[i].sym;
    return 3;
}

static int is_gs1_symbology(enum depot_gs1_symbology s)
{
    return s == DEPOT_GS1_SYM_GS1_128 || s == DEPOT_GS1_SYM_GS1_DATABAR ||
           s == DEPOT_GS1_SYM_GS1_DATAMATRIX || s == DEPOT_GS1_SYM_GS1_QR;
}

static depot_gs1_err add_field(struct depot_gs1_scan *out, const char *ai, size_t ai_len,
                               const char *v, size_t n, size_t off)
{
    if (out->n_fields == DEPOT_GS1_FIELDS_MAX)
        return fail(out, DEPOT_GS1_E_TOO_LONG, "more than %d fields at offset %zu",
                    DEPOT_GS1_FIELDS_MAX, off);
    struct depot_gs1_field *f = &out->fields[out->n_fields++];
    memcpy(f->ai, ai, ai_len);
    f->ai[ai_len] = '\0';
    memcpy(f->value, v, n);
    f->value[n] = '\0';
    return DEPOT_GS1_OK;
}

/* No AI known at buf[p]: an error naming what is there. */
static depot_gs1_err no_ai(const char *buf, size_t p, size_t end, struct depot_gs1_scan *out)
{
    size_t digits = 0;
    while (p + digits < end && digits < 4 && is_digit(buf[p + digits]))
        digits++;
    if (buf[p] == DEPOT_GS1_FNC1)
        return fail(out, DEPOT_GS1_E_SYNTAX, "unexpected FNC1 at offset %zu", p);
    if (digits < 2)
        return fail(out, DEPOT_GS1_E_SYNTAX, "cannot parse the data at offset %zu as an AI",
                    p);
    return fail(out, DEPOT_GS1_E_UNKNOWN_AI, "unknown AI at offset %zu (\"%.*s...\")", p,
                (int)digits, buf + p);
}

/* Parses the element string buf[p..end) into out->fields. */
static depot_gs1_err parse_element_string(const char *buf, size_t p, size_t end,
                                          struct depot_gs1_scan *out)
{
    if (p < end && buf[p] == DEPOT_GS1_FNC1)
        p++;
    if (p == end)
        return fail(out, DEPOT_GS1_E_EMPTY, "no element string after offset %zu", p);
    while (p < end) {
        const struct gs1__ai *ai = gs1__ai_find(buf + p, end - p);
        if (!ai)
            return no_ai(buf, p, end, out);
        size_t ai_len = strlen(ai->lo), v = p + ai_len, max = gs1__ai_max(ai), n = 0;
        size_t limit = gs1__ai_min(ai) == max ? max : end - v;
        char name[5];
        memcpy(name, buf + p, ai_len);
        name[ai_len] = '\0';
        while (n < limit && v + n < end && buf[v + n] != DEPOT_GS1_FNC1)
            n++;
        depot_gs1_err e = gs1__ai_check(ai, name, buf + v, n, v, out->error,
                                        sizeof out->error);
        if (e == DEPOT_GS1_OK)
            e = add_field(out, name, ai_len, buf + v, n, p);
        if (e != DEPOT_GS1_OK)
            return e;
        p = v + n;
        if (p < end && buf[p] == DEPOT_GS1_FNC1)
            p++;
        else if (p < end && ai->sep)
            return fail(out, DEPOT_GS1_E_SYNTAX, "AI (%s) needs an FNC1 after it at offset %zu",
                        name, p);
    }
    return DEPOT_GS1_OK;
}

/* ]E0 / ]E4: 13 or 8 digits with a check digit, as the GTIN-14 in AI (01). */
static depot_gs1_err parse_ean(const char *d, size_t n, size_t off, size_t want,
                               struct depot_gs1_scan *out)
{
    static const char zeros[] = "000000";
    char gtin[15];
    if (n != want)
        return fail(out, DEPOT_GS1_E_LENGTH, "%s data at offset %zu has %zu characters, "
                    "needs %zu digits", depot_gs1_symbology_name(out->symbology), off, n,
                    want);
    for (size_t i = 0; i < n; i++)
        if (!is_digit(d[i]))
            return fail(out, DEPOT_GS1_E_CHARSET, "non-digit character 0x%02X at offset %zu",
                        (unsigned char)d[i], off + i);
    if (!depot_gs1_check_digit_ok(d, n))
        return fail(out, DEPOT_GS1_E_CHECK_DIGIT, "wrong check digit '%c' at offset %zu",
                    d[n - 1], off + n - 1);
    memcpy(gtin, zeros, 14 - n);
    memcpy(gtin + 14 - n, d, n);
    return add_field(out, "01", 2, gtin, 14, off);
}

depot_gs1_err depot_gs1_parse(const char *buf, size_t len, struct depot_gs1_scan *out)
{
    memset(out, 0, sizeof *out);
    if (len == 0)
        return fail(out, DEPOT_GS1_E_EMPTY, "empty scan");
    if (len > DEPOT_GS1_INPUT_MAX)
        return fail(out, DEPOT_GS1_E_TOO_LONG, "scan of %zu bytes, at most %d allowed", len,
                    DEPOT_GS1_INPUT_MAX);
    const char *nul = memchr(buf, '\0', len);
    if (nul)
        return fail(out, DEPOT_GS1_E_NUL, "NUL byte at offset %zu", (size_t)(nul - buf));
    int start = strip_aim(buf, len, out);
    if (start < 0)
        return fail(out, DEPOT_GS1_E_AIM, "malformed AIM symbology identifier at offset 0");
    size_t p = (size_t)start;
    if (p == len)
        return fail(out, DEPOT_GS1_E_EMPTY, "no data after the symbology identifier");
    if (is_gs1_symbology(out->symbology) ||
        (out->symbology == DEPOT_GS1_SYM_NONE && buf[p] == DEPOT_GS1_FNC1))
        return parse_element_string(buf, p, len, out);
    if (out->symbology == DEPOT_GS1_SYM_EAN13)
        return parse_ean(buf + p, len - p, p, 13, out);
    if (out->symbology == DEPOT_GS1_SYM_EAN8)
        return parse_ean(buf + p, len - p, p, 8, out);
    out->plain = 1;
    memcpy(out->data, buf + p, len - p);
    return DEPOT_GS1_OK;
}
