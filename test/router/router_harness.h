// Test harness for the router: a scriptable fake node (in-process, threads and blocking
// sockets), a raw HTTP/1.1 client that can tell whether the server closed the connection,
// and a handle on a real halo-router process started from a generated config.
#pragma once

#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/http/message.h"
#include "test/support/subprocess.h"

namespace halo::router::testing {

// One fake halo-node: answers sys/health and sys/leader (incl. the blocking query
// ?index=N&wait=Ns) from a scripted role, and echoes every other request as JSON
// {"node","method","target","body","xff","xfp","no_forward","connection","te",
// "halo_forwarded"} with an X-Fake-Node header.
class FakeNode {
 public:
  enum class Role { kActive, kStandby, kSealed };

  explicit FakeNode(std::string name);
  ~FakeNode();
  FakeNode(const FakeNode&) = delete;
  FakeNode& operator=(const FakeNode&) = delete;

  const std::string& name() const { return name_; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string api_addr() const { return "http://" + address(); }

  void SetRole(Role r);
  // What sys/leader reports as leader_address (is_self follows the role).
  void SetLeader(const std::string& api_addr);
  // Closes the listener and every connection (a crash); Start() listens again on the port.
  void Stop();
  bool Start();

  // Behaviour knobs for non-sys requests.
  std::atomic<int> write_status{0};       // answer writes with this status (0 = echo 200)
  std::atomic<bool> not_executed{false};  // ... with X-Halo-Not-Executed: 1
  std::atomic<bool> drop_writes{false};   // read a write, then close without answering
  std::atomic<bool> drop_reads{false};    // read a read, then close without answering
  std::atomic<int> delay_ms{0};           // before answering non-sys requests

  // Requests served (non-sys), by method class.
  int reads() const { return reads_.load(); }
  int writes() const { return writes_.load(); }
  int health_probes() const { return health_.load(); }
  void ResetCounts();
  std::vector<std::string> targets() const;
  // A non-sys request as it arrived: "METHOD target" and the accept order of the connection
  // it came on (1 for the first connection this node accepted).
  struct Arrival {
    int conn = 0;
    std::string target;
  };
  std::vector<Arrival> arrivals() const;

 private:
  void AcceptLoop();
  void Serve(int fd, int conn);
  std::string Handle(const http::Request& req, int conn, bool* close);
  std::string LeaderBody(int64_t wait_index, int64_t wait_ms);

  std::string name_;
  int port_ = 0;
  int listen_fd_ = -1;
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Role role_ = Role::kStandby;
  std::string leader_;
  int64_t index_ = 1;
  bool stopping_ = false;
  std::vector<int> conn_fds_;
  std::vector<std::thread> conn_threads_;
  std::vector<Arrival> arrivals_;
  int accepted_ = 0;
  std::atomic<int> reads_{0};
  std::atomic<int> writes_{0};
  std::atomic<int> health_{0};
};

// A blocking HTTP/1.1 client on one connection.
class RawClient {
 public:
  RawClient() = default;
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool Connect(int port);
  bool Send(std::string_view bytes);
  // One response; nullopt on timeout, close or a parse error.
  std::optional<http::Response> Read(std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                     bool head_request = false);
  // Reads until the bytes received start with `prefix` (an interim "HTTP/1.1 100 Continue"
  // answer, which Read() skips as the response parser does) and consumes them. False on
  // timeout, close, or other bytes first.
  bool ReadPrefix(std::string_view prefix,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Sends a request with Content-Length framing and reads the answer.
  std::optional<http::Response> Request(
      const std::string& method, const std::string& target, const std::string& body = "",
      const std::vector<std::string>& extra_headers = {},
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // True if the peer closed (EOF or reset) within `timeout` without sending anything more.
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(3));
  void Close();
  bool connected() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
  std::string pending_;  // bytes read beyond the last response
};

// One request on a fresh connection.
std::optional<http::Response> HttpCall(int port, const std::string& method,
                                       const std::string& target, const std::string& body = "",
                                       const std::vector<std::string>& extra_headers = {});

// A router config (JSON text) listening on `port` in front of `nodes` (name, address).
// `extra` is spliced into the top-level object (e.g. R"("mode":"auto")").
std::string RouterConfigJson(int port,
                             const std::vector<std::pair<std::string, std::string>>& nodes,
                             const std::string& extra = "");

// A halo-router process.
class RouterProcess {
 public:
  explicit RouterProcess(std::string tag = "router");
  ~RouterProcess();

  // Writes the config (with "admin" on admin_port() unless it has one) and starts the
  // binary; waits until /_halo/status answers on the admin port.
  bool Start(const std::string& config_json);
  // Rewrites the config file and sends SIGHUP; with `wait`, waits until config_generation
  // grows (false if it does not).
  bool Reload(const std::string& config_json, bool wait = true);
  // GET /_halo/status parsed; IsObject() false when unreachable.
  rapidjson::Document Status();
  // Polls the status until `pred` holds.
  bool WaitStatus(const std::function<bool(const rapidjson::Document&)>& pred,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Waits until the router sees `active` as the active node and `routable` nodes routable.
  bool WaitRoles(const std::string& active, int routable,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10));
  int port() const { return port_; }
  int admin_port() const { return admin_port_; }
  // Sent by Status() when the config asks for an admin token.
  void set_admin_token(std::string token) { admin_token_ = std::move(token); }
  halo::testing::Subprocess& process() { return proc_; }
  std::string log() const;

 private:
  std::string WithAdmin(const std::string& config_json) const;

  halo::testing::TempDir dir_;
  int port_;
  int admin_port_;
  std::string admin_token_;
  std::string config_path_;
  std::string log_path_;
  halo::testing::Subprocess proc_;
};

// Counter value from the router status JSON (counters.<name>); -1 if absent.
int64_t StatusCounter(const rapidjson::Document& d, const char* name);
// nodes[i].requests.<cls> for the node named `node`; -1 if absent.
int64_t NodeRequests(const rapidjson::Document& d, const std::string& node, const char* cls);

}  // namespace halo::router::testing
