/* Unit tests of the streaming CSV reader (sqlite/csv.c): RFC 4180 quoting, line ends,
 * BOM, limits, error reports with line numbers, and recovery after a bad record. */
#include "csv.h"
#include "testutil.h"

/* Input from memory, handed out chunk bytes per read (1 exercises every buffer edge). */
struct mem_src {
    const char *p;
    size_t n, pos, chunk;
    int fail_at; /* byte offset at which reads fail, or -1 */
};

static long mem_read(void *ctx, char *buf, size_t cap)
{
    struct mem_src *m = ctx;
    if (m->fail_at >= 0 && m->pos >= (size_t)m->fail_at)
        return -1;
    size_t k = m->n - m->pos;
    if (k > cap)
        k = cap;
    if (k > m->chunk)
        k = m->chunk;
    memcpy(buf, m->p + m->pos, k);
    m->pos += k;
    return (long)k;
}

static depot_csv *open_mem(struct mem_src *m, const char *p, size_t n, size_t chunk)
{
    *m = (struct mem_src){ .p = p, .n = n, .chunk = chunk, .fail_at = -1 };
    depot_csv *c = depot_csv_open_fn(mem_read, m);
    CU_ASSERT_FATAL(c != NULL);
    return c;
}

/* Expects a record on line `line` whose fields joined with '|' equal `joined`. */
static void expect_record(depot_csv *c, size_t line, const char *joined)
{
    char got[4096] = "";
    enum depot_csv_status r = depot_csv_next(c);
    CU_ASSERT_EQUAL_FATAL(r, DEPOT_CSV_RECORD);
    for (size_t i = 0; i < depot_csv_nfields(c); i++) {
        if (i)
            strcat(got, "|");
        CU_ASSERT_EQUAL(strlen(depot_csv_field(c, i)), depot_csv_field_len(c, i));
        strncat(got, depot_csv_field(c, i), sizeof got - strlen(got) - 1);
    }
    CU_ASSERT_STRING_EQUAL(got, joined);
    CU_ASSERT_EQUAL(depot_csv_line(c), line);
}

static void expect_bad(depot_csv *c, size_t line, size_t field, const char *reason)
{
    CU_ASSERT_EQUAL_FATAL(depot_csv_next(c), DEPOT_CSV_BAD);
    const struct depot_csv_error *e = depot_csv_error(c);
    CU_ASSERT_EQUAL(e->line, line);
    CU_ASSERT_EQUAL(e->field, field);
    CU_ASSERT_STRING_EQUAL(e->reason, reason);
}

static void expect_eof(depot_csv *c)
{
    CU_ASSERT_EQUAL(depot_csv_next(c), DEPOT_CSV_EOF);
    CU_ASSERT_EQUAL(depot_csv_next(c), DEPOT_CSV_EOF);
}

/* Parses a string in one go and again one byte per read; both must agree. */
#define EACH_CHUNKING(m, c, str)                                                           \
    for (size_t chunk_ = 0; chunk_ < 2; chunk_++)                                          \
        for (depot_csv *c = open_mem(&m, str, sizeof(str) - 1, chunk_ ? 1 : 1 << 20); c;   \
             depot_csv_close(c), c = NULL)

static void TEST_bom_crlf_quoted_fixture(void)
{
    char path[512];
    const char *dir = getenv("DEPOT_TEST_FILES");
    CU_ASSERT_FATAL(dir != NULL);
    snprintf(path, sizeof path, "%s/csv/bom-crlf-quoted.csv", dir);
    FILE *f = fopen(path, "rb");
    CU_ASSERT_FATAL(f != NULL);
    depot_csv *c = depot_csv_open_file(f);
    CU_ASSERT_FATAL(c != NULL);
    expect_record(c, 1, "sku|name|note");
    expect_record(c, 2, "A-1|Widget, large|say \"hi\"");
    expect_record(c, 3, "B-2|two\r\nlines|");
    expect_record(c, 6, "C-3|plain|x");
    expect_eof(c);
    depot_csv_close(c);
    fclose(f);
}

static void TEST_line_ends_lf_crlf_and_lone_cr(void)
{
    struct mem_src m;
    EACH_CHUNKING(m, c, "a,b\nc,d\r\ne,f\rg,h") {
        expect_record(c, 1, "a|b");
        expect_record(c, 2, "c|d");
        expect_record(c, 3, "e|f");
        expect_record(c, 4, "g|h");
        expect_eof(c);
    }
}

static void TEST_empty_lines_skipped_but_counted(void)
{
    struct mem_src m;
    EACH_CHUNKING(m, c, "\n\r\na\n\n\r\n\rb\n\n") {
        expect_record(c, 3, "a");
        expect_record(c, 7, "b");
        expect_eof(c);
    }
}

