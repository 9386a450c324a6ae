#include "node/http_forwarder.h"

#include <strings.h>

#include <algorithm>
#include <vector>

#include "common/http/http_client_pool.h"
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

struct HttpForwarder::Pools {
  std::map<std::string, std::unique_ptr<http::HttpClientPool>> by_addr;
};

HttpForwarder::HttpForwarder(event_base* base, Duration timeout)
    : base_(base), timeout_(timeout), pools_(std::make_unique<Pools>()) {}

HttpForwarder::~HttpForwarder() = default;

void HttpForwarder::Forward(const std::string& api_addr, http::Request request, DoneFn done) {
  auto it = pools_->by_addr.find(api_addr);
  if (it == pools_->by_addr.end()) {
    Status st;
    http::HttpClientOptions options;
    constexpr std::string_view kHttp = "http://";
    if (api_addr.compare(0, kHttp.size(), kHttp) != 0) {
      st = Status::InvalidArgument("only http:// api_addr can be forwarded to");
    } else {
      st = ParseHostPort(std::string_view(api_addr).substr(kHttp.size()), &options.host,
                         &options.port);
    }
    Result<std::unique_ptr<http::HttpClientPool>> pool =
        st.ok() ? Result<std::unique_ptr<http::HttpClientPool>>(Status::Internal("unset")) : st;
    if (st.ok()) {
      options.request_timeout = timeout_;
      options.connect_timeout = std::min<Duration>(timeout_, seconds(2));
      pool = http::HttpClientPool::Create(base_, options);
    }
    if (!pool.ok()) {
      ForwardOutcome outcome;
      outcome.kind = ForwardOutcome::Kind::kNotSent;
      outcome.error = api_addr + ": " + pool.status().message();
      done(std::move(outcome));
      return;
    }
    it = pools_->by_addr.emplace(api_addr, std::move(pool).value()).first;
  }

  http::ClientRequest out;
  out.method = std::move(request.method);
  out.target = OriginForm(request.target);
  out.headers = EndToEnd(request.headers);
  out.body = std::move(request.body);
  it->second->Send(std::move(out), [done = std::move(done)](Result<http::Response> result) {
    ForwardOutcome outcome;
    if (result.ok()) {
      outcome.kind = ForwardOutcome::Kind::kResponse;
      outcome.response.status = result->status;
      outcome.response.headers = EndToEnd(result->headers);
      outcome.response.body = std::move(result->body);
    } else {
      outcome.kind = http::HttpClientPool::NeverSent(result.status())
                         ? ForwardOutcome::Kind::kNotSent
                         : ForwardOutcome::Kind::kUnknown;
      outcome.error = result.status().message();
    }
    done(std::move(outcome));
  });
}

void HttpForwarder::Shutdown() { pools_->by_addr.clear(); }

}  // namespace halo::node
