/* A streaming RFC 4180 CSV reader with bounded memory: records come one at a time from a
 * FILE* or a read callback; no SQLite, no knowledge of what the columns mean. */
#ifndef DEPOT_CSV_H
#define DEPOT_CSV_H

#include <stddef.h>
#include <stdio.h>

#define DEPOT_CSV_MAX_FIELD 1024 /* bytes of one field after unquoting */
#define DEPOT_CSV_MAX_FIELDS 32  /* fields of one record */

/* What the reader accepts:
 * - an optional UTF-8 byte order mark at the very start (skipped);
 * - records ended by LF, CRLF or a lone CR, the last one with or without a line end;
 * - fields separated by ',' and either unquoted (no '"' inside) or quoted, where a
 *   quoted field may hold ',', CR, LF and '""' (one '"');
 * - empty lines, which are skipped (a line holding only "" is a record, not empty);
 * - field bytes that are valid UTF-8 without NUL.
 * Memory is fixed at open: DEPOT_CSV_MAX_FIELDS fields of DEPOT_CSV_MAX_FIELD bytes plus a
 * read buffer, whatever the input's size. */

typedef struct depot_csv depot_csv;

/* Reads up to cap bytes into buf; returns how many (0 at end of input), or -1 on a read
 * error. Not called again once it has returned 0 or -1. */
typedef long (*depot_csv_read_fn)(void *ctx, char *buf, size_t cap);

enum depot_csv_status {
    DEPOT_CSV_EOF = 0,    /* no more records */
    DEPOT_CSV_RECORD = 1, /* a record is available through the accessors below */
    DEPOT_CSV_BAD = 2,    /* the record was malformed and has been skipped; see
                           * depot_csv_error(); the next call continues after it */
    DEPOT_CSV_IO = -1,    /* the read function failed; stop */
};

struct depot_csv_error {
    size_t line;         /* 1-based line on which the bad record starts */
    size_t field;        /* 1-based field at fault, 0 if the whole record */
    const char *reason;  /* static text, e.g. "field longer than 1024 bytes" */
    char message[96];    /* "line 7, field 2: field longer than 1024 bytes" */
};

/* Creates a reader over an open stream from its current position; the caller keeps
 * owning the stream (and closes it after depot_csv_close). NULL when out of memory. */
depot_csv *depot_csv_open_file(FILE *f);
/* Creates a reader that pulls bytes through fn(ctx, ...). NULL when out of memory. */
depot_csv *depot_csv_open_fn(depot_csv_read_fn fn, void *ctx);
void depot_csv_close(depot_csv *c);

/* Reads the next non-empty record. After DEPOT_CSV_BAD only the first fault of the record
 * is reported; a quoted field left open runs to end of input, so BAD is followed by EOF. */
enum depot_csv_status depot_csv_next(depot_csv *c);

/* Accessors for the record last returned with DEPOT_CSV_RECORD; valid until the next
 * call to depot_csv_next. Fields are NUL-terminated and owned by the reader. */
size_t depot_csv_nfields(const depot_csv *c);
const char *depot_csv_field(const depot_csv *c, size_t i); /* i < nfields */
size_t depot_csv_field_len(const depot_csv *c, size_t i);
size_t depot_csv_line(const depot_csv *c); /* 1-based line the record starts on */

/* The fault behind the last DEPOT_CSV_BAD (or DEPOT_CSV_IO: reason "read error"). */
const struct depot_csv_error *depot_csv_error(const depot_csv *c);

#endif
