// The Redis fault matrix on the test bed (test/support/testbed.h): redis-server on host 0,
// three nodes on hosts 1-3 (storage and HA lock in that Redis), the router on host 4 with
// the load's clients, steady writes through the router. The Sentinel row adds two replicas
// on hosts 5 and 6 and a Sentinel on each Redis host (quorum 2), and the nodes find the
// master through the Sentinels with min_replicas_acked 1. Each row injects one fault and
// reports the write gap, client errors, acknowledged writes lost, and "two writers seen":
// commits, in the final master's AOF, whose epoch is older than one committed before them
// (test/support/redis_aof.h). make test runs these with a 5 s lock TTL; the figures in the
// closing note come from the same tests.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "test/router/bed_router.h"
#include "test/router/failover_load.h"
#include "test/router/node_cluster.h"
#include "test/router/router_harness.h"
#include "test/support/redis_aof.h"
#include "test/support/redis_server.h"
#include "test/support/subprocess.h"
#include "test/support/testbed.h"

namespace halo::router::testing {
namespace {

using halo::testing::PollUntil;
using halo::testing::Subprocess;
using halo::testing::Testbed;
using namespace std::chrono_literals;

constexpr int kRedisHost = 0;
constexpr int kRouterHost = 4;
constexpr int kReplicaHosts[] = {5, 6};
constexpr int kPort = 8200;
constexpr int kAdminPort = 8201;

class RedisBed {
 public:
  // sentinel: replicas on hosts 5 and 6, a Sentinel beside each Redis, nodes through them.
  explicit RedisBed(bool sentinel = false) : sentinel_(sentinel) {}

  bool Start() {
    Result<std::unique_ptr<Testbed>> made = Testbed::Create(sentinel_ ? 7 : 5);
    if (!made.ok()) {
      MESSAGE("skipped: " << made.status().ToString());
      return false;
    }
    bed_ = std::move(made).value();
    StartRedis();
    if (sentinel_) StartSentinels();
    for (int n = 1; n <= 3; ++n) StartNode(n);
    std::string nodes;
    std::vector<std::pair<std::string, std::string>> list;
    for (int n = 1; n <= 3; ++n) {
      list.push_back({"node" + std::to_string(n), bed_->address(n) + ":" + std::to_string(kPort)});
    }
    std::string config = RouterConfigJson(
        kPort, list,
        R"("admin":{"address":"127.0.0.1:8201"},)"
        R"("health_check":{"interval":"200ms","timeout":"500ms"},"failover_hold_ms":8000)");
    halo::testing::WriteFile(dir_.Join("router.json"), config);
    router_ = bed_->Start(
        kRouterHost, {halo::testing::BinPath("halo-router"), "-config", dir_.Join("router.json")},
        {}, dir_.Join("router.log"));
    REQUIRE(router_.started());
    return true;
  }

  // Each Redis keeps its data in redis<host>/ (its AOF is read by the row afterwards).
  std::string RedisDir(int host) { return dir_.Join("redis" + std::to_string(host)); }

  void StartRedis() { StartRedisOn(kRedisHost, false); }

  void StartRedisOn(int host, bool replica) {
    std::filesystem::create_directories(RedisDir(host));
    std::vector<std::string> argv =
        halo::testing::DurableRedisArgv(bed_->address(host), 6379, RedisDir(host));
    if (replica) argv.insert(argv.end(), {"--replicaof", bed_->address(kRedisHost), "6379"});
    redis_[host] = bed_->Start(host, argv, {}, RedisDir(host) + ".log");
    REQUIRE(redis_[host].started());
    bool up = PollUntil([&] { return RedisCli(host, {"PING"}).find("PONG") != std::string::npos; },
                        20s, 20ms);
    REQUIRE_MESSAGE(up, "redis-server on the test bed: " << RedisCli(host, {"PING"}) << Logs());
  }

