/* The CSV stock import: checks a whole stock file (header, every value, cross-row and
 * database rules) and only if all of it is right applies it in one transaction. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "csv.h"
#include "store_int.h"

/* Rationale: the file is read twice, streaming, inside one BEGIN IMMEDIATE transaction.
 * The first pass validates every row and keeps only what later rows are checked against:
 * the SKU and location codes seen (interned), the (SKU, location) pairs, and which SKU
 * each GTIN went to, plus what it learnt from the database on the way (each SKU's id and
 * whether it needs renaming, which GTINs are attached already) so the second pass does
 * not ask again. Holding the write lock from the first pass on means those facts and the
 * reserved quantities checked cannot change before the second pass writes. The second
 * pass re-checks each row on its own and refuses to commit if the file no longer reads
 * the same (it was edited between the passes).
 *
 * An empty or absent `bin` or `buffer` leaves the stored value as it is. `changed` counts
 * stock levels whose on_hand or buffer moved, both of which change what channels are told
 * is available. */

#define MAX_FILE_BYTES (64L * 1024 * 1024)
#define MAX_ROWS 1000000
#define MAX_KEPT_ERRORS 1000
#define MAX_QTY 1000000000

enum col { C_SKU, C_NAME, C_GTIN, C_LOCATION, C_ON_HAND, C_BIN, C_BUFFER, N_COLS };
#define N_REQUIRED 5 /* the columns before C_BIN */

static const char *const col_name[N_COLS] = {
    "sku", "name", "gtin", "location", "on_hand", "bin", "buffer",
};

/* Strings kept once each (SKU or location codes), numbered in order of arrival. */
struct intern {
    char *arena;
    size_t arena_len, arena_cap;
    struct ent { uint64_t hash; uint32_t off, len; } *ent; /* files are < 4 GiB */
    size_t n, ent_cap;
    uint32_t *slot; /* entry index + 1; 0 is free; power-of-two size */
    size_t nslots;
};

/* Open-addressed uint64 -> uint64 map; stored keys carry bit 63 so 0 marks a free slot. */
struct u64map {
    uint64_t *key, *val;
    size_t cap, n;
};

struct sku_info {
    uint64_t name_hash;
    uint32_t name_line; /* first line with a valid name for the SKU, 0 if none yet */
    int looked_up;      /* pass 1 has read id and rename from the database */
    int rename;         /* the database has it under another name */
    int64_t id;         /* database id; 0 until it exists */
};

/* A GTIN's entry in import.gtins: the SKU it was given to (bits 0-29), on which line
 * (bits 32-63), and two flags. */
#define GTIN_VAL(sku, line) ((uint64_t)(sku) | ((uint64_t)(line) << 32))
#define GTIN_SKU(v) ((uint32_t)((v) & 0x3fffffff))
#define GTIN_LINE(v) ((uint32_t)((v) >> 32))
#define GTIN_TAKEN (1ULL << 30) /* belongs to another SKU in the database */
#define GTIN_HAVE (1ULL << 31)  /* its SKU has it in the database (or pass 2 gave it) */

struct import {
    depot_store *st;
    struct depot_import_result *res;
    const char *actor, *file;
    int pass;         /* 1 validates and reports; 2 writes */
    int file_changed; /* pass 2 met something pass 1 did not see */
    int nomem;
    size_t errors_cap;
    size_t nhdr;                  /* fields in the header */
    int col[N_COLS];              /* field index of each known column, or -1 */
    char hdr[DEPOT_CSV_MAX_FIELDS][32]; /* column names by field, for error reports */
    struct intern skus, locs;
    struct sku_info *sku;
    size_t sku_cap;
    struct u64map pairs; /* (sku, location) -> line first given */
    struct u64map gtins; /* GTIN -> GTIN_VAL */
    int64_t *loc_id;     /* per interned location, in pass 2; 0 until looked up */
    int64_t now;
};

/* One data row's values (pointing into the reader's fields) and which of them are
 * usable for the checks that compare rows. */
