/* The certificates outbound HTTPS trusts (channels, carriers, OAuth token calls): the
 * system's store, or a PEM bundle named once at start-up (depotd's upstream_ca_file,
 * depotctl's DEPOT_UPSTREAM_CA_FILE), for a WooCommerce store or a proxy behind a
 * private CA. Every libcurl handle the process makes gets it; verification of the peer
 * and its host name stays on either way. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "http_call.h"
#include "sync.h"

static char ca_file[PATH_MAX]; /* "" = the system's store; set before any thread starts */

int depot_http_trust_file(const char *path, char *err, size_t errlen)
{
    if (!path || !path[0]) {
        ca_file[0] = '\0';
        return 0;
    }
    if (strlen(path) >= sizeof ca_file || access(path, R_OK) != 0) {
        snprintf(err, errlen, "upstream CA file %s cannot be read", path);
        return -1;
    }
    snprintf(ca_file, sizeof ca_file, "%s", path);
    return 0;
}

void http_trust(CURL *h)
{
    if (ca_file[0])
        curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
}
