// HttpForwarder: the Forwarder over HTTP/1.1 keep-alive connections (http::HttpClientPool),
// one pool per active node address. Hop-by-hop headers are dropped both ways; the request's
// Host is rewritten to the active's address; status, end-to-end headers and body of the
// active's answer come back unchanged. Loop thread only.
#pragma once

#include <event2/event.h>

#include <map>
#include <memory>
#include <string>

#include "common/clock.h"
#include "node/forwarder.h"

namespace halo::node {

class HttpForwarder final : public Forwarder {
 public:
  // `timeout` bounds one forwarded exchange (connect + request + response).
  HttpForwarder(event_base* base, Duration timeout);
  ~HttpForwarder() override;

  void Forward(const std::string& api_addr, http::Request request, DoneFn done) override;
  void Shutdown() override;

 private:
  struct Pools;
  event_base* const base_;
  const Duration timeout_;
  std::unique_ptr<Pools> pools_;
};

}  // namespace halo::node
