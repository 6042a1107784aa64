/* The test label `depotctl printer test` and POST /api/v1/printers/{name}/test queue:
 * built with the order/tote label builder, so it exercises text, QR and the media. */
#include <stdio.h>
#include "printer.h"
#include "zpl.h"

int depot_printer_test_label(struct depot_zpl_buf *out, const struct depot_zpl_media *m,
                             const char *name, char *err, size_t errlen)
{
    char ref[DEPOT_ZPL_CODE_MAX + 1], title[DEPOT_ZPL_TEXT_MAX + 1];
    int w = 0, l = 0;
    if (depot_zpl_media_dots(m, &w, &l) != 0) {
        snprintf(err, errlen, "unsupported media");
        return -1;
    }
    if (snprintf(ref, sizeof ref, "PRINTER-TEST:%s", name) >= (int)sizeof ref) {
        snprintf(err, errlen, "printer name too long for a test label");
        return -1;
    }
    snprintf(title, sizeof title, "Depot test: %s, %s in, %d dpi", name,
             m->stock == DEPOT_ZPL_STOCK_4X6 ? "4x6" : "2x1", m->dpi);
    return depot_zpl_tote_label(out, m, ref, title, err, errlen);
}
