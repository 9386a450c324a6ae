// ClientLoad: steady 90/10 read/write load on one IPv4 address and port (a VIP on the test
// bed, test/support/testbed.h), from threads that behave as a real HTTP/1.1 client's
// connection pool does, so that a failover test counts the errors such a client would see:
//
//   - one keep-alive connection per thread, reused while the server keeps it open;
//   - a response with `Connection: close` (or HTTP/1.0 without keep-alive) closes it, and
//     the next request opens a new one;
//   - an idle pooled connection the server has closed (FIN or RST already received) is not
//     reused: it is checked before each request (curl and Go's net/http do the same);
//   - a request on a reused connection that dies before any byte of the answer came back
//     (the server closed it while the request was on its way) is sent once more on a new
//     connection, as curl and Go do (the writes are idempotent PUTs); counted in retries();
//   - nothing else is retried: a failure on a fresh connection, a timeout, or any non-200
//     answer is recorded as an error, and the thread waits `backoff` before its next
//     request (so a dead address is not hammered in a tight loop).
//
// Each thread does 9 reads (GET secret/data/seed/<0..19>, written beforehand) for every
// write (PUT secret/data/vip/c<thread>-<seq>), with the root token of test/router/
// node_cluster.h; every write answered 200 is kept for the "nothing lost" check. The ops use
// LoadOp and AckedWrite of test/router/failover_load.h, so AnalyseLoad and DescribeLoad
// report them.
//
// Threads: construct it on a thread inside the client's namespace (Testbed::InHost); the
// load's threads inherit that namespace. The accessors may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/http/message.h"
#include "test/router/failover_load.h"

namespace halo::router::testing {

// One pooled HTTP/1.1 connection to ip:port with the rules above; ClientLoad runs one per
// thread, and a test uses one for its own requests from a bed host (seeding, reading back).
class ClientConn {
 public:
  ClientConn(std::string ip, int port, std::chrono::milliseconds timeout);
  ~ClientConn();
  ClientConn(const ClientConn&) = delete;
  ClientConn& operator=(const ClientConn&) = delete;

  struct Outcome {
    std::optional<http::Response> response;  // nullopt: failed, see error
    std::string error;
    bool retried = false;  // sent twice (the reused connection died first)
    bool reused = false;   // the last attempt went on a connection that had carried one
  };
  // With the root token; a PUT or POST carries `body` with Content-Length.
  Outcome Call(const std::string& method, const std::string& target, const std::string& body = "");
  size_t connects() const { return connects_; }
  size_t stale_dropped() const { return stale_dropped_; }

 private:
  enum class Sent { kAnswered, kNothingBack, kFailed };
  bool Open(std::string* error);
  void Close();
  bool Usable();
  Sent Exchange(const std::string& request, bool head, std::optional<http::Response>* out,
                std::string* error);

  std::string ip_;
  int port_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  bool used_ = false;    // carried a request already (a reuse now is a reuse)
  std::string pending_;  // bytes beyond the last response
  size_t connects_ = 0, stale_dropped_ = 0;
};

class ClientLoad {
 public:
  ClientLoad(std::string ip, int port, int connections,
             std::chrono::milliseconds op_timeout = std::chrono::seconds(2),
             std::chrono::milliseconds backoff = std::chrono::milliseconds(100));
  ~ClientLoad();
  ClientLoad(const ClientLoad&) = delete;
  ClientLoad& operator=(const ClientLoad&) = delete;

  void Stop();
  std::vector<LoadOp> ops();
  std::vector<AckedWrite> acked();
  size_t writes_acked() const { return writes_acked_.load(); }
  size_t ops_done() const { return ops_done_.load(); }
  // Requests sent a second time after a reused connection died before any answer byte.
  size_t retries() const { return retries_.load(); }
  // Connections opened (the first of each thread included); complete after Stop().
  size_t connects() const { return connects_.load(); }
  // Pooled connections found closed by the server before a request, and dropped; after
  // Stop().
  size_t stale_dropped() const { return stale_dropped_.load(); }
  // What each failed op saw ("connect: Connection refused", "no answer in 2000 ms", ...),
  // with counts.
  std::vector<std::pair<std::string, int>> failure_reasons();
  // Every failed op: when it ended, what it saw, and whether its connection was fresh.
  struct Failure {
    std::chrono::steady_clock::time_point end;
    std::string why;
    bool fresh = true;
  };
  std::vector<Failure> failures();

 private:
  void Run(int id);
  void RecordFailure(const Failure& f);

  std::string ip_;
  int port_;
  std::chrono::milliseconds op_timeout_, backoff_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> writes_acked_{0}, ops_done_{0}, retries_{0}, connects_{0}, stale_dropped_{0};
  std::mutex mu_;
  std::vector<LoadOp> ops_;
  std::vector<AckedWrite> acked_;
  std::vector<std::pair<std::string, int>> reasons_;
  std::vector<Failure> failures_;
  std::vector<std::thread> threads_;
};

}  // namespace halo::router::testing