  // Two replicas, then a Sentinel on every Redis host; returns once each Sentinel sees both.
  void StartSentinels() {
    for (int h : kReplicaHosts) StartRedisOn(h, true);
    for (int h : kReplicaHosts) {
      REQUIRE(PollUntil(
          [&] {
            return RedisCli(h, {"INFO", "replication"}).find("master_link_status:up") !=
                   std::string::npos;
          },
          20s, 20ms));
    }
    for (int h : {kRedisHost, kReplicaHosts[0], kReplicaHosts[1]}) {
      std::string conf = "port 26379\nbind " + bed_->address(h) + "\ndir " + dir_.path() +
                         "\nsentinel monitor fm " + bed_->address(kRedisHost) +
                         " 6379 2\nsentinel down-after-milliseconds fm 1000\n"
                         "sentinel failover-timeout fm 5000\n";
      std::string path = dir_.Join("sentinel" + std::to_string(h) + ".conf");
      halo::testing::WriteFile(path, conf);
      sentinels_.push_back(bed_->Start(h, {"/usr/bin/redis-sentinel", path}, {},
                                       dir_.Join("sentinel" + std::to_string(h) + ".log")));
      REQUIRE(sentinels_.back().started());
    }
    for (int h : {kRedisHost, kReplicaHosts[0], kReplicaHosts[1]}) {
      bool seen = PollUntil(
          [&] {
            std::string r = RedisCli(h, {"-p", "26379", "SENTINEL", "replicas", "fm"});
            std::string s = RedisCli(h, {"-p", "26379", "SENTINEL", "sentinels", "fm"});
            return r.find(bed_->address(kReplicaHosts[0])) != std::string::npos &&
                   r.find(bed_->address(kReplicaHosts[1])) != std::string::npos &&
                   std::count(s.begin(), s.end(), '\n') >= 2 && s.find("198.18") != s.npos;
          },
          30s, 50ms);
      REQUIRE_MESSAGE(seen, "sentinel on host " << h << " does not see the set\n" << Logs());
    }
  }

  // The host of the master the Sentinels name now (-1 if they name none of ours).
  int MasterHost() {
    std::string now =
        RedisCli(kReplicaHosts[0], {"-p", "26379", "SENTINEL", "get-master-addr-by-name", "fm"});
    for (int h : {kRedisHost, kReplicaHosts[0], kReplicaHosts[1]}) {
      if (now.find(bed_->address(h) + "\n") != std::string::npos) return h;
    }
    return -1;
  }

  void StartNode(int n) {
    std::string redis = R"({"address":")" + bed_->address(kRedisHost) +
                        R"(:6379","key_prefix":"fm/","op_timeout":"1s")";
    if (sentinel_) {
      redis = R"({"sentinels":[")" + bed_->address(kRedisHost) + R"(:26379",")" +
              bed_->address(kReplicaHosts[0]) + R"(:26379",")" + bed_->address(kReplicaHosts[1]) +
              R"(:26379"],"master_name":"fm","key_prefix":"fm/","op_timeout":"1s",)"
              R"("min_replicas_acked":1,"replica_wait_timeout":"1s")";
    }
    nodes_[n] =
        StartBedNode(*bed_, n, n, kPort, dir_,
                     R"("storage":{"redis":)" + redis + R"(}},"ha_storage":{"redis":)" + redis +
                         R"(,"ttl":"5s","renew_interval":"1s","renew_deadline":"3s",)"
                         R"("retry_interval":"250ms"}})",
                     "fm");
    REQUIRE(nodes_[n].started());
  }

  BedRouter Router() const { return BedRouter(bed_.get(), kRouterHost, kPort, kAdminPort); }
  std::string WaitActive(int routable, std::chrono::milliseconds timeout) {
    return Router().WaitActive(routable, timeout);
  }
  std::optional<http::Response> Call(const std::string& method, const std::string& target,
                                     const std::string& body = "") {
    return Router().Call(method, target, body);
  }
  std::unique_ptr<FailoverLoad> StartLoad() { return Router().StartLoad(4, 2, 3s); }

  // redis-cli inside a Redis host, against its server (or, with "-p 26379", its Sentinel).
  std::string RedisCli(const std::vector<std::string>& args) { return RedisCli(kRedisHost, args); }
  std::string RedisCli(int host, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {
        "/usr/bin/ip",      "netns", "exec", bed_->netns(host), "/usr/bin/redis-cli", "-h",
        bed_->address(host)};
    argv.insert(argv.end(), args.begin(), args.end());
    return halo::testing::RunCommand(argv).output;
  }

  // The last lines of every log, for a failure's message.
  std::string Logs() {
    std::string out;
    for (const char* name : {"redis0.log", "redis5.log", "redis6.log", "sentinel5.log", "node1.log",
                             "node2.log", "node3.log", "router.log"}) {
      halo::testing::CommandResult r =
          halo::testing::RunCommand({"/usr/bin/tail", "-n", "8", dir_.Join(name)});
      out += std::string("--- ") + name + "\n" + r.output;
    }
    return out;
  }

  Testbed& bed() { return *bed_; }
  Subprocess& node(int n) { return nodes_[n]; }
  Subprocess& redis() { return redis_[kRedisHost]; }
  halo::testing::TempDir& dir() { return dir_; }

 private:
  halo::testing::TempDir dir_{"halo-redis-bed"};
  bool sentinel_;
  std::unique_ptr<Testbed> bed_;
  Subprocess redis_[7];
  std::vector<Subprocess> sentinels_;
  Subprocess nodes_[4];
  Subprocess router_;
};