static void TEST_empty_and_whitespace_fields_kept(void)
{
    struct mem_src m;
    EACH_CHUNKING(m, c, "\"\"\n,\na,\n , x \n") {
        expect_record(c, 1, "");
        CU_ASSERT_EQUAL(depot_csv_nfields(c), 1);
        expect_record(c, 2, "|");
        CU_ASSERT_EQUAL(depot_csv_nfields(c), 2);
        expect_record(c, 3, "a|");
        expect_record(c, 4, " | x ");
        expect_eof(c);
    }
}

static void TEST_quoted_field_with_embedded_newlines_counts_lines(void)
{
    struct mem_src m;
    EACH_CHUNKING(m, c, "\"x\ny\r\nz\rw\",\"\"\"\",\"a,b\"\nnext\n") {
        expect_record(c, 1, "x\ny\r\nz\rw|\"|a,b");
        expect_record(c, 5, "next");
        expect_eof(c);
    }
}

static void TEST_no_trailing_newline(void)
{
    struct mem_src m;
    EACH_CHUNKING(m, c, "a,\"b\"") {
        expect_record(c, 1, "a|b");
        expect_eof(c);
    }
    EACH_CHUNKING(m, c, "a,") {
        expect_record(c, 1, "a|");
        expect_eof(c);
    }
}

static void TEST_bom_skipped_only_at_start(void)
{
    struct mem_src m;
    EACH_CHUNKING(m, c, "\xef\xbb\xbf" "a\n\xef\xbb\xbf" "b\n") {
        expect_record(c, 1, "a");
        expect_record(c, 2, "\xef\xbb\xbf" "b"); /* U+FEFF inside is data */
        expect_eof(c);
    }
    /* EF BB 80 is U+FEC0, not a BOM. */
    EACH_CHUNKING(m, c, "\xef\xbb\x80" "x") {
        expect_record(c, 1, "\xef\xbb\x80" "x");
        expect_eof(c);
    }
    EACH_CHUNKING(m, c, "\xef\xbb\xbf") {
        expect_eof(c);
    }
    EACH_CHUNKING(m, c, "") {
        expect_eof(c);
    }
}

/* A field of n bytes ('x'), quoted or not, followed by a good record. */
static char *long_field_input(size_t n, int quoted)
{
    char *s = malloc(n + 32);
    size_t k = 0;
    if (quoted)
        s[k++] = '"';
    memset(s + k, 'x', n);
    k += n;
    if (quoted) {
        s[k - n / 2] = '\n'; /* an embedded newline inside the long field */
        s[k++] = '"';
    }
    memcpy(s + k, ",y\nok\n", 7);
    return s;
}

static void TEST_field_length_limit(void)
{
    struct mem_src m;
    char *ok = long_field_input(DEPOT_CSV_MAX_FIELD, 0);
    depot_csv *c = open_mem(&m, ok, strlen(ok), 1);
    CU_ASSERT_EQUAL(depot_csv_next(c), DEPOT_CSV_RECORD);
    CU_ASSERT_EQUAL(depot_csv_field_len(c, 0), DEPOT_CSV_MAX_FIELD);
    expect_record(c, 2, "ok");
    depot_csv_close(c);
    free(ok);

    char *over = long_field_input(DEPOT_CSV_MAX_FIELD + 1, 0);
    c = open_mem(&m, over, strlen(over), 1 << 20);
    expect_bad(c, 1, 1, "field longer than 1024 bytes");
    CU_ASSERT_STRING_EQUAL(depot_csv_error(c)->message,
                           "line 1, field 1: field longer than 1024 bytes");
    expect_record(c, 2, "ok");
    expect_eof(c);
    depot_csv_close(c);
    free(over);

    /* Quoted and spanning two lines: the next record is still found on line 3. */
    char *q = long_field_input(5000, 1);
    c = open_mem(&m, q, strlen(q), 7);
    expect_bad(c, 1, 1, "field longer than 1024 bytes");
    expect_record(c, 3, "ok");
    expect_eof(c);
    depot_csv_close(c);
    free(q);
}

static void TEST_field_count_limit(void)
{
    char line[256] = "";
    for (int i = 0; i < DEPOT_CSV_MAX_FIELDS; i++)
        strcat(line, i ? ",f" : "f");
    char input[600];
    snprintf(input, sizeof input, "%s\n%s,extra\nok\n", line, line);
    struct mem_src m;
    depot_csv *c = open_mem(&m, input, strlen(input), 1 << 20);
    CU_ASSERT_EQUAL(depot_csv_next(c), DEPOT_CSV_RECORD);
    CU_ASSERT_EQUAL(depot_csv_nfields(c), DEPOT_CSV_MAX_FIELDS);
    expect_bad(c, 2, 0, "more than 32 fields");
    expect_record(c, 3, "ok");
    expect_eof(c);
    depot_csv_close(c);
}

