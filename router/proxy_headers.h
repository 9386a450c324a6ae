// The request head the router sends towards a node: the client's request with the hop-by-hop
// fields and the nodes' own hop marker X-Halo-Forwarded removed (common/http/framing.h,
// node/forwarder.h), X-Forwarded-For (the client's address appended to
// any existing list) and X-Forwarded-Proto, Host when the client sent none, and the router's
// own framing. Field names and values come from the strict parser (already validated), so
// they are written as is. Appends into a caller-owned string. Pure.
#pragma once

#include <string>
#include <string_view>

#include "common/http/message.h"

namespace halo::router {

// "METHOD target HTTP/1.1", filtered fields, X-Forwarded-*, Host (added from `default_host`
// when the client sent none), framing. `Expect` is dropped: the router's server connection
// has already answered it (100 Continue) towards the client.
// X-Forwarded-Proto is "https" when the client came over TLS (`https`).
void AppendUpstreamRequestHead(const http::Request& req, std::string_view client_ip, bool https,
                               std::string_view default_host, std::string* out);

// {"errors":["<message>"]} with JSON escaping.
std::string ErrorsJson(std::string_view message);

}  // namespace halo::router
