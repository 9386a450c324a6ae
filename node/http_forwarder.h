// HttpForwarder: the Forwarder over one multiplexed HTTP/2 connection to the active
// (http::HttpClient with h2; HTTP/1.1 keep-alive connections per active address for an
// active that does not offer h2). Hop-by-hop headers are dropped both
// ways; the request's Host is rewritten to the active's address; status, end-to-end headers
// and body of the active's answer come back unchanged. The outcome comes from the client's
// Reach: never written -> kNotSent, anything else without a full response -> kUnknown (the
// client never resends what it wrote). An api_addr with a host name is resolved once,
// through the Resolver and off the loop; requests for it wait for the answer. Owns its
// client; loop thread only.
#pragma once

#include <event2/event.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/http/http_client.h"
#include "common/loop_task_queue.h"
#include "common/net/net_address.h"
#include "common/net/resolver.h"
#include "node/forwarder.h"

namespace halo::node {

class HttpForwarder final : public Forwarder {
 public:
  // `timeout` bounds the connect (at most 2 s) and then the longest silence from the active
  // while its answer is awaited.
  // REQUIRES: `resolver` outlives the forwarder.
  // `tls`: the cluster_tls client context (forwards go to https:// api_addrs only), or
  // nullptr for plaintext.
  HttpForwarder(event_base* base, Duration timeout, net::Resolver* resolver,
                std::shared_ptr<const net::TlsContext> tls = nullptr);
  ~HttpForwarder() override;

  void Forward(const std::string& api_addr, http::Request request, DoneFn done) override;
  void Shutdown() override;
  // A reloaded cluster_tls context: later forwards use it (idle connections are closed).
  void SetTls(std::shared_ptr<const net::TlsContext> tls);

 private:
  struct Waiting {
    http::Request request;
    DoneFn done;
  };
  struct Peer {
    Status status;  // why api_addr cannot be forwarded to
    net::NetAddress addr;
    std::string host_header;
    std::unique_ptr<net::Resolver::Handle> resolving;  // a name lookup in progress
    std::vector<Waiting> waiting;                      // requests waiting for it
  };
  http::HttpClientOptions ClientOptions(Duration timeout) const;
  // Parses api_addr; starts resolving a name.
  Peer& PeerFor(const std::string& api_addr);
  void Send(Peer& peer, const std::string& api_addr, http::Request request, DoneFn done);
  event_base* const base_;
  const Duration timeout_;
  net::Resolver* resolver_;
  std::shared_ptr<const net::TlsContext> tls_;  // cluster_tls; nullptr: plaintext
  std::shared_ptr<LoopTaskQueue> replies_;
  std::unique_ptr<http::HttpClient> client_;
  std::map<std::string, Peer> peers_;  // api_addr -> resolved address (or why not)
};

}  // namespace halo::node