struct row {
    size_t line;
    const char *v[N_COLS];  /* "" when the column is absent */
    int64_t on_hand, buffer; /* buffer -1 when not given */
    unsigned ok;             /* bit per enum col */
};

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 33; /* murmur3 finalizer */
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* Returns p resized to hold at least need items (doubling *cap), or NULL with p intact. */
static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    if (!(p = realloc(p, c * size)))
        return NULL;
    *cap = c;
    return p;
}

/* The slot where s is, or where it would go. */
static uint32_t *intern_slot(const struct intern *t, const char *s, size_t n, uint64_t h)
{
    size_t mask = t->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        uint32_t *sl = &t->slot[i];
        if (!*sl)
            return sl;
        const struct ent *e = &t->ent[*sl - 1];
        if (e->hash == h && e->len == n && !memcmp(t->arena + e->off, s, n))
            return sl;
    }
}

/* Index of s, or -1 if it was never added. */
static long intern_find(const struct intern *t, const char *s)
{
    if (!t->nslots)
        return -1;
    size_t n = strlen(s);
    uint32_t *sl = intern_slot(t, s, n, hash_bytes(s, n));
    return *sl ? (long)*sl - 1 : -1;
}

/* Index of s, adding it if new (*added = 1). -1 when out of memory. */
static long intern_add(struct intern *t, const char *s, int *added)
{
    size_t n = strlen(s);
    uint64_t h = hash_bytes(s, n);
    *added = 0;
    if (2 * (t->n + 1) > t->nslots) {
        size_t ns = t->nslots ? 2 * t->nslots : 256;
        uint32_t *old = t->slot;
        size_t old_n = t->nslots;
        if (!(t->slot = calloc(ns, sizeof *t->slot))) {
            t->slot = old;
            return -1;
        }
        t->nslots = ns;
        for (size_t i = 0; i < old_n; i++)
            if (old[i]) {
                const struct ent *e = &t->ent[old[i] - 1];
                *intern_slot(t, t->arena + e->off, e->len, e->hash) = old[i];
            }
        free(old);
    }
    uint32_t *sl = intern_slot(t, s, n, h);
    if (*sl)
        return (long)*sl - 1;
    struct ent *ent = grow(t->ent, &t->ent_cap, t->n + 1, sizeof *t->ent);
    if (!ent)
        return -1;
    t->ent = ent;
    char *arena = grow(t->arena, &t->arena_cap, t->arena_len + n, 1);
    if (!arena)
        return -1;
    t->arena = arena;
    memcpy(t->arena + t->arena_len, s, n);
    t->ent[t->n] = (struct ent){ .hash = h, .off = (uint32_t)t->arena_len,
                                 .len = (uint32_t)n };
    t->arena_len += n;
    *sl = (uint32_t)++t->n;
    *added = 1;
    return (long)t->n - 1;
}

static void intern_free(struct intern *t)
{
    free(t->arena);
    free(t->ent);
    free(t->slot);
}

static size_t map_pos(const struct u64map *m, uint64_t k)
{
    size_t mask = m->cap - 1, i = hash_u64(k) & mask;
    while (m->key[i] && m->key[i] != k)
        i = (i + 1) & mask;
    return i;
}

/* The value stored under key, inserting val first if the key is new (*found = 0).
 * NULL when out of memory. */
static uint64_t *map_put(struct u64map *m, uint64_t key, uint64_t val, int *found)
{
    uint64_t k = key | (1ULL << 63);
    if (2 * (m->n + 1) > m->cap) {
        struct u64map g = { .cap = m->cap ? 2 * m->cap : 1024, .n = m->n };
        g.key = calloc(g.cap, sizeof *g.key);
        g.val = malloc(g.cap * sizeof *g.val);
        if (!g.key || !g.val) {
            free(g.key);
            free(g.val);
            return NULL;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->key[i]) {
                size_t p = map_pos(&g, m->key[i]);
                g.key[p] = m->key[i];
                g.val[p] = m->val[i];
            }
        free(m->key);
        free(m->val);
        *m = g;
    }
    size_t p = map_pos(m, k);
    *found = m->key[p] != 0;
    if (!*found) {
        m->key[p] = k;
        m->val[p] = val;
        m->n++;
    }
    return &m->val[p];
}

/* The value stored under key, or NULL. */
static uint64_t *map_get(const struct u64map *m, uint64_t key)
{
    if (!m->cap)
        return NULL;
    size_t p = map_pos(m, key | (1ULL << 63));
    return m->key[p] ? &m->val[p] : NULL;
}

