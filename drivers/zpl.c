/* ZPL II label builders: layout per stock and dpi, field escaping, barcode fitting. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gs1.h"
#include "zpl.h"

/* Rationale: positions are given in hundredths of an inch and turned into dots for the
 * label's dpi, so one layout serves 203 and 300 dpi. A Code 128 symbol in subset B is
 * 11 modules per character plus 35 (start, check, stop); subset C packs two digits per
 * character. The module width is the preferred X-dimension for the dpi, narrowed until
 * the symbol and its 10-module quiet zones fit the label, else the value is refused. */

#define QUIET_MODULES 10
#define QR_MAX_MODULES 41 /* version 6: holds 64 bytes at error correction Q */

/* ---- Buffer ----------------------------------------------------------------------- */

void depot_zpl_buf_free(struct depot_zpl_buf *b)
{
    free(b->data);
    *b = (struct depot_zpl_buf){0};
}

static int buf_reserve(struct depot_zpl_buf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

static int put(struct depot_zpl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int put(struct depot_zpl_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || buf_reserve(b, (size_t)n) != 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

/* Field data for ^FH: ^ and ~ (command prefixes), _ (the hex indicator) and control
 * bytes become _XX; everything else, UTF-8 included, goes out as it is. */
static int put_field(struct depot_zpl_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int rc = (*p == '^' || *p == '~' || *p == '_' || *p < 0x20 || *p == 0x7f)
                     ? put(b, "_%02X", *p)
                     : put(b, "%c", *p);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* ---- Validation ------------------------------------------------------------------- */

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int valid_utf8(const unsigned char *s)
{
    while (*s) {
        int n = *s < 0x80 ? 0 : (*s & 0xe0) == 0xc0 ? 1 : (*s & 0xf0) == 0xe0 ? 2
                : (*s & 0xf8) == 0xf0 ? 3 : -1;
        if (n < 0 || (n == 1 && *s < 0xc2) || (n == 3 && *s > 0xf4))
            return 0;
        for (s++; n > 0; n--, s++)
            if ((*s & 0xc0) != 0x80)
                return 0;
    }
    return 1;
}

/* A value for Code 128 subset B: 1..max printable ASCII bytes without the ^ > ~ that
 * ^BC would read as invocation codes or commands. */
static int check_code(const char *what, const char *s, size_t max, char *err, size_t errlen)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return fail(err, errlen, "%s must be 1..%zu characters", what, max);
    for (const char *p = s; *p; p++)
        if (*p < 0x20 || *p > 0x7e || strchr("^>~", *p))
            return fail(err, errlen, "%s: character 0x%02X cannot go in a Code 128 label",
                        what, (unsigned char)*p);
    return 0;
}

static int check_text(const char *what, const char *s, char *err, size_t errlen)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > DEPOT_ZPL_TEXT_MAX)
        return fail(err, errlen, "%s must be 1..%d bytes", what, DEPOT_ZPL_TEXT_MAX);
    if (!valid_utf8((const unsigned char *)s))
        return fail(err, errlen, "%s is not valid UTF-8", what);
    return 0;
}

int depot_zpl_sscc_valid(const char *s)
{
    return s && strlen(s) == 18 && depot_gs1_check_digit_ok(s, 18);
}

static int gtin_valid(const char *s)
{
    size_t n = strlen(s);
    return (n == 8 || n == 12 || n == 13 || n == 14) && depot_gs1_check_digit_ok(s, n);
}

/* ---- Media ------------------------------------------------------------------------ */

int depot_zpl_stock_parse(const char *s, enum depot_zpl_stock *out)
{
    if (!strcmp(s, "4x6"))
        *out = DEPOT_ZPL_STOCK_4X6;
    else if (!strcmp(s, "2x1"))
        *out = DEPOT_ZPL_STOCK_2X1;
    else
        return -1;
    return 0;
}

int depot_zpl_media_dots(const struct depot_zpl_media *m, int *width, int *length)
{
    if (m->dpi != 203 && m->dpi != 300)
        return -1;
    switch (m->stock) {
    case DEPOT_ZPL_STOCK_4X6:
        *width = 4 * m->dpi;
        *length = 6 * m->dpi;
        return 0;
    case DEPOT_ZPL_STOCK_2X1:
        *width = 2 * m->dpi;
        *length = m->dpi;
        return 0;
    }
    return -1;
}

/* One label in the making: the output, where it started, and the label's geometry. */
struct label {
    struct depot_zpl_buf *b;
    size_t start;
    int dpi, width, length;
    int big;       /* 4x6 rather than 2x1 */
    int width_h;   /* label width in hundredths of an inch */
    int failed;
};

/* Hundredths of an inch to dots. */
static int dots(const struct label *l, int hundredths)
{
    return hundredths * l->dpi / 100;
}

static int begin(struct label *l, struct depot_zpl_buf *b, const struct depot_zpl_media *m,
                 char *err, size_t errlen)
{
    *l = (struct label){.b = b, .start = b->len, .dpi = m->dpi};
    if (depot_zpl_media_dots(m, &l->width, &l->length) != 0)
        return fail(err, errlen, "unsupported label media (stock 4x6 or 2x1, 203 or 300 dpi)");
    l->big = m->stock == DEPOT_ZPL_STOCK_4X6;
    l->width_h = l->big ? 400 : 200;
    l->failed = put(b, "^XA\n^CI28\n^PW%d\n^LL%d\n^LH0,0\n", l->width, l->length) != 0;
    return 0;
}

/* Puts the buffer back as it was before the label. */
static void abandon(struct label *l)
{
    l->b->len = l->start;
    if (l->b->data)
        l->b->data[l->start] = '\0';
}

/* Closes the format, or on any failure abandons it. */
static int end(struct label *l, char *err, size_t errlen)
{
    if (!l->failed)
        l->failed = put(l->b, "^XZ\n") != 0;
    if (!l->failed)
        return 0;
    abandon(l);
    return fail(err, errlen, "out of memory building the label");
}

/* Text at (x, y) in a block w wide (hundredths; 0: the label's width less x on both
 * sides), font height h, at most lines lines, centred when centre is set. */
static void text(struct label *l, int x, int y, int w, int h, int lines, int centre,
                 const char *s)
{
    if (l->failed)
        return;
    w = dots(l, w ? w : l->width_h - 2 * x);
    l->failed = put(l->b, "^FO%d,%d^A0N,%d,%d^FB%d,%d,0,%c,0^FH^FD", dots(l, x), dots(l, y),
                    dots(l, h), dots(l, h), w, lines, centre ? 'C' : 'L') != 0 ||
                put_field(l->b, s) != 0 || put(l->b, "^FS\n") != 0;
}

/* The module width (dots) for a symbol of `modules` modules: the preferred
 * X-dimension (thousandths of an inch) narrowed to fit the label; 0 if even one dot per
 * module is too wide. */
static int fit_module(const struct label *l, int modules, int pref_mils)
{
    int avail = l->width - 2 * dots(l, 5);
    int w = (pref_mils * l->dpi + 500) / 1000;
    for (; w >= 1; w--)
        if ((modules + 2 * QUIET_MODULES) * w <= avail)
            return w;
    return 0;
}

/* A Code 128 symbol, centred, at y with height h (hundredths); data is ^BC field data
 * of `modules` modules. */
static void code128(struct label *l, int y, int h, int module, int modules, const char *prefix,
                    const char *data)
{
    if (l->failed)
        return;
    int x = (l->width - modules * module) / 2;
    l->failed = put(l->b, "^BY%d,2.5,%d^FO%d,%d^BCN,%d,N,N,N,N^FH^FD%s", module, dots(l, h), x,
                    dots(l, y), dots(l, h), prefix) != 0 ||
                put_field(l->b, data) != 0 || put(l->b, "^FS\n") != 0;
}

/* Modules of a subset B symbol of n characters. */
static int code128b_modules(size_t n)
{
    return 11 * (int)n + 35;
}

/* Abandons a label whose barcode cannot fit. */
static int too_wide(struct label *l, const char *what, char *err, size_t errlen)
{
    abandon(l);
    return fail(err, errlen, "%s is too long for a barcode on this label stock", what);
}

/* ---- Labels ----------------------------------------------------------------------- */

int depot_zpl_sku_label(struct depot_zpl_buf *out, const struct depot_zpl_media *m,
                        const char *sku, const char *name, const char *gtin,
                        char *err, size_t errlen)
{
    struct label l;
    char gtin_text[24];
    if (check_code("SKU", sku, DEPOT_ZPL_CODE_MAX, err, errlen) != 0 ||
        check_text("name", name, err, errlen) != 0)
        return -1;
    if (gtin && !gtin_valid(gtin))
        return fail(err, errlen, "GTIN must be 8, 12, 13 or 14 digits with a valid check digit");
    if (begin(&l, out, m, err, errlen) != 0)
        return -1;
    int modules = code128b_modules(strlen(sku));
    int module = fit_module(&l, modules, 10);
    if (module == 0)
        return too_wide(&l, "SKU", err, errlen);
    if (gtin)
        snprintf(gtin_text, sizeof gtin_text, "GTIN %s", gtin);
    if (l.big) {
        text(&l, 15, 30, 0, 50, 1, 0, sku);
        text(&l, 15, 100, 0, 30, 3, 0, name);
        code128(&l, 230, 120, module, modules, "", sku);
        if (gtin)
            text(&l, 15, 400, 0, 30, 1, 0, gtin_text);
    } else {
        code128(&l, 6, 40, module, modules, "", sku);
        text(&l, 5, 50, 0, 14, 1, 1, sku);
        text(&l, 5, 66, 0, 12, 1, 1, name);
        if (gtin)
            text(&l, 5, 82, 0, 11, 1, 1, gtin_text);
    }
    return end(&l, err, errlen);
}

int depot_zpl_bin_label(struct depot_zpl_buf *out, const struct depot_zpl_media *m,
                        const char *bin, char *err, size_t errlen)
{
    struct label l;
    if (check_code("bin", bin, DEPOT_ZPL_CODE_MAX, err, errlen) != 0 ||
        begin(&l, out, m, err, errlen) != 0)
        return -1;
    int modules = code128b_modules(strlen(bin));
    int module = fit_module(&l, modules, 10);
    if (module == 0)
        return too_wide(&l, "bin", err, errlen);
    if (l.big) {
        text(&l, 15, 60, 0, 120, 2, 1, bin);
        code128(&l, 340, 150, module, modules, "", bin);
    } else {
        text(&l, 5, 5, 0, 36, 1, 1, bin);
        code128(&l, 45, 45, module, modules, "", bin);
    }
    return end(&l, err, errlen);
}

int depot_zpl_sscc_label(struct depot_zpl_buf *out, const struct depot_zpl_media *m,
                         const char *sscc, char *err, size_t errlen)
{
    struct label l;
    char data[24], human[32];
    if (!sscc || strlen(sscc) != 18 || strspn(sscc, "0123456789") != 18)
        return fail(err, errlen, "SSCC must be 18 digits");
    if (!depot_zpl_sscc_valid(sscc))
        return fail(err, errlen, "SSCC %s has a wrong check digit", sscc);
    if (begin(&l, out, m, err, errlen) != 0)
        return -1;
    /* Start C, FNC1, ten digit pairs ("00" + 18 digits), check, stop. */
    int modules = 11 + 11 + 10 * 11 + 11 + 13;
    int module = fit_module(&l, modules, 20); /* >= 2 dots on every supported stock */
    snprintf(data, sizeof data, "00%s", sscc);
    snprintf(human, sizeof human, "(00) %s", sscc);
    if (l.big) {
        text(&l, 15, 30, 0, 30, 1, 0, "SSCC");
        code128(&l, 80, 140, module, modules, ">;>8", data);
        text(&l, 15, 235, 0, 26, 1, 1, human);
    } else {
        code128(&l, 6, 60, module, modules, ">;>8", data);
        text(&l, 5, 72, 0, 13, 1, 1, human);
    }
    return end(&l, err, errlen);
}

int depot_zpl_tote_label(struct depot_zpl_buf *out, const struct depot_zpl_media *m,
                         const char *ref, const char *title, char *err, size_t errlen)
{
    struct label l;
    if (check_text("reference", ref, err, errlen) != 0 ||
        (title && check_text("title", title, err, errlen) != 0))
        return -1;
    if (strlen(ref) > DEPOT_ZPL_CODE_MAX)
        return fail(err, errlen, "reference must be 1..%d bytes", DEPOT_ZPL_CODE_MAX);
    if (begin(&l, out, m, err, errlen) != 0)
        return -1;
    int side = l.big ? dots(&l, 250) : dots(&l, 80);
    int mag = side / QR_MAX_MODULES;
    mag = mag > 10 ? 10 : mag < 1 ? 1 : mag;
    int qx = l.big ? (l.width - mag * QR_MAX_MODULES) / 2 : dots(&l, 5);
    if (!l.failed)
        l.failed = put(l.b, "^FO%d,%d^BQN,2,%d^FH^FDQA,", qx, dots(&l, l.big ? 40 : 5), mag) != 0 ||
                   put_field(l.b, ref) != 0 || put(l.b, "^FS\n") != 0;
    if (l.big) {
        text(&l, 15, 340, 0, 60, 1, 1, ref);
        if (title)
            text(&l, 15, 420, 0, 30, 3, 1, title);
    } else {
        text(&l, 95, 15, 100, 20, 2, 0, ref);
        if (title)
            text(&l, 95, 60, 100, 12, 2, 0, title);
    }
    return end(&l, err, errlen);
}
