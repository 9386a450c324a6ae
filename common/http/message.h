// The HTTP message model shared by the parser, the serializer, the node's server and client,
// and the router: Request and Response. Plain value types; the parser fills them, handlers
// read and build them. Not thread-safe (move them between threads, don't share).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/http/headers.h"

namespace halo::http {

// What Request and Response have in common.
struct Message {
  int version_major = 1;
  int version_minor = 1;
  Headers headers;
  Headers trailers;  // chunked trailer fields, if any
  std::string body;  // whole body (buffered mode); empty when the body was streamed
  // Framing as received: Content-Length value, or -1 when absent; chunked when
  // Transfer-Encoding: chunked was used. Ignored by the serializer.
  int64_t content_length = -1;
  bool chunked = false;
  // Whether the connection may carry another message after this one (HTTP/1.0 vs 1.1
  // defaults, Connection: close / keep-alive, close-delimited bodies).
  bool keep_alive = true;

  bool IsHttp11() const { return version_major == 1 && version_minor >= 1; }
};

struct Request : Message {
  std::string method;       // exactly as sent: "GET", "LIST", "SCAN"...
  std::string target;       // raw request-target: "/v1/secret/a%20b?list=true"
  std::string path;         // decoded path: "/v1/secret/a b"
  std::string query;        // raw query without '?': "list=true"
  std::string remote_addr;  // "ip:port" of the peer, set by the server ("" otherwise)

  // Decoded value of query parameter `name`, or nullopt.
  std::optional<std::string> QueryParam(std::string_view name) const;
  // True for ?name=true / 1 / t ... (Go ParseBool), as OpenBao reads ?list=true.
  bool QueryFlag(std::string_view name) const;
};

struct Response : Message {
  int status = 200;
  std::string reason;  // as received; the serializer uses the standard phrase when empty
};

}  // namespace halo::http