static void map_free(struct u64map *m)
{
    free(m->key);
    free(m->val);
}

static void add_error(struct import *im, size_t row, const char *column, const char *fmt,
                      ...) __attribute__((format(printf, 4, 5)));

/* Records an error of pass 1; in pass 2 any error means the file changed underneath. */
static void add_error(struct import *im, size_t row, const char *column, const char *fmt,
                      ...)
{
    struct depot_import_result *r = im->res;
    if (im->pass == 2) {
        im->file_changed = 1;
        return;
    }
    r->errors_total++;
    if (r->errors_n == MAX_KEPT_ERRORS)
        return;
    struct depot_import_error *errs = grow(r->errors, &im->errors_cap, r->errors_n + 1,
                                           sizeof *r->errors);
    if (!errs) {
        im->nomem = 1;
        return;
    }
    r->errors = errs;
    struct depot_import_error *e = &r->errors[r->errors_n++];
    e->row = row;
    snprintf(e->column, sizeof e->column, "%s", column);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

/* Maps the header's names to columns. 0 if rows can be read with it. */
static int read_header(struct import *im, depot_csv *c)
{
    enum depot_csv_status s = depot_csv_next(c);
    if (s == DEPOT_CSV_EOF) {
        add_error(im, 1, "", "the file is empty; expected a header row "
                             "sku,name,gtin,location,on_hand");
        return -1;
    }
    if (s != DEPOT_CSV_RECORD) {
        const struct depot_csv_error *e = depot_csv_error(c);
        add_error(im, e->line, "", "header: %s", e->reason);
        return -1;
    }
    for (int k = 0; k < N_COLS; k++)
        im->col[k] = -1;
    im->nhdr = depot_csv_nfields(c);
    for (size_t i = 0; i < im->nhdr; i++) {
        const char *f = depot_csv_field(c, i);
        size_t n = depot_csv_field_len(c, i);
        while (*f == ' ' || *f == '\t')
            f++, n--;
        while (n && (f[n - 1] == ' ' || f[n - 1] == '\t'))
            n--;
        snprintf(im->hdr[i], sizeof im->hdr[i], "%.*s", (int)n, f);
        int k = 0;
        while (k < N_COLS && (strlen(col_name[k]) != n || strncasecmp(col_name[k], f, n)))
            k++;
        if (k == N_COLS) {
            add_error(im, depot_csv_line(c), im->hdr[i], "unknown column '%.*s' (known: "
                      "sku, name, gtin, location, on_hand, bin, buffer)",
                      n > 40 ? 40 : (int)n, f);
        } else if (im->col[k] >= 0) {
            add_error(im, depot_csv_line(c), col_name[k], "column '%s' is given twice",
                      col_name[k]);
        } else {
            im->col[k] = (int)i;
            snprintf(im->hdr[i], sizeof im->hdr[i], "%s", col_name[k]);
        }
    }
    int missing = 0;
    for (int k = 0; k < N_REQUIRED; k++)
        if (im->col[k] < 0) {
            add_error(im, depot_csv_line(c), col_name[k], "required column '%s' is missing",
                      col_name[k]);
            missing = 1;
        }
    return missing ? -1 : 0;
}

/* A plain count 0..MAX_QTY: digits only. 0 if fine, -1 if negative, -2 otherwise. */
static int parse_qty(const char *s, int64_t *out)
{
    int neg = *s == '-';
    const char *p = s + neg;
    int64_t v = 0;
    if (!*p)
        return -2;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -2;
        v = v * 10 + (*p - '0');
        if (v > MAX_QTY)
            return neg ? -1 : -2;
    }
    if (neg)
        return v ? -1 : -2;
    *out = v;
    return 0;
}

static void check_qty(struct import *im, struct row *r, enum col k, int64_t *out)
{
    int q = parse_qty(r->v[k], out);
    if (q == 0)
        r->ok |= 1u << k;
    else if (q == -1)
        add_error(im, r->line, col_name[k], "%s must not be negative", col_name[k]);
    else
        add_error(im, r->line, col_name[k], "%s '%.40s' is not a whole number from 0 to "
                  "1000000000 (digits only)", col_name[k], r->v[k]);
}

