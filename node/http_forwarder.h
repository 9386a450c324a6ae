// HttpForwarder: the Forwarder over HTTP/1.1 keep-alive connections (http::HttpClient, whose
// pool keeps connections per active node address). Hop-by-hop headers are dropped both
// ways; the request's Host is rewritten to the active's address; status, end-to-end headers
// and body of the active's answer come back unchanged. The outcome comes from the client's
// Reach: never written -> kNotSent, anything else without a full response -> kUnknown (the
// client never resends what it wrote). Owns its client; loop thread only.
#pragma once

#include <event2/event.h>

#include <map>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/http/http_client.h"
#include "common/net/net_address.h"
#include "node/forwarder.h"

namespace halo::node {

class HttpForwarder final : public Forwarder {
 public:
  // `timeout` bounds the connect (at most 2 s) and then the longest silence from the active
  // while its answer is awaited.
  HttpForwarder(event_base* base, Duration timeout);
  ~HttpForwarder() override;

  void Forward(const std::string& api_addr, http::Request request, DoneFn done) override;
  void Shutdown() override;

 private:
  struct Peer {
    Status status;  // why api_addr cannot be forwarded to
    net::NetAddress addr;
    std::string host_header;
  };
  static http::HttpClientOptions ClientOptions(Duration timeout);
  event_base* const base_;
  const Duration timeout_;
  std::unique_ptr<http::HttpClient> client_;
  std::map<std::string, Peer> peers_;  // api_addr -> resolved address (or why not)
};

}  // namespace halo::node
