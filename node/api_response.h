// The node's own HTTP answers (sys/* endpoints, routing and auth refusals, 307s) as
// http::Response values, built on the KV engines' JsonResponse (kv/json.h) so that every
// answer the node makes carries the same headers: Cache-Control: no-store, and
// Content-Type: application/json when there is a body. Error bodies are OpenBao's
// {"errors":[...]} followed by a newline (as Go's json.Encoder ends them). Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/http/message.h"

namespace halo::node {

// {"errors":[...]} with `status`.
http::Response ErrorReply(int status, const std::vector<std::string>& errors);
inline http::Response ErrorReply(int status, std::string_view error) {
  return ErrorReply(status, std::vector<std::string>{std::string(error)});
}
// `body` (JSON text, or empty for no body: 204, HEAD) with `status`.
http::Response JsonReply(int status, std::string body);

// The standard errors, with OpenBao's wording.
http::Response PermissionDenied();                // 403
http::Response MethodNotAllowed();                // 405 {"errors":[]}
http::Response NoHandler(std::string_view path);  // 404 no handler for route
http::Response NoActiveNode();                    // 503, marked not executed
// A 503 for a request this node did not execute and did not pass on (no active, shutting
// down, never sent to the active): marked with http::kNotExecutedHeader so that the router
// may send it again (common/http/retry_policy.h).
http::Response NotExecuted(std::string_view error);
// Adds that marker to an answer built elsewhere (a write the engine refused unrun).
void MarkNotExecuted(http::Response* response);
http::Response Redirect(std::string_view location);  // 307 with Location, no body

}  // namespace halo::node
