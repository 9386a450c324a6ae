// The node's decision from a request's head alone (route, method, token), made before its
// body is read: OpenBao's order, as NodeApi has always answered it. The local sys
// endpoints (health, leader, seal-status) need no token and refuse other methods; every
// other route needs the token first (403, even for a route that does not exist), then a
// method it serves (405), and an unknown route is 404. NodeApi makes this decision at the
// head of a request with a body (HttpHandler::CheckHead: a refused body is never read,
// the connection closes after the answer) and again when it dispatches any request, so the
// two cannot differ. The declared size is the transport's (413 from Content-Length against
// listener.tcp.max_request_size, common/http/parser_core.h). Pure functions.
#pragma once

#include <string_view>

#include "common/http/message.h"
#include "node/api_route.h"

namespace halo::node {

enum class HeadVerdict {
  kProceed,           // read the body (if any) and handle the request
  kPermissionDenied,  // 403
  kNotFound,          // 404
  kMethodNotAllowed,  // 405
};

// `authorized`: the request carries the root token (node/auth.h).
HeadVerdict DecideHead(RouteKind route, std::string_view method, bool authorized);

// The answer for a refusal, in OpenBao's words. REQUIRES: verdict != kProceed.
http::Response HeadRefusal(HeadVerdict verdict, const Route& route);

}  // namespace halo::node