/* Reads the current record into r and checks each value on its own. */
static void check_row(struct import *im, depot_csv *c, struct row *r)
{
    memset(r, 0, sizeof *r);
    r->line = depot_csv_line(c);
    r->buffer = -1;
    for (int k = 0; k < N_COLS; k++)
        r->v[k] = im->col[k] >= 0 ? depot_csv_field(c, (size_t)im->col[k]) : "";
    for (int k = 0; k < N_REQUIRED; k++)
        if (k != C_GTIN && !*r->v[k])
            add_error(im, r->line, col_name[k], "a value is required");
    if (*r->v[C_SKU]) {
        if (store__valid_code(r->v[C_SKU], 64))
            r->ok |= 1u << C_SKU;
        else
            add_error(im, r->line, "sku", "SKU code must be 1..64 printable ASCII characters, "
                      "no commas, quotes or spaces at the ends");
    }
    if (*r->v[C_LOCATION]) {
        if (store__valid_code(r->v[C_LOCATION], 64))
            r->ok |= 1u << C_LOCATION;
        else
            add_error(im, r->line, "location", "location code must be 1..64 printable ASCII "
                      "characters, no commas, quotes or spaces at the ends");
    }
    if (*r->v[C_NAME]) {
        if (store__valid_text(r->v[C_NAME], 200))
            r->ok |= 1u << C_NAME;
        else
            add_error(im, r->line, "name", "name must be 1..200 bytes of text without "
                      "control characters");
    }
    if (*r->v[C_GTIN]) {
        if (store__valid_gtin(r->v[C_GTIN]))
            r->ok |= 1u << C_GTIN;
        else
            add_error(im, r->line, "gtin", "GTIN '%.20s' is not 8, 12, 13 or 14 digits with "
                      "a valid check digit", r->v[C_GTIN]);
    }
    if (*r->v[C_ON_HAND])
        check_qty(im, r, C_ON_HAND, &r->on_hand);
    if (*r->v[C_BIN] && !store__valid_code(r->v[C_BIN], 64))
        add_error(im, r->line, "bin", "bin code must be 1..64 printable ASCII characters, "
                  "no commas, quotes or spaces at the ends");
    if (*r->v[C_BUFFER])
        check_qty(im, r, C_BUFFER, &r->buffer);
}

/* The GTIN as a number with its length, so "0012345678905" and "012345678905" differ. */
static uint64_t gtin_key(const char *g)
{
    uint64_t v = 0;
    size_t n = 0;
    for (; g[n]; n++)
        v = v * 10 + (uint64_t)(g[n] - '0');
    return v * 16 + n;
}

