/* Scan resolution: what a scanned barcode means at a packing station (a SKU, an order or
 * tote, a bin, a user's badge, a command) as one JSON object. Shared by the serial
 * scanner path (daemon/scanners.c) and the web UI's keyboard-wedge path, so a scan means
 * the same thing whichever way it arrives. Reads only; writes nothing.
 *
 * What is tried, in this order (the first match wins):
 *  1. command   "CMD-" + PACK | CANCEL | REPRINT | LOGOUT (case-insensitive), printed as
 *               Code 128 on the station's command sheet. Another "CMD-" word is unknown.
 *  2. badge     "BADGE-..." (depot_user_check_badge): the user it logs in.
 *  3. sku       by GTIN: the gtin argument (GS1 AI 01 / EAN / UPC, as GTIN-14) or a text
 *               of 8, 12, 13 or 14 digits with a valid check digit, matched against
 *               sku_gtins in every zero-padded form (GTIN-8/12/13/14);
 *  4. sku       by SKU code (exact);
 *  5. bin       a bin code (exact), in any location;
 *  6. order     anything depot_pack_order_find accepts (sqlite/pack.h): "ORDER-<id>" (our
 *               order/tote label), "<id>" or "#<id>", the display number or the
 *               external id;
 *  7. unknown.
 * Surrounding whitespace (a wedge scanner's CR/LF/Tab) is ignored.
 *
 * The result is one cJSON object, always with "kind":
 *   {"kind":"command","command":"PACK"}
 *   {"kind":"badge","user":"alice","role":"packer"}          valid badge
 *   {"kind":"badge","user":null,"reason":"unknown_badge"|"user_disabled"}
 *   {"kind":"sku","sku":"ABC-1","sku_id":3,"name":"Mug","matched":"gtin"|"sku_code",
 *    "gtin":"00012345678905"}                                ("gtin" only when matched by it)
 *   {"kind":"order","order_id":42,"external_id":"5512","number":"#1001",
 *    "status":"reserved"}
 *   {"kind":"bin","bin":"A-01-02","locations":["MAIN"]}
 *   {"kind":"unknown","reason":"no_match"|"unknown_command"|"invalid_characters"}
 * A badge is a secret: the result never contains the scanned badge text, and callers
 * must not echo or log the raw scan when kind is "badge" (depot_scan_is_secret()). */
#ifndef DEPOT_SCAN_RESOLVE_H
#define DEPOT_SCAN_RESOLVE_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "store.h"

#define DEPOT_SCAN_TEXT_MAX 512          /* longest scan text accepted */
#define DEPOT_SCAN_COMMAND_PREFIX "CMD-" /* command barcodes: CMD-PACK, CMD-CANCEL, ... */

/* Resolves one scan. text is the scan's data after the AIM identifier (NUL-terminated,
 * at most DEPOT_SCAN_TEXT_MAX bytes, GS allowed inside GS1 element strings); gtin is
 * the GTIN-14 a GS1 parse found (AI 01, or an EAN/UPC scan), or NULL. On success *out is
 * the object described above (caller frees with cJSON_Delete); a scan that matches
 * nothing is a success with kind "unknown". DEPOT_E_INVALID for a NULL or over-long
 * text, DEPOT_E_DB / DEPOT_E_BUSY / DEPOT_E_NOMEM otherwise. */
depot_err depot_scan_resolve(depot_store *st, const char *text, const char *gtin,
                             cJSON **out);

/* 1 if text looks like a secret that must not be echoed or logged (a badge), else 0:
 * lets callers redact before resolution fails or without resolving at all. */
int depot_scan_is_secret(const char *text);

#endif