int NodeIndex(const std::string& name) { return name.empty() ? 0 : name.back() - '0'; }

struct RowResult {
  LoadReport report;
  int lost = -1;
  std::string old_active, new_active;
  int stale_refused = 0;
  int two_writers = -1;  // commits older than one before them, in the final master's AOF
  int master = -1;       // the Redis host that is master at the end
  std::string logs;      // the tail of every log, for a failing check's message
};

enum class Fault {
  kSigkillActive,
  kPartitionActive,
  kSigstopActive,
  kRestartRedis,
  kCutRouterFromActive,
  kKillMasterHost,  // the Sentinel bed
};

RowResult RunRow(Fault fault) {
  RowResult out;
  RedisBed bed(fault == Fault::kKillMasterHost);
  if (!bed.Start()) return out;
  std::string active = bed.WaitActive(3, 30s);
  REQUIRE_MESSAGE(!active.empty(), "no active behind the router on the test bed\n" << bed.Logs());
  for (int i = 0; i < 20; ++i) {
    auto r = bed.Call("PUT", "/v1/secret/data/seed/" + std::to_string(i), R"({"data":{"v":"s"}})");
    REQUIRE_MESSAGE((r && r->status == 200), "seed write " << i);
  }
  std::unique_ptr<FailoverLoad> load = bed.StartLoad();
  REQUIRE(PollUntil([&] { return load->writes_acked() >= 50; }, 20s));
  int victim = NodeIndex(active);
  out.old_active = active;
  auto event = std::chrono::steady_clock::now();
  switch (fault) {
    case Fault::kSigkillActive:
      bed.node(victim).Signal(SIGKILL);
      break;
    case Fault::kPartitionActive:
      REQUIRE(bed.bed().Partition(victim).ok());
      break;
    case Fault::kSigstopActive:
      bed.node(victim).Signal(SIGSTOP);
      break;
    case Fault::kRestartRedis:
      bed.redis().Signal(SIGKILL);
      bed.redis().WaitExit(10s);
      bed.StartRedis();
      break;
    case Fault::kCutRouterFromActive:
      REQUIRE(bed.bed().CutOff(victim, kRouterHost).ok());
      break;
    case Fault::kKillMasterHost:
      REQUIRE(bed.bed().KillHost(kRedisHost).ok());
      break;
  }
  // Writes resume: 100 more acknowledged after the fault.
  size_t before = load->writes_acked();
  bool resumed = PollUntil([&] { return load->writes_acked() >= before + 100; }, 40s, 20ms);
  CHECK_MESSAGE(resumed, "writes did not resume after the fault");
  if (fault == Fault::kSigstopActive) {
    // Hold the stopped node 20 s in all (it is now far past its term), then let it run.
    auto until = event + 20s;
    (void)PollUntil([&] { return std::chrono::steady_clock::now() >= until; }, 25s, 100ms);
    bed.node(victim).Signal(SIGCONT);
    size_t at = load->writes_acked();
    CHECK(PollUntil([&] { return load->writes_acked() >= at + 100; }, 20s, 20ms));
  }
  if (fault == Fault::kPartitionActive) REQUIRE(bed.bed().Heal(victim).ok());
  if (fault == Fault::kCutRouterFromActive) REQUIRE(bed.bed().Reconnect(victim, kRouterHost).ok());
  load->Stop();
  out.new_active = bed.WaitActive(1, 20s);
  out.lost = 0;
  for (const AckedWrite& a : load->acked()) {
    auto r = bed.Call("GET", "/v1/secret/data/" + a.key);
    if (!r || r->status != 200 || KvField(*r, "v") != a.value) ++out.lost;
  }
  out.report = AnalyseLoad(load->ops(), event);
  // A former active's late writes are refused by the fence inside halo_commit: counted from
  // its log (each one a write that reached storage after its term and did not commit).
  halo::testing::CommandResult stale =
      halo::testing::RunCommand({"/usr/bin/grep", "-c", "refused for a stale fencing epoch",
                                 bed.dir().Join("node" + std::to_string(victim) + ".log")});
  out.stale_refused = std::atoi(stale.output.c_str());
  int master = fault == Fault::kKillMasterHost ? bed.MasterHost() : kRedisHost;
  REQUIRE_MESSAGE(master >= 0, "the Sentinels name no master of the bed\n" << bed.Logs());
  Result<halo::testing::EpochWrites> epochs =
      halo::testing::ReadEpochWrites(bed.RedisDir(master), "fm/epoch");
  REQUIRE_MESSAGE(epochs.ok(), epochs.status().ToString());
  out.two_writers = epochs->regressions;
  out.master = master;
  MESSAGE("AOF of redis" << master << ": " << epochs->epochs.size() << " epoch writes, newest "
                         << (epochs->epochs.empty() ? 0 : epochs->epochs.back())
                         << ", older than an earlier one " << epochs->regressions);
  MESSAGE("lock epoch " << bed.RedisCli(master, {"HGET", "fm/lock", "epoch"}) << ", storage epoch "
                        << bed.RedisCli(master, {"GET", "fm/epoch"})
                        << ", the old active's writes refused " << out.stale_refused);
  out.logs = bed.Logs();
  return out;
}