/* Pass 1 checks of a valid row against earlier rows and the database. */
static depot_err cross_check(struct import *im, const struct row *r)
{
    const unsigned need_sku = 1u << C_SKU, need_loc = 1u << C_LOCATION;
    if (!(r->ok & need_sku))
        return DEPOT_OK;
    int added;
    long sku = intern_add(&im->skus, r->v[C_SKU], &added);
    struct sku_info *info = sku < 0 ? NULL : grow(im->sku, &im->sku_cap, (size_t)sku + 1,
                                                  sizeof *im->sku);
    if (!info)
        return store__fail(im->st, DEPOT_E_NOMEM, "out of memory");
    im->sku = info;
    struct sku_info *si = &im->sku[sku];
    if (added)
        *si = (struct sku_info){ 0 };
    if (r->ok & (1u << C_NAME)) {
        uint64_t h = hash_bytes(r->v[C_NAME], strlen(r->v[C_NAME]));
        if (!si->name_line) {
            si->name_hash = h;
            si->name_line = (uint32_t)r->line;
        } else if (si->name_hash != h) {
            add_error(im, r->line, "name", "name differs from the one on row %u for the "
                      "same SKU", (unsigned)si->name_line);
        }
    }

    if (r->ok & (1u << C_GTIN)) {
        int found;
        uint64_t *g = map_put(&im->gtins, gtin_key(r->v[C_GTIN]), GTIN_VAL(sku, r->line),
                              &found);
        if (!g)
            return store__fail(im->st, DEPOT_E_NOMEM, "out of memory");
        if (!found) {
            sqlite3_stmt *s = store__stmt(im->st,
                "SELECT s.code FROM sku_gtins g JOIN skus s ON s.id = g.sku_id"
                " WHERE g.gtin = ?1");
            if (!s)
                return DEPOT_E_DB;
            sqlite3_bind_text(s, 1, r->v[C_GTIN], -1, SQLITE_STATIC);
            int rc = sqlite3_step(s);
            if (rc == SQLITE_ROW) {
                const char *owner = (const char *)sqlite3_column_text(s, 0);
                if (strcmp(owner, r->v[C_SKU])) {
                    add_error(im, r->line, "gtin", "GTIN %s already belongs to SKU '%.64s'",
                              r->v[C_GTIN], owner);
                    *g |= GTIN_TAKEN;
                } else {
                    *g |= GTIN_HAVE;
                }
            }
            sqlite3_reset(s);
            if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return store__dberr(im->st, "find GTIN");
        } else if (GTIN_SKU(*g) != (uint32_t)sku) {
            const struct ent *e = &im->skus.ent[GTIN_SKU(*g)];
            add_error(im, r->line, "gtin", "GTIN %s is also given to SKU '%.*s' on row %u",
                      r->v[C_GTIN], (int)e->len, im->skus.arena + e->off,
                      (unsigned)GTIN_LINE(*g));
        } else if (*g & GTIN_TAKEN) {
            add_error(im, r->line, "gtin", "GTIN %s already belongs to another SKU",
                      r->v[C_GTIN]);
        }
    }

    if (!(r->ok & need_loc))
        return DEPOT_OK;
    long loc = intern_add(&im->locs, r->v[C_LOCATION], &added);
    if (loc < 0)
        return store__fail(im->st, DEPOT_E_NOMEM, "out of memory");
    int found;
    uint64_t *first = map_put(&im->pairs, ((uint64_t)sku << 32) | (uint64_t)loc, r->line,
                              &found);
    if (!first)
        return store__fail(im->st, DEPOT_E_NOMEM, "out of memory");
    if (found) {
        add_error(im, r->line, "", "SKU '%s' at location '%s' is already given on row %u",
                  r->v[C_SKU], r->v[C_LOCATION], (unsigned)*first);
        return DEPOT_OK;
    }
    /* One lookup serves this check and spares pass 2 from finding the SKU again. */
    sqlite3_stmt *s = store__stmt(im->st,
        "SELECT s.id, s.name <> ?3, (SELECT st.reserved FROM stock st JOIN locations l"
        "  ON l.id = st.location_id WHERE st.sku_id = s.id AND l.code = ?2)"
        " FROM skus s WHERE s.code = ?1");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, r->v[C_SKU], -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, r->v[C_LOCATION], -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, r->v[C_NAME], -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    int64_t reserved = rc == SQLITE_ROW ? sqlite3_column_int64(s, 2) : 0;
    if (!si->looked_up) {
        si->looked_up = 1;
        si->id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
        si->rename = rc == SQLITE_ROW && sqlite3_column_int(s, 1);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__dberr(im->st, "find SKU");
    if ((r->ok & (1u << C_ON_HAND)) && r->on_hand < reserved)
        add_error(im, r->line, "on_hand", "on_hand %lld is below the %lld already reserved "
                  "at this location", (long long)r->on_hand, (long long)reserved);
    return DEPOT_OK;
}

/* Reads the data rows after the header and hands each to fn (cross_check in pass 1,
 * apply_row in pass 2). Problems in the file go through add_error; the return value is
 * for I/O, memory and database failures and the row limit. */
static depot_err each_row(struct import *im, depot_csv *c,
                          depot_err (*fn)(struct import *, const struct row *))
{
    size_t rows = 0;
    while (!im->file_changed) {
        enum depot_csv_status s = depot_csv_next(c);
        if (s == DEPOT_CSV_EOF)
            break;
        if (s == DEPOT_CSV_IO)
            return store__fail(im->st, DEPOT_E_IO, "reading %s failed", im->file);
        if (++rows > MAX_ROWS)
            return store__fail(im->st, DEPOT_E_INVALID, "%s has more than %d rows; split it",
                               im->file, MAX_ROWS);
        if (s == DEPOT_CSV_BAD) {
            const struct depot_csv_error *e = depot_csv_error(c);
            add_error(im, e->line, e->field && e->field <= im->nhdr ? im->hdr[e->field - 1]
                                                                     : "", "%s", e->reason);
            continue;
        }
        if (depot_csv_nfields(c) != im->nhdr) {
            add_error(im, depot_csv_line(c), "", "expected %zu fields like the header, "
                      "found %zu", im->nhdr, depot_csv_nfields(c));
            continue;
        }
        struct row r;
        check_row(im, c, &r);
        if (im->nomem)
            break;
        if (im->file_changed)
            return DEPOT_OK;
        depot_err e = fn(im, &r);
        if (e != DEPOT_OK)
            return e;
    }
    if (im->nomem)
        return store__fail(im->st, DEPOT_E_NOMEM, "out of memory");
    if (im->pass == 1)
        im->res->rows = rows;
    else if (rows != im->res->rows)
        im->file_changed = 1;
    return DEPOT_OK;
}

/* Makes the SKU exist under the row's name (pass 1 found whether it does). */
static depot_err ensure_sku(struct import *im, const struct row *r, struct sku_info *si)
{
    depot_store *st = im->st;
    sqlite3_stmt *s;
    if (si->id) {
        s = store__stmt(st, "UPDATE skus SET name = ?2, updated_at = ?3 WHERE id = ?1");
        if (!s)
            return DEPOT_E_DB;
        sqlite3_bind_int64(s, 1, si->id);
        sqlite3_bind_text(s, 2, r->v[C_NAME], -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, im->now);
        si->rename = 0;
        return store__step_done(st, s);
    }
    s = store__stmt(st, "INSERT INTO skus (code, name, created_at, updated_at)"
                        " VALUES (?1, ?2, ?3, ?3)");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, r->v[C_SKU], -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, r->v[C_NAME], -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, im->now);
    depot_err e = store__step_done(st, s);
    if (e != DEPOT_OK)
        return e;
    si->id = sqlite3_last_insert_rowid(st->db);
    im->res->skus_created++;
    return DEPOT_OK;
}

