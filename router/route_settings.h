// RouteSettings: everything a worker needs from the config to handle a request, built once
// per config generation (startup and each SIGHUP) and shared read-only by all workers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/http/body_budget.h"
#include "common/http/parser_options.h"
#include "common/http/server_connection_host.h"
#include "router/classifier.h"
#include "router/router_config.h"

namespace halo::router {

class AccessLog;

struct RouteSettings {
  // `body_budget`: the process's one bound on request-body bytes in flight (all workers),
  // owned by RouterServer, which sets its limit; nullptr: unbounded (tests). `tls`: one
  // context per cfg.listeners entry (nullptr for a plaintext one); empty: all plaintext.
  RouteSettings(const RouterConfig& cfg, uint64_t gen,
                std::shared_ptr<http::BodyBudget> body_budget = nullptr,
                const std::vector<std::shared_ptr<const net::TlsContext>>& tls = {},
                std::shared_ptr<const net::TlsContext> upstream_tls = nullptr);

  uint64_t generation;
  Classifier classifier;
  ReadPolicy reads;
  WriteMode mode;
  int64_t failover_hold_ms;
  int64_t retry_after_s;
  LimitsConfig limits;
  http::ParserOptions request_parser;    // client side: the hardening limits
  http::ServerConnectionOptions server;  // client connections: request_parser + timeouts
  // Per client listener, in cfg.listeners order: `server` plus the listener's TLS context
  // (a TLS client must finish its handshake and head within header_timeout_ms).
  std::vector<http::ServerConnectionOptions> listener_server;
  // TLS towards the nodes (nullptr: plaintext); fixed at startup.
  std::shared_ptr<const net::TlsContext> upstream_tls;
  http::ParserOptions response_parser;  // node side
  // HTTP/2 towards the nodes (RouterConfig::upstream_h2), its connections per node per
  // worker and session limits, and the parser that re-reads the router's own request bytes.
  bool upstream_h2 = true;
  int upstream_h2_connections = 1;
  http::H2Options upstream_h2_options;
  http::ParserOptions upstream_request_parser;
  std::string listen_address;       // Host for HTTP/1.0 requests that sent none
  std::string admin_token;          // admin listener (router/admin_access.h)
  AccessLog* access_log = nullptr;  // RouterServer's; nullptr: off
  int workers;
};

}  // namespace halo::router
