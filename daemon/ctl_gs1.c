/* depotctl's gs1 command: parse one raw scan from stdin and show what it carries. */
#include <stdio.h>
#include <string.h>
#include "ctl.h"
#include "gs1.h"

/* An invalid scan: `depotctl: <why>` on stderr and, with --json, the error document
 * with code invalid_barcode on stdout. */
static int invalid(struct ctl *c, const char *why)
{
    fprintf(stderr, "depotctl: invalid barcode: %s\n", why);
    if (c->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON *err = cJSON_AddObjectToObject(doc, "error");
        cJSON_AddStringToObject(err, "code", "invalid_barcode");
        cJSON_AddStringToObject(err, "message", why);
        char *s = cJSON_Print(doc);
        if (s)
            printf("%s\n", s);
        cJSON_free(s);
        cJSON_Delete(doc);
    }
    return CTL_EXIT_FAIL;
}

/* Reads all of stdin, up to cap bytes; *len is cap + 1 if there was more. */
static int read_scan(char *buf, size_t cap, size_t *len)
{
    size_t n = fread(buf, 1, cap, stdin);
    if (ferror(stdin))
        return -1;
    if (n == cap && getc(stdin) != EOF)
        n = cap + 1;
    *len = n;
    return 0;
}

static cJSON *scan_json(const struct depot_gs1_scan *s)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "symbology", depot_gs1_symbology_name(s->symbology));
    cJSON *ais = cJSON_AddArrayToObject(doc, "ais");
    for (size_t i = 0; ais && i < s->n_fields; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "ai", s->fields[i].ai);
        cJSON_AddStringToObject(f, "value", s->fields[i].value);
        cJSON_AddItemToArray(ais, f);
    }
    if (s->plain)
        cJSON_AddStringToObject(doc, "data", s->data);
    return doc;
}

static void print_text(const struct depot_gs1_scan *s)
{
    printf("symbology: %s\n", depot_gs1_symbology_name(s->symbology));
    for (size_t i = 0; i < s->n_fields; i++)
        printf("(%s) %s\n", s->fields[i].ai, s->fields[i].value);
    if (s->plain)
        printf("data: %s\n", s->data);
}

int ctl__gs1_parse(struct ctl *c, int argc, char **argv)
{
    struct depot_gs1_scan scan;
    char buf[DEPOT_GS1_INPUT_MAX + 2]; /* the scan and one CR LF */
    size_t len;
    int rc = ctl__plain_args(c, argc, argv, 0);
    if (rc != CTL_GO)
        return rc;
    if (read_scan(buf, sizeof buf, &len) != 0)
        return ctl__fail(c, DEPOT_E_IO, "cannot read the scan from stdin");
    if (len > sizeof buf) {
        char why[64];
        snprintf(why, sizeof why, "scan longer than %d bytes", DEPOT_GS1_INPUT_MAX);
        return invalid(c, why);
    }
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    if (depot_gs1_parse(buf, len, &scan) != DEPOT_GS1_OK)
        return invalid(c, scan.error);
    if (!c->json) {
        print_text(&scan);
        return CTL_EXIT_OK;
    }
    cJSON *doc = scan_json(&scan);
    char *s = doc ? cJSON_Print(doc) : NULL;
    cJSON_Delete(doc);
    if (!s)
        return ctl__fail(c, DEPOT_E_NOMEM, "out of memory");
    printf("%s\n", s);
    cJSON_free(s);
    return CTL_EXIT_OK;
}