/* Gives the GTIN to the SKU unless it has it already (pass 1 found which). */
static depot_err attach_gtin(struct import *im, int64_t sku_id, const char *gtin)
{
    uint64_t *g = map_get(&im->gtins, gtin_key(gtin));
    if (!g) {
        im->file_changed = 1;
        return DEPOT_OK;
    }
    if (*g & GTIN_HAVE)
        return DEPOT_OK;
    sqlite3_stmt *s = store__stmt(im->st, "INSERT INTO sku_gtins (gtin, sku_id) VALUES (?1, ?2)");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, gtin, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, sku_id);
    *g |= GTIN_HAVE;
    return store__step_done(im->st, s);
}

static depot_err ensure_location(struct import *im, const char *code, int64_t *id)
{
    depot_store *st = im->st;
    depot_err e = store__location_id(st, code, id);
    if (e != DEPOT_E_NOT_FOUND)
        return e;
    sqlite3_stmt *s = store__stmt(st, "INSERT INTO locations (code, created_at)"
                                      " VALUES (?1, ?2)");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_text(s, 1, code, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, im->now);
    if ((e = store__step_done(st, s)) != DEPOT_OK)
        return e;
    *id = sqlite3_last_insert_rowid(st->db);
    return DEPOT_OK;
}

static depot_err ensure_bin(struct import *im, int64_t location_id, const char *code,
                            int64_t *id)
{
    depot_store *st = im->st;
    sqlite3_stmt *s = store__stmt(st,
        "SELECT id FROM bins WHERE location_id = ?1 AND code = ?2");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, location_id);
    sqlite3_bind_text(s, 2, code, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__dberr(st, "find bin");
    if (*id)
        return DEPOT_OK;
    s = store__stmt(st, "INSERT INTO bins (location_id, code) VALUES (?1, ?2)");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, location_id);
    sqlite3_bind_text(s, 2, code, -1, SQLITE_STATIC);
    depot_err e = store__step_done(st, s);
    if (e == DEPOT_OK)
        *id = sqlite3_last_insert_rowid(st->db);
    return e;
}

