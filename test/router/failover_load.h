// Steady mixed load for failover tests: writer and reader threads through a port (the
// router's), each op recorded with its status, every acknowledged write kept for the
// "nothing lost" check, and a report of errors and the longest write gap after an event.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "test/router/router_harness.h"

namespace halo::router::testing {

struct LoadOp {
  bool write;
  std::chrono::steady_clock::time_point start, end;
  int status;  // 0: no answer (connection failed, or no answer within the op timeout)
};

struct AckedWrite {
  std::string key, value;
};

class FailoverLoad {
 public:
  // `op_timeout`: how long a client waits for each answer before it gives up (closes the
  // connection, records status 0, goes on), as real clients do.
  FailoverLoad(int port, int writers, int readers,
               std::chrono::milliseconds op_timeout = std::chrono::seconds(10));
  ~FailoverLoad();
  void Stop();
  std::vector<LoadOp> ops();
  std::vector<AckedWrite> acked();
  size_t writes_done() const { return writes_done_.load(); }    // answered or not
  size_t writes_acked() const { return writes_acked_.load(); }  // answered 200

 private:
  std::optional<http::Response> Call(RawClient& c, const std::string& m, const std::string& t,
                                     const std::string& body);
  void Record(const LoadOp& op);
  void Writer(int id);
  void Reader(int id);

  int port_;
  std::chrono::milliseconds op_timeout_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> writes_done_{0};
  std::atomic<size_t> writes_acked_{0};
  std::mutex mu_;
  std::vector<LoadOp> ops_;
  std::vector<AckedWrite> acked_;
  std::vector<std::thread> threads_;
};

struct LoadReport {
  size_t ops = 0, writes = 0, reads = 0, errors = 0, write_errors = 0, read_errors = 0;
  std::map<int, int> error_statuses;
  // Longest time without a write acknowledged, from the event to the last op's end (so
  // writes that never resume show as the whole remaining run, not as 0).
  int64_t write_gap_ms = 0;
  int64_t max_write_ms = 0;  // slowest single write
};

class NodeCluster;
class RouterProcess;
// Starts `router` in front of `nodes` with the failover settings these tests use (probes every
// 200 ms, 500 ms timeout, 5 s hold), waits until it routes to `active` with all three nodes,
// and writes the 20 seed keys the readers read. False (with a doctest failure) if not.
bool StartFailoverRouter(RouterProcess& router, NodeCluster& nodes, int active);

LoadReport AnalyseLoad(const std::vector<LoadOp>& ops, std::chrono::steady_clock::time_point event);
std::string DescribeLoad(const LoadReport& r);

}  // namespace halo::router::testing