static void TEST_unterminated_quote_reports_start_line(void)
{
    struct mem_src m;
    EACH_CHUNKING(m, c, "a\nb,\"open\nstill open\nand more") {
        expect_record(c, 1, "a");
        expect_bad(c, 2, 2, "unterminated quoted field");
        CU_ASSERT_STRING_EQUAL(depot_csv_error(c)->message,
                               "line 2, field 2: unterminated quoted field");
        expect_eof(c);
    }
}

static void TEST_stray_quotes_skip_to_end_of_line(void)
{
    struct mem_src m;
    EACH_CHUNKING(m, c, "ab\"c,\"d\nok1\n\"x\"y,z\nok2\n\"x\" ,z\n") {
        expect_bad(c, 1, 1, "quote inside unquoted field");
        expect_record(c, 2, "ok1");
        expect_bad(c, 3, 1, "text after closing quote");
        expect_record(c, 4, "ok2");
        expect_bad(c, 5, 1, "text after closing quote");
        expect_eof(c);
    }
}

static void TEST_nul_byte_rejected(void)
{
    struct mem_src m;
    EACH_CHUNKING(m, c, "a,b\xc3\xa9\x00z\nok\n") {
        expect_bad(c, 1, 2, "NUL byte");
        expect_record(c, 2, "ok");
        expect_eof(c);
    }
}

static void TEST_invalid_utf8_rejected(void)
{
    struct mem_src m;
    EACH_CHUNKING(m, c,
                  "\xc3\xa9,\xe2\x82\xac,\xf0\x9f\x93\xa6\n" /* é € 📦: fine */
                  "a,\xc3\n"                                 /* truncated */
                  "\xc0\xaf\n"                               /* overlong '/' */
                  "x,y,\xed\xa0\x80\n"                       /* surrogate */
                  "\xf4\x90\x80\x80\n"                       /* above U+10FFFF */
                  "\xff\n") {
        expect_record(c, 1, "\xc3\xa9|\xe2\x82\xac|\xf0\x9f\x93\xa6");
        expect_bad(c, 2, 2, "invalid UTF-8");
        expect_bad(c, 3, 1, "invalid UTF-8");
        expect_bad(c, 4, 3, "invalid UTF-8");
        expect_bad(c, 5, 1, "invalid UTF-8");
        expect_bad(c, 6, 1, "invalid UTF-8");
        expect_eof(c);
    }
}

static void TEST_read_error_is_final(void)
{
    struct mem_src m;
    static const char in[] = "a,b\nc,d\n";
    depot_csv *c = open_mem(&m, in, sizeof in - 1, 2);
    m.fail_at = 5;
    expect_record(c, 1, "a|b");
    CU_ASSERT_EQUAL(depot_csv_next(c), DEPOT_CSV_IO);
    CU_ASSERT_STRING_EQUAL(depot_csv_error(c)->reason, "read error");
    CU_ASSERT_EQUAL(depot_csv_next(c), DEPOT_CSV_IO);
    depot_csv_close(c);
}

int main(void)
{
    static const struct test_case cases[] = {
        { "bom_crlf_quoted_fixture", TEST_bom_crlf_quoted_fixture },
        { "line_ends_lf_crlf_and_lone_cr", TEST_line_ends_lf_crlf_and_lone_cr },
        { "empty_lines_skipped_but_counted", TEST_empty_lines_skipped_but_counted },
        { "empty_and_whitespace_fields_kept", TEST_empty_and_whitespace_fields_kept },
        { "quoted_field_with_embedded_newlines_counts_lines",
          TEST_quoted_field_with_embedded_newlines_counts_lines },
        { "no_trailing_newline", TEST_no_trailing_newline },
        { "bom_skipped_only_at_start", TEST_bom_skipped_only_at_start },
        { "field_length_limit", TEST_field_length_limit },
        { "field_count_limit", TEST_field_count_limit },
        { "unterminated_quote_reports_start_line", TEST_unterminated_quote_reports_start_line },
        { "stray_quotes_skip_to_end_of_line", TEST_stray_quotes_skip_to_end_of_line },
        { "nul_byte_rejected", TEST_nul_byte_rejected },
        { "invalid_utf8_rejected", TEST_invalid_utf8_rejected },
        { "read_error_is_final", TEST_read_error_is_final },
        { NULL, NULL },
    };
    return test_run("csv", cases);
}
