/* Route table of the back office's returns receiving (api_returns.c), for the router. */
#ifndef DEPOT_WEB_API_RETURNS_H
#define DEPOT_WEB_API_RETURNS_H

#include "web_int.h"

extern const struct web_route web_routes_returns[]; /* api_returns.c */

#endif
