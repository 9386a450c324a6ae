// DecideAdminAccess: who may read the router's own pages on the admin listener
// (router/README.md, "Admin listener"). Without a configured token anyone who can reach the
// admin address may (keep it on loopback); with one, the request must present it in
// X-Halo-Admin-Token or "Authorization: Bearer <token>", compared in constant time. Pure.
#pragma once

#include <string_view>

#include "common/http/headers.h"

namespace halo::router {

// True when `headers` may see the admin pages for `token` (empty: no token configured).
bool AdminAccessAllowed(const http::Headers& headers, std::string_view token);

}  // namespace halo::router
