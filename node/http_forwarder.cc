#include "node/http_forwarder.h"

#include <strings.h>

#include <algorithm>
#include <vector>

#include "node/node_config.h"

namespace halo::node {
namespace {

// Hop-by-hop fields (RFC 9110 §7.6.1) and the framing the pool and the server set themselves.
constexpr std::string_view kHopByHop[] = {
    "Connection",         "Keep-Alive", "Proxy-Connection", "TE",   "Trailer",
    "Transfer-Encoding",  "Upgrade",    "Content-Length",   "Host", "Proxy-Authenticate",
    "Proxy-Authorization"};

bool IsHopByHop(std::string_view name, const std::vector<std::string>& listed) {
  for (std::string_view h : kHopByHop) {
    if (name.size() == h.size() && strncasecmp(name.data(), h.data(), h.size()) == 0) return true;
  }
  for (const std::string& l : listed) {
    if (name.size() == l.size() && strncasecmp(name.data(), l.data(), l.size()) == 0) return true;
  }
  return false;
}

// The field names listed in Connection headers ("Connection: keep-alive, X-Foo").
std::vector<std::string> ConnectionListed(const http::Headers& headers) {
  std::vector<std::string> out;
  for (std::string_view value : headers.GetAll("Connection")) {
    while (!value.empty()) {
      size_t comma = value.find(',');
      std::string_view item = value.substr(0, comma);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (!item.empty()) out.emplace_back(item);
      value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    }
  }
  return out;
}

http::Headers EndToEnd(const http::Headers& in) {
  std::vector<std::string> listed = ConnectionListed(in);
  http::Headers out;
  for (http::Headers::Field f : in) {
    if (!IsHopByHop(f.name, listed)) out.Add(f.name, f.value);
  }
  return out;
}

// The origin-form target ("/v1/...?q") of a request-target in origin or absolute form.
std::string OriginForm(const std::string& target) {
  if (!target.empty() && target[0] == '/') return target;
  size_t scheme = target.find("://");
  size_t slash = scheme == std::string::npos ? std::string::npos : target.find('/', scheme + 3);
  return slash == std::string::npos ? "/" : target.substr(slash);
}

}  // namespace

http::HttpClientOptions HttpForwarder::ClientOptions(Duration timeout) {
  http::HttpClientOptions o;
  o.connect_timeout_ms = ToMillis(std::min<Duration>(timeout, seconds(2)));
  return o;
}

HttpForwarder::HttpForwarder(event_base* base, Duration timeout)
    : base_(base),
      timeout_(timeout),
      client_(std::make_unique<http::HttpClient>(base, ClientOptions(timeout))) {}

HttpForwarder::~HttpForwarder() = default;

void HttpForwarder::Forward(const std::string& api_addr, http::Request request, DoneFn done) {
  auto it = peers_.find(api_addr);
  if (it == peers_.end()) {
    Peer peer;
    std::string host;
    int port = 0;
    constexpr std::string_view kHttp = "http://";
    if (api_addr.compare(0, kHttp.size(), kHttp) != 0) {
      peer.status = Status::InvalidArgument("only http:// api_addr can be forwarded to");
    } else {
      peer.status = ParseHostPort(std::string_view(api_addr).substr(kHttp.size()), &host, &port);
    }
    if (peer.status.ok() && (port <= 0 || port > 65535)) {
      peer.status = Status::InvalidArgument("bad port");
    }
    if (peer.status.ok()) {
      Result<net::NetAddress> addr = net::ResolveHostPort(host, static_cast<uint16_t>(port));
      if (addr.ok()) {
        peer.addr = *addr;
        bool v6_literal = host.find(':') != std::string::npos;
        peer.host_header = (v6_literal ? "[" + host + "]" : host) + ":" + std::to_string(port);
      } else {
        peer.status = addr.status();
      }
    }
    it = peers_.emplace(api_addr, std::move(peer)).first;
  }
  if (!it->second.status.ok()) {
    ForwardOutcome outcome;
    outcome.kind = ForwardOutcome::Kind::kNotSent;
    outcome.error = api_addr + ": " + it->second.status.message();
    done(std::move(outcome));
    return;
  }

  http::ClientRequest out;
  out.method = std::move(request.method);
  out.target = OriginForm(request.target);
  out.headers = EndToEnd(request.headers);
  out.body = std::move(request.body);
  client_->Send(it->second.addr, it->second.host_header, std::move(out), ToMillis(timeout_),
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

// Drops idle connections and the requests in flight (their callbacks are not called, as
// before); later Forward calls get a fresh client.
void HttpForwarder::Shutdown() {
  client_ = std::make_unique<http::HttpClient>(base_, ClientOptions(timeout_));
}

}  // namespace halo::node
