/* Route table of GET /api/v1/devices (api_devices.c), for the router (web/router.c). */
#ifndef DEPOT_WEB_API_DEVICES_H
#define DEPOT_WEB_API_DEVICES_H

#include "web_int.h"

extern const struct web_route web_routes_devices[];

#endif