/* Pass 2: makes the database say what the row says. */
static depot_err apply_row(struct import *im, const struct row *r)
{
    depot_store *st = im->st;
    long sku = intern_find(&im->skus, r->v[C_SKU]);
    long loc = intern_find(&im->locs, r->v[C_LOCATION]);
    if (sku < 0 || loc < 0) {
        im->file_changed = 1;
        return DEPOT_OK;
    }
    depot_err e;
    struct sku_info *si = &im->sku[sku];
    if ((!si->id || si->rename) && (e = ensure_sku(im, r, si)) != DEPOT_OK)
        return e;
    int64_t sku_id = im->sku[sku].id, bin_id = 0;
    if (*r->v[C_GTIN] && (e = attach_gtin(im, sku_id, r->v[C_GTIN])) != DEPOT_OK)
        return e;
    if (!im->loc_id[loc] &&
        (e = ensure_location(im, r->v[C_LOCATION], &im->loc_id[loc])) != DEPOT_OK)
        return e;
    int64_t loc_id = im->loc_id[loc];
    if (*r->v[C_BIN] && (e = ensure_bin(im, loc_id, r->v[C_BIN], &bin_id)) != DEPOT_OK)
        return e;

    sqlite3_stmt *s = store__stmt(st,
        "SELECT on_hand, buffer, bin_id FROM stock WHERE sku_id = ?1 AND location_id = ?2");
    if (!s)
        return DEPOT_E_DB;
    sqlite3_bind_int64(s, 1, sku_id);
    sqlite3_bind_int64(s, 2, loc_id);
    int rc = sqlite3_step(s);
    int exists = rc == SQLITE_ROW;
    int64_t on_hand = exists ? sqlite3_column_int64(s, 0) : 0;
    int64_t buffer = exists ? sqlite3_column_int64(s, 1) : 0;
    int64_t cur_bin = exists ? sqlite3_column_int64(s, 2) : 0; /* NULL reads as 0 */
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__dberr(st, "read stock");
    int buffer_moved = r->buffer >= 0 && r->buffer != buffer;
    if (!exists || buffer_moved || (bin_id && bin_id != cur_bin)) {
        s = store__stmt(st,
            "INSERT INTO stock (sku_id, location_id, bin_id, buffer, updated_at)"
            " VALUES (?1, ?2, ?3, coalesce(?4, 0), ?5)"
            " ON CONFLICT (sku_id, location_id) DO UPDATE SET bin_id = coalesce(?3, bin_id),"
            " buffer = coalesce(?4, buffer), updated_at = ?5");
        if (!s)
            return DEPOT_E_DB;
        sqlite3_bind_int64(s, 1, sku_id);
        sqlite3_bind_int64(s, 2, loc_id);
        if (bin_id)
            sqlite3_bind_int64(s, 3, bin_id);
        if (r->buffer >= 0)
            sqlite3_bind_int64(s, 4, r->buffer);
        sqlite3_bind_int64(s, 5, im->now);
        if ((e = store__step_done(st, s)) != DEPOT_OK)
            return e;
    }
    int64_t delta = r->on_hand - on_hand;
    if (delta && (e = store__ledger_apply(st, sku_id, loc_id, delta, "import", "stock import",
                                          im->file, im->actor, NULL)) != DEPOT_OK)
        return e;
    if (!delta && !buffer_moved)
        return DEPOT_OK;
    im->res->changed++;
    return store__stock_changed(st, sku_id, loc_id);
}

static depot_err audit_import(struct import *im)
{
    cJSON *d = cJSON_CreateObject();
    if (!d || !cJSON_AddStringToObject(d, "file", im->file) ||
        !cJSON_AddNumberToObject(d, "rows", (double)im->res->rows) ||
        !cJSON_AddNumberToObject(d, "changed", (double)im->res->changed) ||
        !cJSON_AddNumberToObject(d, "skus_created", (double)im->res->skus_created)) {
        cJSON_Delete(d);
        return store__fail(im->st, DEPOT_E_NOMEM, "out of memory");
    }
    char *detail = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    if (!detail)
        return store__fail(im->st, DEPOT_E_NOMEM, "out of memory");
    depot_err e = store__audit(im->st, im->actor, "stock.import", "stock", detail);
    cJSON_free(detail);
    return e;
}

