/* Checking an http(s) URL a user gave (libcurl parses it), shared by the store's carrier
 * accounts and the OAuth install flows (sync/token_install.c, web/oauth_woocommerce.c). */
#ifndef DEPOT_HTTP_URL_H
#define DEPOT_HTTP_URL_H

#include <stddef.h>

/* 1 if s is an http(s) URL libcurl accepts, without user info or fragment, of at most max
 * bytes; else 0. */
int depot_http_url_valid(const char *s, size_t max);

#endif
