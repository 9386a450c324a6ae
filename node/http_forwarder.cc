#include "node/http_forwarder.h"

#include <algorithm>
#include <vector>

#include "common/http/framing.h"
#include "common/http/url.h"
#include "node/node_config.h"

namespace halo::node {
namespace {

// End-to-end fields only; Host is set from the active's address, and the Proxy-* fields were
// meant for this hop.
http::Headers EndToEnd(const http::Headers& in) {
  http::Headers out = http::EndToEndHeaders(in);
  out.Remove("host");
  out.Remove("proxy-authenticate");
  out.Remove("proxy-authorization");
  return out;
}

}  // namespace

http::HttpClientOptions HttpForwarder::ClientOptions(Duration timeout) const {
  http::HttpClientOptions o;
  o.tls = tls_;
  o.h2 = true;  // many forwarded requests share one connection to the active
  o.connect_timeout_ms = ToMillis(std::min<Duration>(timeout, seconds(2)));
  return o;
}

HttpForwarder::HttpForwarder(event_base* base, Duration timeout, net::Resolver* resolver,
                             std::shared_ptr<const net::TlsContext> tls)
    : base_(base), timeout_(timeout), resolver_(resolver), tls_(std::move(tls)) {
  client_ = std::make_unique<http::HttpClient>(base, ClientOptions(timeout));
  Result<std::shared_ptr<LoopTaskQueue>> q = LoopTaskQueue::Create(base);
  if (q.ok()) replies_ = std::move(q).value();
}

HttpForwarder::~HttpForwarder() {
  peers_.clear();  // cancels lookups in progress
  if (replies_) replies_->Close();
}

HttpForwarder::Peer& HttpForwarder::PeerFor(const std::string& api_addr) {
  auto it = peers_.find(api_addr);
  if (it != peers_.end()) return it->second;
  Peer& peer = peers_[api_addr];
  std::string host;
  int port = 0;
  // With cluster_tls every forward is over TLS (https:// api_addr), without it none is.
  const std::string_view scheme = tls_ ? "https://" : "http://";
  if (api_addr.compare(0, scheme.size(), scheme) != 0) {
    peer.status = Status::InvalidArgument(
        tls_ ? "cluster_tls is set: only an https:// api_addr can be forwarded to"
             : "only an http:// api_addr can be forwarded to (set cluster_tls for https://)");
  } else {
    peer.status = ParseHostPort(std::string_view(api_addr).substr(scheme.size()), &host, &port);
  }
  if (peer.status.ok() && (port <= 0 || port > 65535)) {
    peer.status = Status::InvalidArgument("bad port");
  }
  if (!peer.status.ok()) return peer;
  bool v6_literal = host.find(':') != std::string::npos;
  peer.host_header = (v6_literal ? "[" + host + "]" : host) + ":" + std::to_string(port);
  if (std::optional<net::NetAddress> a =
          net::ParseNumericAddress(host, static_cast<uint16_t>(port))) {
    peer.addr = *a;
    return peer;
  }
  if (!replies_) {
    peer.status = Status::Internal("no reply queue for name lookups");
    return peer;
  }
  peer.resolving = resolver_->Resolve(
      host, port, replies_, [this, api_addr](Result<std::vector<net::NetAddress>> r) {
        auto found = peers_.find(api_addr);
        if (found == peers_.end()) return;
        Peer& p = found->second;
        p.resolving.reset();
        if (r.ok() && !r->empty()) {
          p.addr = r->front();
        } else {
          p.status = r.ok() ? Status::Unavailable("no address") : r.status();
        }
        std::vector<Waiting> waiting = std::move(p.waiting);
        // A failed name is looked up again by the next request.
        if (!p.status.ok()) peers_.erase(found);
        for (Waiting& w : waiting) Forward(api_addr, std::move(w.request), std::move(w.done));
      });
  return peer;
}

void HttpForwarder::Forward(const std::string& api_addr, http::Request request, DoneFn done) {
  Peer& peer = PeerFor(api_addr);
  if (peer.resolving) {
    peer.waiting.push_back(Waiting{std::move(request), std::move(done)});
    return;
  }
  Send(peer, api_addr, std::move(request), std::move(done));
}

void HttpForwarder::Send(Peer& peer, const std::string& api_addr, http::Request request,
                         DoneFn done) {
  if (!peer.status.ok()) {
    ForwardOutcome outcome;
    outcome.kind = ForwardOutcome::Kind::kNotSent;
    outcome.error = api_addr + ": " + peer.status.message();
    done(std::move(outcome));
    return;
  }
  http::ClientRequest out;
  out.method = std::move(request.method);
  out.target = http::OriginForm(request.target);
  out.headers = EndToEnd(request.headers);
  out.body = std::move(request.body);
  client_->Send(peer.addr, peer.host_header, std::move(out), ToMillis(timeout_),
                [done = std::move(done)](http::ClientResult result) {
                  ForwardOutcome outcome;
                  if (result.ok()) {
                    outcome.kind = ForwardOutcome::Kind::kResponse;
                    outcome.response.status = result.response.status;
                    outcome.response.headers = EndToEnd(result.response.headers);
                    outcome.response.body = std::move(result.response.body);
                  } else {
                    // Never written: safe elsewhere. Anything else: the active may have acted.
                    outcome.kind = result.never_sent() ? ForwardOutcome::Kind::kNotSent
                                                       : ForwardOutcome::Kind::kUnknown;
                    outcome.error = result.status.message();
                  }
                  done(std::move(outcome));
                });
}

void HttpForwarder::SetTls(std::shared_ptr<const net::TlsContext> tls) {
  tls_ = tls;
  client_->SetTls(std::move(tls));
}

// Drops idle connections and the requests in flight (their callbacks are not called, as
// before); later Forward calls get a fresh client.
void HttpForwarder::Shutdown() {
  client_ = std::make_unique<http::HttpClient>(base_, ClientOptions(timeout_));
}

}  // namespace halo::node