static int same_file_state(const struct stat *a, const struct stat *b)
{
    return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

depot_err depot_stock_import_csv(depot_store *st, const char *path, const char *actor,
                                 struct depot_import_result *res)
{
    memset(res, 0, sizeof *res);
    store__clear_error(st);
    const char *slash = strrchr(path, '/');
    struct import im = {
        .st = st, .res = res, .pass = 1, .now = store__now(),
        .actor = actor && *actor ? actor : "unknown",
        .file = slash ? slash + 1 : path,
    };
    struct stat before, after;
    depot_csv *c = NULL;
    depot_err e = DEPOT_OK;
    int in_tx = 0, listed = 0; /* listed: the failure is the rows in res->errors */
    FILE *f = fopen(path, "rb");
    if (!f)
        return store__fail(st, DEPOT_E_IO, "cannot open %s: %s", path, strerror(errno));
    if (fstat(fileno(f), &before)) {
        e = store__fail(st, DEPOT_E_IO, "cannot stat %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(before.st_mode)) {
        e = store__fail(st, DEPOT_E_INVALID, "%s is not a regular file", path);
        goto out;
    }
    if (before.st_size > MAX_FILE_BYTES) {
        e = store__fail(st, DEPOT_E_INVALID, "%s is larger than 64 MiB; split it", path);
        goto out;
    }
    if (!(c = depot_csv_open_file(f))) {
        e = store__fail(st, DEPOT_E_NOMEM, "out of memory");
        goto out;
    }
    if ((e = store__begin(st)) != DEPOT_OK)
        goto out;
    in_tx = 1;

    if (read_header(&im, c) == 0 && (e = each_row(&im, c, cross_check)) != DEPOT_OK)
        goto out;
    if (im.nomem) {
        e = store__fail(st, DEPOT_E_NOMEM, "out of memory");
        goto out;
    }
    if (res->errors_total) {
        const struct depot_import_error *x = &res->errors[0];
        listed = 1;
        e = store__fail(st, DEPOT_E_INVALID, "%zu error%s in %s, nothing imported; first: "
                        "row %zu%s%s: %s", res->errors_total, res->errors_total > 1 ? "s" : "",
                        im.file, x->row, *x->column ? ", " : "", x->column, x->message);
        goto out;
    }

    im.pass = 2;
    depot_csv_close(c);
    rewind(f);
    if (!(c = depot_csv_open_file(f)) ||
        !(im.loc_id = calloc(im.locs.n + 1, sizeof *im.loc_id))) {
        e = store__fail(st, DEPOT_E_NOMEM, "out of memory");
        goto out;
    }
    read_header(&im, c);
    if ((e = each_row(&im, c, apply_row)) != DEPOT_OK)
        goto out;
    if (!im.file_changed &&
        (fstat(fileno(f), &after) || !same_file_state(&before, &after)))
        im.file_changed = 1;
    if (im.file_changed) {
        e = store__fail(st, DEPOT_E_INVALID, "%s changed while it was being imported; "
                        "nothing imported", im.file);
        goto out;
    }
    if ((e = audit_import(&im)) != DEPOT_OK)
        goto out;
    in_tx = 0;
    e = store__commit(st);
out:
    if (in_tx)
        store__rollback(st);
    if (e == DEPOT_OK) {
        store__clear_error(st); /* lookups of new locations left "unknown location" */
    } else {
        res->changed = res->skus_created = 0;
        if (!listed) { /* one reason for the whole file, in errmsg */
            free(res->errors);
            res->errors = NULL;
            res->errors_n = res->errors_total = 0;
        }
    }
    depot_csv_close(c);
    fclose(f);
    intern_free(&im.skus);
    intern_free(&im.locs);
    map_free(&im.pairs);
    map_free(&im.gtins);
    free(im.sku);
    free(im.loc_id);
    return e;
}

void depot_import_result_free(struct depot_import_result *res)
{
    if (!res)
        return;
    free(res->errors);
    memset(res, 0, sizeof *res);
}
