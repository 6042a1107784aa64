/* The streaming CSV reader behind csv.h: an RFC 4180 state machine over a fixed read
 * buffer and fixed field slots, with per-record error recovery. */
#include <stdlib.h>
#include <string.h>
#include "csv.h"

/* Rationale: memory never depends on the input. Each field has its own slot of
 * DEPOT_CSV_MAX_FIELD + 1 bytes, so a record never takes more than about 32 KiB. Runs of
 * plain bytes are copied straight from the read buffer; the state machine only handles
 * the bytes that decide something (, " CR LF NUL) and a field that is full.
 *
 * After a fault the rest of the record is still lexed (quotes included) so the next
 * record starts where a correct reader would start it; only a stray quote, which makes
 * the quoting itself unreliable, skips to the end of the physical line instead. */

#define XSTR(x) #x
#define STR(x) XSTR(x)
#define READ_BUF 65536

enum lex_state { FIELD_START, UNQUOTED, QUOTED, QUOTE_SEEN, SKIP_LINE };

struct depot_csv {
    depot_csv_read_fn read;
    void *ctx;
    char in[READ_BUF];
    size_t in_pos, in_len;
    int in_eof, in_err, in_started, prev_cr;
    size_t line;     /* line of the next byte */
    size_t rec_line; /* line the current record started on */
    size_t nfields;
    size_t len[DEPOT_CSV_MAX_FIELDS];
    char data[DEPOT_CSV_MAX_FIELDS][DEPOT_CSV_MAX_FIELD + 1];
    int bad;
    struct depot_csv_error err;
};

static long file_read(void *ctx, char *buf, size_t cap)
{
    FILE *f = ctx;
    size_t n = fread(buf, 1, cap, f);
    return n == 0 && ferror(f) ? -1 : (long)n;
}

depot_csv *depot_csv_open_fn(depot_csv_read_fn fn, void *ctx)
{
    depot_csv *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->read = fn;
    c->ctx = ctx;
    c->line = 1;
    return c;
}

depot_csv *depot_csv_open_file(FILE *f)
{
    return depot_csv_open_fn(file_read, f);
}

void depot_csv_close(depot_csv *c)
{
    free(c);
}

/* Appends what the read function gives after the buffered bytes; -1 on a read error,
 * which is final. */
static int fill(depot_csv *c)
{
    if (c->in_err)
        return -1;
    if (c->in_eof)
        return 0;
    long n = c->read(c->ctx, c->in + c->in_len, sizeof c->in - c->in_len);
    if (n < 0) {
        c->in_err = 1;
        return -1;
    }
    if (n == 0)
        c->in_eof = 1;
    c->in_len += (size_t)n;
    return 0;
}

/* Skips a UTF-8 byte order mark, which only counts as one when all three bytes are
 * there (EF BB followed by another byte is ordinary text). */
static int skip_bom(depot_csv *c)
{
    c->in_started = 1;
    while (c->in_len < 3 && !c->in_eof)
        if (fill(c) < 0)
            return -1;
    if (c->in_len >= 3 && !memcmp(c->in, "\xef\xbb\xbf", 3))
        c->in_pos = 3;
    return 0;
}

/* The next input byte, -1 at end of input, -2 on a read error. */
static int next_byte(depot_csv *c)
{
    if (c->in_pos < c->in_len)
        return (unsigned char)c->in[c->in_pos++];
    if (!c->in_started && skip_bom(c) < 0)
        return -2;
    if (c->in_pos == c->in_len) {
        c->in_pos = c->in_len = 0;
        if (fill(c) < 0)
            return -2;
        if (c->in_len == 0)
            return -1;
    }
    return (unsigned char)c->in[c->in_pos++];
}

/* Copies a run of bytes that need no decision (not , " CR LF NUL) from the read buffer
 * into the current field, as far as the field has room; returns how many. */
static size_t copy_plain(depot_csv *c, size_t cur)
{
    const char *p = c->in + c->in_pos;
    size_t n = c->in_len - c->in_pos, room = DEPOT_CSV_MAX_FIELD - cur, k = 0;
    char *dst = c->data[c->nfields] + cur;
    if (n > room)
        n = room;
    while (k < n && p[k] != ',' && p[k] != '"' && p[k] != '\n' && p[k] != '\r' && p[k])
        k++;
    memcpy(dst, p, k);
    c->in_pos += k;
    if (k)
        c->prev_cr = 0;
    return k;
}

static void fault(depot_csv *c, size_t field, const char *reason)
{
    if (c->bad)
        return;
    c->bad = 1;
    c->err.line = c->rec_line;
    c->err.field = field;
    c->err.reason = reason;
    if (field)
        snprintf(c->err.message, sizeof c->err.message, "line %zu, field %zu: %s",
                 c->rec_line, field, reason);
    else
        snprintf(c->err.message, sizeof c->err.message, "line %zu: %s", c->rec_line,
                 reason);
}

