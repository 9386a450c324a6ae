// LocalCluster: real halo-node processes for the node integration tests, on loopback ports
// picked at run time, sharing one LMDB directory (which also provides the HA lock) in a
// temp dir. Every request helper opens its own short-lived connection, so it is safe to
// use from several threads at once. Processes are SIGKILLed when the cluster dies.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/http/headers.h"
#include "common/http/message.h"
#include "common/result.h"
#include "test/support/subprocess.h"

namespace halo::node::testing {

inline constexpr const char kToken[] = "node-test-root";

struct ClusterOptions {
  int nodes = 3;
  // Extra top-level config members, e.g. R"("disable_request_forwarding": true)".
  std::string extra_json;
  // Extra top-level members for node i only (index i; missing or empty: none), e.g. an
  // api_addr that points somewhere else.
  std::vector<std::string> node_extra_json;
  // Replaces the default storage (lmdb in <dir>/data): the members for "storage" and
  // optionally "ha_storage", with %DIR% standing for the temp dir, e.g.
  // R"("storage": {"file": {"path": "%DIR%/data"}})".
  std::string storage_json;
  // Extra members of listener.tcp, e.g. R"("max_request_size": 1024)".
  std::string tcp_extra;
  std::string log_level = "info";
};

class LocalCluster {
 public:
  explicit LocalCluster(ClusterOptions options = {});
  ~LocalCluster();
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  // Starts every node, waits until each answers sys/health, one is active and every node
  // names it in sys/leader.
  bool Start();
  // (Re)starts node i and waits until it answers sys/health.
  bool StartNode(int i);
  void Kill(int i);  // SIGKILL, reaped
  // SIGTERM and wait (up to `timeout`); returns the wait status (-1 if it had to be killed).
  int Term(int i, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  halo::testing::Subprocess& process(int i) { return procs_[i]; }

  int size() const { return static_cast<int>(ports_.size()); }
  int port(int i) const { return ports_[i]; }
  std::string api_addr(int i) const { return "http://127.0.0.1:" + std::to_string(ports_[i]); }
  std::string config_path(int i) const;
  std::string log(int i) const;
  const halo::testing::TempDir& dir() const { return dir_; }

  // sys/health status of node i, 0 when it does not answer.
  int Health(int i);
  // The index of the one node answering 200, -1 if none or several.
  int Active();
  // Waits for exactly one active node other than `not_this`; its index, or -1.
  int WaitActive(int not_this = -1, std::chrono::milliseconds timeout = std::chrono::seconds(15));

  // One request to node i on a fresh connection, with the root token unless `headers`
  // already has X-Vault-Token (pass {{"X-Vault-Token",""}} for none).
  Result<http::Response> Call(int i, std::string_view method, std::string_view target,
                              std::string_view body = {}, http::Headers headers = {},
                              std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  std::string Config(int i) const;

  ClusterOptions options_;
  halo::testing::TempDir dir_;
  std::vector<int> ports_;
  std::vector<halo::testing::Subprocess> procs_;
};

// A field of a JSON body by a path of member names ("data", "data", "value"): the string
// value, or "" when absent or not a string.
std::string JsonString(const std::string& body, std::initializer_list<const char*> path);
// The same for an unsigned integer, or -1.
int64_t JsonInt(const std::string& body, std::initializer_list<const char*> path);

}  // namespace halo::node::testing
