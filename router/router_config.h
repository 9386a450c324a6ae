// RouterConfig: the typed, validated contents of a halo-router config file (conf/router.json).
//
// ParseRouterConfig() turns JSON text into a RouterConfig or an error naming the offending key
// ("rules[2].class: expected read or write"); unknown keys are errors. Every key and its
// default is documented in conf/README.md ("## halo-router").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/net/net_address.h"
#include "common/net/resolver.h"
#include "common/net/tls_options.h"
#include "common/result.h"
#include "router/route_types.h"

namespace halo::router {

struct NodeConfig {
  std::string name;  // unique; labels metrics and status
  std::string host;  // numeric IPv4/IPv6 or a name resolved at (re)load
  uint16_t port = 0;
  std::string address;       // "host:port" as written
  net::NetAddress resolved;  // filled by ResolveNodes(), not by parsing
};

// One ordered classification rule. The first rule whose glob matches the request path
// (normalised, without the "/v1/" prefix) and whose method list contains the method (or is
// empty) decides; absent fields keep the method default / the global mode.
struct RuleConfig {
  std::string path;                  // glob: '*' any run of characters, '?' one character
  std::vector<std::string> methods;  // upper case; empty = every method
  std::optional<RequestClass> cls;
  std::optional<WriteMode> mode;
};

struct HealthCheckConfig {
  int64_t interval_ms = 1000;  // between probes of one node
  int64_t timeout_ms = 1000;   // one probe (connect + answer)
  int rise = 2;                // consecutive successes to mark a down node up
  int fall = 2;                // consecutive failures to mark an up node down
  bool leader_watch = true;    // long-poll sys/leader?index=N&wait=... on every node
  int64_t leader_wait_ms = 30000;
};

struct LimitsConfig {
  int64_t max_header_bytes = 16384;   // request line + headers; over it -> 431
  int64_t max_headers = 100;          // header count; over it -> 431
  int64_t max_body_bytes = 32 << 20;  // request body; over it -> 413
  int64_t max_response_header_bytes = 65536;
  int64_t max_connections = 4096;          // client connections across all workers
  int64_t max_connections_per_client = 0;  // from one client IP, all workers; 0 = off
  int64_t max_blocking_queries = 256;      // sys/leader?index=... in flight, all workers; 0 = off
  int64_t header_timeout_ms = 10000;       // whole request head must arrive within this
  int64_t idle_timeout_ms = 60000;         // keep-alive idle, and any silent client read
  int64_t upstream_connect_timeout_ms = 1000;
  int64_t upstream_timeout_ms = 60000;  // silence from a node while a response is awaited
  int64_t upstream_idle_per_node = 64;  // idle pooled connections kept per node per worker
  int64_t retry_buffer_bytes = 65536;   // request bodies up to this size stay replayable
  // Request-body bytes admitted at once across all workers (declared Content-Length, or
  // what a chunked body has sent); over it -> 503 + Retry-After, the body unread.
  int64_t max_body_bytes_in_flight = int64_t{128} << 20;
};

// One client listener (`listener.tcp`; `listener` may be a list of them, e.g. TLS on the
// public address and plaintext on loopback).
struct ListenerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8200;
  net::TlsOptions tls;          // the OpenBao tls_* keys (common/net/tls_options.h)
  std::string address() const;  // "host:port"
};

// "access_log": one JSON line per client request (router/access_log.h).
struct AccessLogConfig {
  bool enabled = false;
  std::string path = "stdout";     // "stdout", "stderr", or a file (opened for append)
  int64_t buffer_bytes = 1 << 20;  // lines waiting for the writer; past it they are dropped
  int64_t flush_interval_ms = 100;
};

struct RouterConfig {
  std::vector<ListenerConfig> listeners{ListenerConfig{}};  // never empty; [0] is the default
  // The admin listener: /_halo/status and /_halo/metrics (never on the client listener).
  std::string admin_host = "127.0.0.1";
  uint16_t admin_port = 8201;
  std::string admin_token;  // empty: no token asked (keep the address private)
  int workers = 1;
  std::string log_level = "info";
  std::vector<NodeConfig> nodes;
  HealthCheckConfig health;
  ReadPolicy reads = ReadPolicy::kStandbys;
  WriteMode mode = WriteMode::kForward;
  int64_t failover_hold_ms = 5000;
  int64_t retry_after_s = 1;  // Retry-After on the router's own 503s
  int64_t drain_timeout_ms = 10000;
  // After SIGTERM: /_halo/health fails and the router serves this long (every response
  // closing its connection) before the drain, so a VIP can move away first. 0: drain at once.
  int64_t shutdown_grace_ms = 0;
  AccessLogConfig access_log;  // fixed at startup (SIGUSR1 reopens the file)
  // Node names are looked up again this often (sooner for shorter TTLs; at least 1 s).
  int64_t dns_refresh_ms = 5000;
  std::vector<std::string> dns_servers;  // "ip[:port]"; empty: /etc/resolv.conf
  LimitsConfig limits;
  std::vector<RuleConfig> rules;
  // TLS towards the nodes (data path, probes, leader queries); unset: plaintext.
  bool upstream_tls_enabled = false;
  net::TlsClientOptions upstream_tls;
  // How the router talks to the nodes: HTTP/2 streams multiplexed on a few connections
  // (falls back to HTTP/1.1 for a node that does not offer h2), or HTTP/1.1 keep-alive.
  bool upstream_h2 = true;          // "upstream_protocol": "h2" | "http1"
  int upstream_h2_connections = 1;  // HTTP/2 connections per node per worker
};

// Parses and validates. `what` names the source in messages (usually the file path).
Result<RouterConfig> ParseRouterConfig(std::string_view json, std::string_view what);
// Reads `path` and parses it.
Result<RouterConfig> LoadRouterConfig(const std::string& path);

// Splits "host:port" / "[v6]:port"; false on a bad port or empty host.
bool SplitHostPort(std::string_view address, std::string* host, uint16_t* port);

}  // namespace halo::router