/* Well-formed UTF-8: no overlong forms, surrogates or code points above U+10FFFF. */
static int utf8_ok(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char b = p[i];
        size_t k;
        unsigned cp;
        if (b < 0x80) {
            i++;
            continue;
        }
        if ((b & 0xe0) == 0xc0) { k = 2; cp = b & 0x1f; }
        else if ((b & 0xf0) == 0xe0) { k = 3; cp = b & 0x0f; }
        else if ((b & 0xf8) == 0xf0) { k = 4; cp = b & 0x07; }
        else return 0;
        if (n - i < k)
            return 0;
        for (size_t j = 1; j < k; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + j] & 0x3f);
        }
        if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) ||
            (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k;
    }
    return 1;
}

/* Starts field number c->nfields + 1 (slots are only written while the record is good). */
static void begin_field(depot_csv *c)
{
    if (c->nfields == DEPOT_CSV_MAX_FIELDS)
        fault(c, 0, "more than " STR(DEPOT_CSV_MAX_FIELDS) " fields");
}

static void put(depot_csv *c, size_t *cur, int ch)
{
    if (c->bad)
        return;
    if (ch == 0)
        fault(c, c->nfields + 1, "NUL byte");
    else if (*cur == DEPOT_CSV_MAX_FIELD)
        fault(c, c->nfields + 1, "field longer than " STR(DEPOT_CSV_MAX_FIELD) " bytes");
    else
        c->data[c->nfields][(*cur)++] = (char)ch;
}

/* Ends the current field of *cur bytes; the next one starts empty. */
static void end_field(depot_csv *c, size_t *cur)
{
    size_t n = *cur;
    *cur = 0;
    if (c->bad)
        return;
    c->data[c->nfields][n] = '\0';
    c->len[c->nfields] = n;
    if (!utf8_ok((const unsigned char *)c->data[c->nfields], n))
        fault(c, c->nfields + 1, "invalid UTF-8");
    c->nfields++;
}

enum depot_csv_status depot_csv_next(depot_csv *c)
{
    enum lex_state state = FIELD_START;
    int started = 0;
    size_t cur = 0;
    c->nfields = 0;
    c->bad = 0;
    for (;;) {
        if ((state == UNQUOTED || state == QUOTED) && !c->bad)
            cur += copy_plain(c, cur);
        int ch = next_byte(c);
        if (ch == -2) {
            c->rec_line = c->line;
            c->bad = 0;
            fault(c, 0, "read error");
            return DEPOT_CSV_IO;
        }
        if (ch == -1) {
            if (!started)
                return DEPOT_CSV_EOF;
            if (state == QUOTED)
                fault(c, c->nfields + 1, "unterminated quoted field");
            else if (state != SKIP_LINE)
                end_field(c, &cur);
            return c->bad ? DEPOT_CSV_BAD : DEPOT_CSV_RECORD;
        }
        int eol = ch == '\n' || ch == '\r';
        int lf_after_cr = ch == '\n' && c->prev_cr;
        c->prev_cr = ch == '\r';
        if (state == QUOTED) {
            if (ch == '"') {
                state = QUOTE_SEEN;
            } else {
                put(c, &cur, ch);
                if (eol && !lf_after_cr)
                    c->line++;
            }
            continue;
        }
        if (lf_after_cr)
            continue; /* the CR already ended the line */
        if (eol)
            c->line++;
        switch (state) {
        case FIELD_START:
            if (!started) {
                if (eol)
                    continue; /* empty line */
                started = 1;
                c->rec_line = c->line;
            }
            begin_field(c);
            if (ch == '"') {
                state = QUOTED;
            } else if (ch == ',' || eol) {
                end_field(c, &cur);
                if (eol)
                    return c->bad ? DEPOT_CSV_BAD : DEPOT_CSV_RECORD;
            } else {
                put(c, &cur, ch);
                state = UNQUOTED;
            }
            break;
        case UNQUOTED:
        case QUOTE_SEEN:
            if (ch == ',' || eol) {
                end_field(c, &cur);
                if (eol)
                    return c->bad ? DEPOT_CSV_BAD : DEPOT_CSV_RECORD;
                state = FIELD_START;
            } else if (state == QUOTE_SEEN && ch == '"') {
                put(c, &cur, '"');
                state = QUOTED;
            } else if (state == UNQUOTED && ch != '"') {
                put(c, &cur, ch);
            } else {
                fault(c, c->nfields + 1, state == UNQUOTED ? "quote inside unquoted field"
                                                           : "text after closing quote");
                state = SKIP_LINE;
            }
            break;
        case SKIP_LINE:
            if (eol)
                return DEPOT_CSV_BAD;
            break;
        case QUOTED:
            break; /* handled above */
        }
    }
}

size_t depot_csv_nfields(const depot_csv *c)
{
    return c->nfields;
}

const char *depot_csv_field(const depot_csv *c, size_t i)
{
    return c->data[i];
}

size_t depot_csv_field_len(const depot_csv *c, size_t i)
{
    return c->len[i];
}

size_t depot_csv_line(const depot_csv *c)
{
    return c->rec_line;
}

const struct depot_csv_error *depot_csv_error(const depot_csv *c)
{
    return &c->err;
}
