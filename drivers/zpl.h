/* ZPL II label building: pure functions that write a complete label format (^XA ... ^XZ)
 * for a SKU, a bin, an SSCC (GS1-128) or an order/tote (QR) into a growable buffer.
 *
 * Every caller-supplied string goes out as ^FH field data with ^, ~, _ and control bytes
 * as _XX hex, so no input can end a field or start a ZPL command. Text is UTF-8 (^CI28).
 * Barcode data must be printable ASCII (Code 128 subset B) without ^, > or ~. */
#ifndef DEPOT_ZPL_H
#define DEPOT_ZPL_H

#include <stddef.h>

#define DEPOT_ZPL_CODE_MAX 64   /* SKU, bin and order codes: 1..64 bytes */
#define DEPOT_ZPL_TEXT_MAX 200  /* names and titles: 1..200 bytes of UTF-8 */

/* A growable output buffer; start it zeroed, free it with depot_zpl_buf_free.
 * data is NUL-terminated after every successful build. */
struct depot_zpl_buf {
    char *data;
    size_t len;
    size_t cap;
};
void depot_zpl_buf_free(struct depot_zpl_buf *b);

enum depot_zpl_stock {
    DEPOT_ZPL_STOCK_4X6, /* 4 in wide, 6 in long: shipping labels */
    DEPOT_ZPL_STOCK_2X1, /* 2 in wide, 1 in long: SKU and bin labels */
};

struct depot_zpl_media {
    enum depot_zpl_stock stock;
    int dpi; /* 203 or 300 */
};

/* "4x6" or "2x1" into *out; 0, or -1 if unknown. */
int depot_zpl_stock_parse(const char *s, enum depot_zpl_stock *out);
/* Label width and length in dots (inches x dpi): what ^PW and ^LL get. 0 and -1 on an
 * unsupported stock or dpi. */
int depot_zpl_media_dots(const struct depot_zpl_media *m, int *width, int *length);

/* The builders append one label to out (which may already hold labels). They return 0,
 * or -1 with a one-line reason in err (out is then unchanged): bad media, a missing,
 * over-long or unencodable value, a barcode too wide for the stock, or no memory. */

/* Code 128 of the SKU code, the name, and "GTIN <gtin>" when gtin is not NULL
 * (8, 12, 13 or 14 digits). */
int depot_zpl_sku_label(struct depot_zpl_buf *out, const struct depot_zpl_media *m,
                        const char *sku, const char *name, const char *gtin,
                        char *err, size_t errlen);
/* Code 128 of the bin code with the code in large text. */
int depot_zpl_bin_label(struct depot_zpl_buf *out, const struct depot_zpl_media *m,
                        const char *bin, char *err, size_t errlen);
/* GS1-128 logistics label: (00) + the 18-digit SSCC (check digit verified) as
 * start C + FNC1, and "(00) <sscc>" below. */
int depot_zpl_sscc_label(struct depot_zpl_buf *out, const struct depot_zpl_media *m,
                         const char *sscc, char *err, size_t errlen);
/* Order/tote label: a QR code of ref with ref and title (may be NULL) as text. */
int depot_zpl_tote_label(struct depot_zpl_buf *out, const struct depot_zpl_media *m,
                         const char *ref, const char *title, char *err, size_t errlen);

/* 1 if s is 18 digits whose last is the GS1 check digit of the first 17. */
int depot_zpl_sscc_valid(const char *s);

#endif
