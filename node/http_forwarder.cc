#include "node/http_forwarder.h"

namespace halo::node {

// TODO(node): implement over http::HttpClientPool once it lands.
struct HttpForwarder::Pools {};

HttpForwarder::HttpForwarder(event_base* base, Duration timeout)
    : base_(base), timeout_(timeout), pools_(std::make_unique<Pools>()) {}

HttpForwarder::~HttpForwarder() = default;

void HttpForwarder::Forward(const std::string& api_addr, http::Request, DoneFn done) {
  (void)base_;
  (void)timeout_;
  ForwardOutcome outcome;
  outcome.kind = ForwardOutcome::Kind::kNotSent;
  outcome.error = "forwarding to " + api_addr + " is not available yet";
  done(std::move(outcome));
}

void HttpForwarder::Shutdown() {}

}  // namespace halo::node
