#include "router/route_settings.h"

#include <algorithm>

namespace halo::router {

RouteSettings::RouteSettings(const RouterConfig& cfg, uint64_t gen,
                             std::shared_ptr<http::BodyBudget> body_budget,
                             const std::vector<std::shared_ptr<const net::TlsContext>>& tls,
                             std::shared_ptr<const net::TlsContext> upstream_tls_ctx)
    : generation(gen),
      classifier(cfg.rules, cfg.mode),
      reads(cfg.reads),
      mode(cfg.mode),
      failover_hold_ms(cfg.failover_hold_ms),
      retry_after_s(cfg.retry_after_s),
      limits(cfg.limits),
      listen_address(cfg.listeners.front().address()),
      admin_token(cfg.admin_token),
      workers(cfg.workers) {
  request_parser.max_header_bytes = static_cast<size_t>(cfg.limits.max_header_bytes);
  request_parser.max_header_count = static_cast<size_t>(cfg.limits.max_headers);
  request_parser.max_body_bytes = static_cast<uint64_t>(cfg.limits.max_body_bytes);
  response_parser.max_header_bytes = static_cast<size_t>(cfg.limits.max_response_header_bytes);
  response_parser.max_header_count = 1000;
  response_parser.max_body_bytes = uint64_t{1} << 40;  // streamed, not buffered
  response_parser.require_host = false;
  server.parser = request_parser;
  // A silent client, whether before its first request, inside a body or not reading our
  // answer, gets idle_timeout_ms; the head must be whole within header_timeout_ms.
  server.first_request_timeout = std::chrono::milliseconds(cfg.limits.idle_timeout_ms);
  server.header_timeout = std::chrono::milliseconds(cfg.limits.header_timeout_ms);
  server.body_timeout = std::chrono::milliseconds(cfg.limits.idle_timeout_ms);
  server.idle_timeout = std::chrono::milliseconds(cfg.limits.idle_timeout_ms);
  server.write_timeout = std::chrono::milliseconds(cfg.limits.idle_timeout_ms);
  server.linger_timeout = std::chrono::seconds(2);
  server.body_budget = std::move(body_budget);
  server.retry_after_s = static_cast<int>(cfg.retry_after_s);
  upstream_tls = std::move(upstream_tls_ctx);
  upstream_h2 = cfg.upstream_h2;
  upstream_h2_connections = cfg.upstream_h2_connections;
  // The router's own bytes: its client limits plus what it adds (X-Forwarded-*, Host).
  upstream_request_parser = request_parser;
  upstream_request_parser.max_header_bytes = request_parser.max_header_bytes + 8192;
  upstream_request_parser.max_header_count = request_parser.max_header_count + 8;
  upstream_request_parser.max_body_bytes = uint64_t{1} << 40;
  for (size_t i = 0; i < cfg.listeners.size(); ++i) {
    listener_server.push_back(server);
    listener_server.back().h2.enabled = cfg.listeners[i].tls.offer_h2;
    if (i < tls.size() && tls[i] != nullptr) {
      http::ServerConnectionOptions& o = listener_server.back();
      o.tls = tls[i];
      o.first_request_timeout = std::min(o.first_request_timeout, o.header_timeout);
    }
  }
}

}  // namespace halo::router
