// A real local halo-node cluster for router integration tests: N halo-node processes on
// loopback ports picked at run time, sharing one LMDB directory (which also provides the
// HA lock) in a temp dir.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/http/message.h"
#include "test/support/subprocess.h"

namespace halo::router::testing {

inline constexpr const char* kRootToken = "router-test-root";

class NodeCluster {
 public:
  explicit NodeCluster(int n = 3);
  ~NodeCluster();

  // Starts every node; waits until each answers sys/health and one is active.
  bool Start();
  // (Re)starts node i.
  bool StartNode(int i);
  // Stops node i (SIGTERM) and starts it again with `listener_extra` (JSON members, e.g.
  // "\"http2_disable\": true") added to its listener.tcp block.
  bool Restart(int i, const std::string& listener_extra);
  int size() const { return static_cast<int>(ports_.size()); }
  int port(int i) const { return ports_[i]; }
  std::string name(int i) const { return "node" + std::to_string(i + 1); }
  std::string address(int i) const { return "127.0.0.1:" + std::to_string(ports_[i]); }
  std::string api_addr(int i) const { return "http://" + address(i); }
  halo::testing::Subprocess& process(int i) { return procs_[i]; }

  // sys/health status code of node i (0 when unreachable).
  int Health(int i);
  // Index of the node answering 200 on sys/health, -1 if none (or several).
  int Active();
  // Waits for an active node other than `not_this`; returns its index or -1.
  int WaitActive(int not_this = -1, std::chrono::milliseconds timeout = std::chrono::seconds(15));
  // A request straight to node i with the root token.
  std::optional<http::Response> Call(int i, const std::string& method, const std::string& target,
                                     const std::string& body = "");
  // The router's node list: {{"node1","127.0.0.1:p1"},...}.
  std::vector<std::pair<std::string, std::string>> RouterNodes() const;
  std::string log(int i) const;

 private:
  std::string NodeConfig(int i) const;

  halo::testing::TempDir dir_;
  std::vector<int> ports_;
  std::vector<halo::testing::Subprocess> procs_;
  std::vector<std::string> listener_extra_;
};

// data.data.<field> of a KV v2 read response, or nullopt.
std::optional<std::string> KvField(const http::Response& r, const char* field);

}  // namespace halo::router::testing
