/* Barcode scan parsing: the AIM symbology identifier and GS1 element strings (pure
 * functions, no I/O, never reading past the given length).
 *
 * A scan is the raw bytes a scanner sends for one barcode, without the frame suffix:
 * an optional AIM identifier (`]C1`, `]E0`, ...), then the data, with FNC1 as GS (0x1D).
 *
 * What a scan becomes:
 *  - GS1 symbologies (`]C1` GS1-128, `]e0` DataBar, `]d2` GS1 DataMatrix, `]Q3` GS1 QR),
 *    and data without an AIM identifier that starts with FNC1: a GS1 element string,
 *    parsed into (AI, value) fields and validated (lengths, character sets, check digits,
 *    dates).
 *  - `]E0` EAN-13/UPC-A and `]E4` EAN-8: 13 or 8 digits with a valid check digit, given
 *    as one field (01) holding the GTIN-14 (zero-padded on the left), since that is the
 *    GTIN the barcode carries.
 *  - Everything else (`]C0` Code 128, `]d1` DataMatrix, `]Q1` QR, any other well-formed
 *    `]Xn`, or no identifier): plain data, no fields, passed on as it is. */
#ifndef DEPOT_GS1_H
#define DEPOT_GS1_H

#include <stddef.h>

#define DEPOT_GS1_INPUT_MAX 512  /* longest scan accepted, AIM identifier included */
#define DEPOT_GS1_FIELDS_MAX 64  /* most AI fields in one element string */
#define DEPOT_GS1_VALUE_MAX 30   /* longest value of any AI this parser knows */
#define DEPOT_GS1_FNC1 '\x1d'    /* FNC1 as scanners transmit it (ASCII GS) */

/* Outcome of depot_gs1_parse; 0 is success. */
typedef enum depot_gs1_err {
    DEPOT_GS1_OK = 0,
    DEPOT_GS1_E_EMPTY,       /* no data (nothing at all, or only an AIM identifier) */
    DEPOT_GS1_E_TOO_LONG,    /* over DEPOT_GS1_INPUT_MAX bytes, or too many fields */
    DEPOT_GS1_E_NUL,         /* a NUL byte in the scan */
    DEPOT_GS1_E_AIM,         /* starts with ']' but is no well-formed AIM identifier */
    DEPOT_GS1_E_UNKNOWN_AI,  /* an AI this parser does not know */
    DEPOT_GS1_E_LENGTH,      /* a value too short, too long, or cut off */
    DEPOT_GS1_E_CHARSET,     /* a character the value's character set does not allow */
    DEPOT_GS1_E_CHECK_DIGIT, /* wrong GS1 mod-10 check digit (GTIN, SSCC, GLN, GSIN) */
    DEPOT_GS1_E_DATE,        /* not a valid YYMMDD date */
    DEPOT_GS1_E_SYNTAX,      /* bytes that cannot be parsed as a field (offset in message) */
} depot_gs1_err;

enum depot_gs1_symbology {
    DEPOT_GS1_SYM_NONE,           /* no AIM identifier */
    DEPOT_GS1_SYM_GS1_128,        /* ]C1 */
    DEPOT_GS1_SYM_CODE128,        /* ]C0 */
    DEPOT_GS1_SYM_EAN13,          /* ]E0, also UPC-A */
    DEPOT_GS1_SYM_EAN8,           /* ]E4 */
    DEPOT_GS1_SYM_GS1_DATABAR,    /* ]e0 */
    DEPOT_GS1_SYM_GS1_DATAMATRIX, /* ]d2 */
    DEPOT_GS1_SYM_DATAMATRIX,     /* ]d1 */
    DEPOT_GS1_SYM_GS1_QR,         /* ]Q3 */
    DEPOT_GS1_SYM_QR,             /* ]Q1 */
    DEPOT_GS1_SYM_UNKNOWN,        /* another well-formed ]Xn: stripped, data kept plain */
};

struct depot_gs1_field {
    char ai[5];                             /* "01", "3103", "410", ... */
    char value[DEPOT_GS1_VALUE_MAX + 1];
};

struct depot_gs1_scan {
    enum depot_gs1_symbology symbology;
    char aim[4];              /* the identifier as received ("]C1"), or "" */
    int plain;                /* 1: data holds the scan's data and there are no fields */
    size_t n_fields;
    struct depot_gs1_field fields[DEPOT_GS1_FIELDS_MAX];
    char data[DEPOT_GS1_INPUT_MAX + 1]; /* the data after the identifier when plain */
    char error[160];          /* why parsing failed, with the byte offset where it did */
};

/* Parses one scan of len bytes (not NUL-terminated; NUL bytes are an error) into *out,
 * which is fully overwritten. Returns DEPOT_GS1_OK, or an error with out->error set;
 * offsets in messages count bytes from the start of buf, identifier included. */
depot_gs1_err depot_gs1_parse(const char *buf, size_t len, struct depot_gs1_scan *out);

/* A stable lower-case name: "gs1-128", "code128", "ean-13", "ean-8", "gs1-databar",
 * "gs1-datamatrix", "datamatrix", "gs1-qr", "qr", "unknown", or "none". */
const char *depot_gs1_symbology_name(enum depot_gs1_symbology s);

/* 1 if digits[0..len) are all digits (len >= 2) and the last is the GS1 mod-10 check
 * digit of the others (GTIN-8/12/13/14, SSCC, GLN, GSIN), else 0. */
int depot_gs1_check_digit_ok(const char *digits, size_t len);

#endif
