/* The manual shipping label: the order's ship-to address, order number and shipment on
 * a 4x6 ZPL label with a QR code that finds the order again. */
#include <stdio.h>
#include <string.h>
#include "pack_label.h"

static const char *member(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* Appends ", s" (or s when text is empty) if s is set and fits; never cuts a UTF-8
 * sequence in two, since it only ever appends whole strings. */
static void add_part(char *text, size_t cap, const char *s)
{
    size_t len = strlen(text);
    if (!s || len + strlen(s) + 2 >= cap)
        return;
    snprintf(text + len, cap - len, "%s%s", len ? ", " : "", s);
}

int pack_label_build(struct depot_zpl_buf *out, const cJSON *order, int64_t shipment_id,
                     int dpi, char *err, size_t errlen)
{
    static const char *const address_fields[] = {
        "name", "company", "address1", "address2", "city", "province", "state", "zip",
        "postcode", "country", NULL,
    };
    const struct depot_zpl_media media = {DEPOT_ZPL_STOCK_4X6, dpi};
    const cJSON *ship_to = cJSON_GetObjectItemCaseSensitive(order, "ship_to");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(order, "id");
    const char *number = member(order, "number");
    char ref[32], text[DEPOT_ZPL_TEXT_MAX + 1] = "", extra[96];
    if (!cJSON_IsNumber(id)) {
        snprintf(err, errlen, "the order has no id");
        return -1;
    }
    snprintf(ref, sizeof ref, "ORDER-%lld", (long long)id->valuedouble);
    for (size_t i = 0; address_fields[i]; i++)
        add_part(text, sizeof text, member(ship_to, address_fields[i]));
    if (!text[0])
        add_part(text, sizeof text, "no ship-to address");
    snprintf(extra, sizeof extra, "order %.32s, shipment %lld", number ? number : ref,
             (long long)shipment_id);
    add_part(text, sizeof text, extra);
    return depot_zpl_tote_label(out, &media, ref, text, err, errlen);
}
