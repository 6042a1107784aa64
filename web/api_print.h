/* Route table of the printer and print-job endpoints (api_print.c), for the router. */
#ifndef DEPOT_WEB_API_PRINT_H
#define DEPOT_WEB_API_PRINT_H

#include "web_int.h"

extern const struct web_route web_routes_print[];

#endif
