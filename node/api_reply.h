// ApiReply: a complete HTTP answer produced by the node's request handlers (status, extra
// headers, JSON body), independent of the transport that sends it. Helpers build OpenBao's
// error shape {"errors":[...]}.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace halo::node {

struct ApiReply {
  int status = 200;
  // Headers besides Content-Type/Content-Length (e.g. Location).
  std::vector<std::pair<std::string, std::string>> headers;
  // JSON text, or empty for a reply without a body (204, HEAD, 307).
  std::string body;
};

// {"errors":[...]} with `status`.
ApiReply ErrorReply(int status, const std::vector<std::string>& errors);
inline ApiReply ErrorReply(int status, std::string_view error) {
  return ErrorReply(status, std::vector<std::string>{std::string(error)});
}
ApiReply JsonReply(int status, std::string body);

// The standard errors, with OpenBao's wording.
ApiReply PermissionDenied();                   // 403
ApiReply MethodNotAllowed();                   // 405 {"errors":[]}
ApiReply NoHandler(std::string_view path);     // 404 no handler for route
ApiReply NoActiveNode();                       // 503
ApiReply Redirect(std::string_view location);  // 307

}  // namespace halo::node
