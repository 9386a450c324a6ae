#include "node/api_response.h"

#include "common/http/retry_policy.h"
#include "kv/json.h"

namespace halo::node {

http::Response ErrorReply(int status, const std::vector<std::string>& errors) {
  http::Response response = kv::ErrorResponse(status, errors);
  response.body.push_back('\n');
  return response;
}

http::Response JsonReply(int status, std::string body) {
  return kv::JsonResponse(status, std::move(body));
}

http::Response PermissionDenied() { return ErrorReply(403, "permission denied"); }

http::Response MethodNotAllowed() { return ErrorReply(405, std::vector<std::string>{}); }

http::Response NoHandler(std::string_view path) {
  return ErrorReply(404,
                    "no handler for route \"" + std::string(path) + "\". route entry not found.");
}

http::Response NoActiveNode() { return NotExecuted("no active node found"); }

http::Response NotExecuted(std::string_view error) {
  http::Response response = ErrorReply(503, error);
  MarkNotExecuted(&response);
  return response;
}

void MarkNotExecuted(http::Response* response) {
  response->headers.Set(http::kNotExecutedHeader, "1");
}

http::Response Redirect(std::string_view location) {
  http::Response response = JsonReply(307, "");
  response.headers.Add("Location", location);
  return response;
}

}  // namespace halo::node