void Report(const char* row, const RowResult& r) {
  MESSAGE(std::string(row) << ": " << DescribeLoad(r.report) << ", lost " << r.lost
                           << ", two writers seen " << r.two_writers << ", new active "
                           << r.new_active);
  CHECK_MESSAGE(r.two_writers == 0, r.logs);
  CHECK_MESSAGE(r.lost == 0, r.logs);
}

TEST_CASE("redis fault matrix: SIGKILL of the active node -> writes resume, nothing lost") {
  RowResult r = RunRow(Fault::kSigkillActive);
  if (r.lost < 0) return;
  Report("SIGKILL active", r);
  // The connection close lets a standby take the lock at once: well inside the 5 s TTL.
  CHECK(r.report.write_gap_ms < 3000);
}

TEST_CASE("redis fault matrix: partition of the active's host -> new active within TTL + 2 s") {
  RowResult r = RunRow(Fault::kPartitionActive);
  if (r.lost < 0) return;
  Report("partition active", r);
  CHECK(r.report.write_gap_ms < 5000 + 2000 + 3000);  // TTL + 2 s, plus the client's timeout
}

TEST_CASE("redis fault matrix: SIGSTOP of the active for 20 s, then SIGCONT -> nothing lost") {
  RowResult r = RunRow(Fault::kSigstopActive);
  if (r.lost < 0) return;
  Report("SIGSTOP active 20 s", r);
}

TEST_CASE("redis fault matrix: Redis restart from its AOF -> nothing lost") {
  RowResult r = RunRow(Fault::kRestartRedis);
  if (r.lost < 0) return;
  Report("redis restart", r);
}

TEST_CASE("redis fault matrix: the router cut off from the active -> writes go through a standby") {
  RowResult r = RunRow(Fault::kCutRouterFromActive);
  if (r.lost < 0) return;
  Report("router cut off from the active", r);
  // No failover: the active stays, and writes go on through a standby once the router's
  // probes give up on it (the writes in flight at the cut wait out the client's timeout).
  CHECK(r.new_active == r.old_active);
  CHECK(r.report.write_gap_ms < 3000 + 2000);
}

TEST_CASE(
    "redis fault matrix: the Redis master's host lost, Sentinel promotes, min_replicas_acked 1") {
  RowResult r = RunRow(Fault::kKillMasterHost);
  if (r.lost < 0) return;
  Report("redis master host killed (Sentinel)", r);
  CHECK(r.master != kRedisHost);
}

}  // namespace
}  // namespace halo::router::testing
