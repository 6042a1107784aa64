/* Steps shared by depotctl's commands for outside accounts (sales channels, carriers, the
 * Shopify app): secrets given as "-" read from stdin and wiped after use, and fetching
 * an account list for --json or a table. */
#include <stdlib.h>
#include <string.h>
#include "ctl.h"

int ctl__read_secrets(struct ctl *c, const char **vals, int n, const char *order,
                      char (**buf)[CTL_SECRET_LINE_MAX])
{
    if (!(*buf = calloc((size_t)n, sizeof **buf)))
        return ctl__fail(c, DEPOT_E_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        char *line = (*buf)[i];
        if (!vals[i] || strcmp(vals[i], "-") != 0)
            continue;
        if (!fgets(line, CTL_SECRET_LINE_MAX, stdin))
            return ctl__fail(c, DEPOT_E_INVALID, "a secret given as '-' is missing on stdin "
                             "(one line each, in the order %s)", order);
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        else if (len == CTL_SECRET_LINE_MAX - 1)
            return ctl__fail(c, DEPOT_E_INVALID, "a secret on stdin is too long");
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        vals[i] = line;
    }
    return CTL_EXIT_OK;
}

void ctl__wipe_secrets(char (*buf)[CTL_SECRET_LINE_MAX], int n)
{
    if (buf)
        explicit_bzero(buf, (size_t)n * sizeof *buf);
    free(buf);
}

int ctl__account_list(struct ctl *c, int argc, char **argv,
                      depot_err (*list)(depot_store *st, cJSON **doc), cJSON **doc)
{
    depot_store *st;
    int rc = ctl__plain_args(c, argc, argv, 0);
    if (rc != CTL_GO)
        return rc;
    if ((rc = ctl__open(c, 1, &st)) != CTL_EXIT_OK)
        return rc;
    depot_err e = list(st, doc);
    rc = e == DEPOT_OK ? CTL_GO : ctl__store_fail(c, st, e);
    depot_store_close(st);
    if (rc == CTL_GO && c->json)
        return ctl__done(c, *doc, "%s", "");
    return rc;
}
