// Framing and hop-by-hop rules shared by every HTTP/1 writer that relays messages: the
// server connection's response heads (both daemons), the router's request heads towards a
// node and the node's forwarder. RFC 9110 §7.6.1 hop-by-hop fields (Connection and every
// field it names, Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade, and
// Content-Length, which the writer recomputes) never cross a hop; the writer puts its own
// framing in their place. Everything else passes through unchanged and in order.
//
// Field names and values are written as given: callers pass fields from the strict parser
// (already validated) or check handler-made ones with IsWritableField (serializer.h). Appends
// into a caller-owned string (reused per connection: no allocation once warm). Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/http/message.h"

namespace halo::http {

// How the body that follows a head is framed on the wire.
enum class BodyFraming : uint8_t {
  kNone,           // no body (or a HEAD/204/304 answer: the announced Content-Length kept)
  kLength,         // Content-Length: n
  kChunked,        // Transfer-Encoding: chunked
  kCloseDelimited  // response only: body ends when the connection closes
};

// True for fields that never cross a hop (the fixed hop-by-hop set, Content-Length, and any
// name listed in `connection_value`).
bool IsHopByHop(std::string_view name, std::string_view connection_value);
// Every Connection field of `h` joined with ','; `joined` is scratch space.
std::string_view ConnectionValue(const Headers& h, std::string* joined);

// `in` without its hop-by-hop fields (for relays that rebuild a message field by field).
Headers EndToEndHeaders(const Headers& in);

void AppendField(std::string* out, std::string_view name, std::string_view value);
// "Content-Length: n" or "Transfer-Encoding: chunked" (nothing for the other framings).
void AppendFraming(std::string* out, BodyFraming framing, int64_t length);

// The framing a server uses towards its client for `resp`, which answers a request with
// `request_method` from a client speaking HTTP/1.`client_minor`.
BodyFraming ClientFraming(const Response& resp, std::string_view request_method, int client_minor);

// Response head for the client. `framing` says what will follow; for kNone the response's
// own Content-Length field (if any) is kept, so HEAD answers keep their length.
// `keep_alive` false adds "Connection: close"; true towards an HTTP/1.0 client
// (`client_minor` 0) adds "Connection: keep-alive".
void AppendClientResponseHead(const Response& resp, BodyFraming framing, bool keep_alive,
                              std::string* out, int client_minor = 1);

// A complete small response made by the server itself (errors, redirects, status pages):
// body with Content-Length and Cache-Control: no-store. `extra_name`/`extra_value` add one
// field (Location, Retry-After, Allow) when non-empty.
void AppendLocalResponse(int status, std::string_view content_type, std::string_view body,
                         bool keep_alive, std::string_view extra_name, std::string_view extra_value,
                         std::string* out, bool head_only = false, int client_minor = 1);

}  // namespace halo::http
