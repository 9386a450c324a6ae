// Forwarder: sends a request that a standby must not answer itself (a write, or any request
// with disable_standby_reads) to the active node, and hands back the active's response as
// it is. The request already carries the hop marker (kForwardedHeader).
//
// Outcomes, for the caller's answer to its client:
//  - kResponse: the active answered (any status); pass it back unchanged;
//  - kNotSent: the request never left this node (no connection could be made): safe to
//    retry elsewhere, answered 503;
//  - kUnknown: it was sent but no complete response came back (the write may or may not
//    have happened): answered 502 and never replayed.
#pragma once

#include <functional>
#include <string>

#include "common/http/message.h"

namespace halo::node {

// The hop marker on forwarded requests, valued HopMarker() (node/auth.h): only nodes that
// share the cluster secret can make it. A node that receives a request carrying a valid one
// never forwards it again (no loops): if it is not active it answers 503. A value that does
// not match is a client's and is ignored; the router strips the field from client requests.
inline constexpr const char kForwardedHeader[] = "X-Halo-Forwarded";

struct ForwardOutcome {
  enum class Kind { kResponse, kNotSent, kUnknown };
  Kind kind = Kind::kNotSent;
  http::Response response;  // kResponse
  std::string error;        // kNotSent, kUnknown: why
};

class Forwarder {
 public:
  using DoneFn = std::function<void(ForwardOutcome)>;
  virtual ~Forwarder() = default;

  // Sends `request` to the node at `api_addr` ("http://host:port"). `done` runs exactly
  // once, on the caller's event loop thread, possibly before Forward returns.
  virtual void Forward(const std::string& api_addr, http::Request request, DoneFn done) = 0;
  // Drops idle connections and fails requests in flight (shutdown).
  virtual void Shutdown() = 0;

 protected:
  Forwarder() = default;
};

}  // namespace halo::node
