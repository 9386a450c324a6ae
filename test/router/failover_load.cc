#include "test/router/failover_load.h"

#include <algorithm>

#include <doctest/doctest.h>

#include "test/router/node_cluster.h"

namespace halo::router::testing {
namespace {

using Clock = std::chrono::steady_clock;
const std::string kToken = std::string("X-Vault-Token: ") + kRootToken;

}  // namespace

bool StartFailoverRouter(RouterProcess& router, NodeCluster& nodes, int active) {
  if (!router.Start(RouterConfigJson(
          router.port(), nodes.RouterNodes(),
          R"("health_check":{"interval":"200ms","timeout":"500ms"},"failover_hold_ms":5000)")) ||
      !router.WaitRoles(nodes.name(active), 3)) {
    FAIL_CHECK("the router did not start in front of the cluster");
    return false;
  }
  for (int i = 0; i < 20; ++i) {
    auto r = HttpCall(router.port(), "PUT", "/v1/secret/data/seed/" + std::to_string(i),
                      R"({"data":{"v":"s"}})", {kToken});
    if (!r || r->status != 200) {
      FAIL_CHECK("seed write " << i << " failed");
      return false;
    }
  }
  return true;
}

FailoverLoad::FailoverLoad(int port, int writers, int readers, std::chrono::milliseconds op_timeout)
    : port_(port), op_timeout_(op_timeout) {
  for (int i = 0; i < writers; ++i) threads_.emplace_back([this, i] { Writer(i); });
  for (int i = 0; i < readers; ++i) threads_.emplace_back([this, i] { Reader(i); });
}

FailoverLoad::~FailoverLoad() { Stop(); }

void FailoverLoad::Stop() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

std::vector<LoadOp> FailoverLoad::ops() {
  std::lock_guard<std::mutex> l(mu_);
  return ops_;
}

std::vector<AckedWrite> FailoverLoad::acked() {
  std::lock_guard<std::mutex> l(mu_);
  return acked_;
}

std::optional<http::Response> FailoverLoad::Call(RawClient& c, const std::string& m,
                                                 const std::string& t, const std::string& body) {
  if (!c.connected() && !c.Connect(port_)) return std::nullopt;
  auto r = c.Request(m, t, body, {kToken}, op_timeout_);
  if (!r || !r->keep_alive) c.Close();
  return r;
}

void FailoverLoad::Record(const LoadOp& op) {
  std::lock_guard<std::mutex> l(mu_);
  ops_.push_back(op);
}

void FailoverLoad::Writer(int id) {
  RawClient c;
  for (int seq = 0; !stop_; ++seq) {
    std::string key = "load/w" + std::to_string(id) + "-" + std::to_string(seq);
    std::string value = "v" + std::to_string(seq);
    LoadOp op{true, Clock::now(), {}, 0};
    auto r = Call(c, "PUT", "/v1/secret/data/" + key, R"({"data":{"v":")" + value + "\"}}");
    op.end = Clock::now();
    op.status = r ? r->status : 0;
    Record(op);
    if (op.status == 200) {
      std::lock_guard<std::mutex> l(mu_);
      acked_.push_back({key, value});
      ++writes_acked_;
    }
    ++writes_done_;
  }
}

void FailoverLoad::Reader(int id) {
  RawClient c;
  for (int i = 0; !stop_; ++i) {
    LoadOp op{false, Clock::now(), {}, 0};
    auto r = Call(c, "GET", "/v1/secret/data/seed/" + std::to_string((i + id) % 20), "");
    op.end = Clock::now();
    op.status = r ? r->status : 0;
    Record(op);
  }
}

LoadReport AnalyseLoad(const std::vector<LoadOp>& ops, Clock::time_point event) {
  LoadReport r;
  std::vector<Clock::time_point> write_ends;
  Clock::time_point last_end = event;
  for (const LoadOp& op : ops) {
    ++r.ops;
    last_end = std::max(last_end, op.end);
    (op.write ? r.writes : r.reads)++;
    if (op.status != 200) {
      ++r.errors;
      ++r.error_statuses[op.status];
      (op.write ? r.write_errors : r.read_errors)++;
    }
    if (op.write) {
      r.max_write_ms = std::max<int64_t>(
          r.max_write_ms,
          std::chrono::duration_cast<std::chrono::milliseconds>(op.end - op.start).count());
      if (op.status == 200) write_ends.push_back(op.end);
    }
  }
  std::sort(write_ends.begin(), write_ends.end());
  Clock::time_point prev = event;
  for (Clock::time_point t : write_ends) {
    if (t < event) continue;
    r.write_gap_ms = std::max<int64_t>(
        r.write_gap_ms, std::chrono::duration_cast<std::chrono::milliseconds>(t - prev).count());
    prev = t;
  }
  r.write_gap_ms = std::max<int64_t>(
      r.write_gap_ms,
      std::chrono::duration_cast<std::chrono::milliseconds>(last_end - prev).count());
  return r;
}

std::string DescribeLoad(const LoadReport& r) {
  std::string s = std::to_string(r.ops) + " ops (" + std::to_string(r.writes) + " writes, " +
                  std::to_string(r.reads) + " reads), " + std::to_string(r.errors) + " errors";
  for (auto [status, n] : r.error_statuses) {
    s += " [" + (status ? std::to_string(status) : std::string("no answer")) + " x" +
         std::to_string(n) + "]";
  }
  s += " (" + std::to_string(r.write_errors) + " on writes, " + std::to_string(r.read_errors) +
       " on reads), write gap " + std::to_string(r.write_gap_ms) + " ms, slowest write " +
       std::to_string(r.max_write_ms) + " ms";
  return s;
}

}  // namespace halo::router::testing
