// NodeConfig: the halo-node configuration file (JSON), parsed and validated.
//
// Key names mirror OpenBao's server configuration where one exists (`storage`, `ha_storage`,
// `listener.tcp.address`, `api_addr`, `cluster_addr`, `cluster_name`,
// `disable_standby_reads`, `log_level`); halo's own keys are documented beside them in
// conf/README.md. Every key is known: an unknown key or a bad value is an error that names
// it by its full path ("listener.tcp.address: expected host:port").
#pragma once

#include <cstdint>
#include <string>

#include <string_view>
#include <vector>
#include "common/net/tls_options.h"

#include "common/logging.h"
#include "common/result.h"
#include "lock/lock_options.h"
#include "storage/backend_factory.h"

namespace halo::node {

// One secrets-engine mount: `path` ends with '/', e.g. "secret/".
struct MountConfig {
  std::string path;
  int kv_version = 2;  // 1 or 2
};

struct ListenerConfig {
  std::string address = "127.0.0.1:8200";  // host:port (IPv4 literal, or [v6]:port)
  std::string host;                        // parsed from address
  int port = 8200;                         // parsed from address; 0 = pick a free port
  int64_t max_request_size = 32 << 20;     // bytes; larger bodies get 413
  int64_t max_request_duration_ms = 90'000;
  net::TlsOptions tls;  // the OpenBao tls_* keys (common/net/tls_options.h)
};

// halo's own limits (the `limits` object).
struct NodeLimitsConfig {
  // Request-body bytes admitted at once across all connections (declared Content-Length,
  // or what a chunked body has sent); a body over it gets 503 + Retry-After, unread.
  int64_t max_body_bytes_in_flight = int64_t{128} << 20;
  int64_t max_leader_waiters = 1024;           // parked blocking sys/leader queries, in total
  int64_t max_leader_waiters_per_client = 64;  // ... and from one client IP address
};

struct NodeConfig {
  storage::BackendOptions storage;
  // The HA lock. From `ha_storage` when set (ha_storage_set), else implied by the storage
  // (lmdb: an flock lock file beside the data; inmem: an in-process lease). lock.type is
  // empty when there is no lock at all (file storage without ha_storage): a single node.
  bool ha_storage_set = false;
  lock::LockOptions lock;

  ListenerConfig listener;
  NodeLimitsConfig limits;
  // TLS for forwarding to the active (its api_addr is then https://); mutual when it has
  // a certificate. Unset: plaintext forwarding.
  bool cluster_tls_enabled = false;
  net::TlsClientOptions cluster_tls;
  std::string api_addr;                 // full URL ("http://127.0.0.1:8210"); default from listener
  bool api_addr_from_listener = false;  // api_addr was not set: derived from the listener
  std::string cluster_addr;  // advertised only (sys/leader); default api_addr with port+1
  std::string cluster_name = "halo-cluster";
  bool disable_standby_reads = false;
  bool disable_request_forwarding = false;  // halo: standbys answer 307 instead of forwarding
  std::string root_token;                   // HALO_ROOT_TOKEN wins over the file
  // Shared by the nodes of a cluster: keys the hop marker (node/auth.h HopMarker). Empty:
  // derived from root_token, which the nodes share anyway.
  std::string cluster_secret;
  std::vector<MountConfig> mounts;  // default: secret/ (kv v2), kv/ (kv v1)
  LogLevel log_level = LogLevel::kInfo;
  std::string log_tag;                    // prefix on every log line; default "" (none)
  int64_t leader_check_interval_ms = 50;  // how often a standby re-reads the lock holder
  int64_t step_down_wait_ms = 10'000;     // back-off after a manual step-down
};

// Parses and validates `text`; `what` names the source (usually the file path) in errors.
// `env_root_token` is $HALO_ROOT_TOKEN (nullptr when unset); it overrides `root_token`.
// kInvalidArgument naming the offending key on any error.
Result<NodeConfig> ParseNodeConfig(std::string_view text, std::string_view what,
                                   const char* env_root_token);

// Reads `path` and parses it, taking HALO_ROOT_TOKEN from the environment.
Result<NodeConfig> LoadNodeConfig(const std::string& path);

// Splits "host:port" / "[v6]:port". kInvalidArgument unless the port is 0..65535.
Status ParseHostPort(std::string_view address, std::string* host, int* port);

}  // namespace halo::node
