// scripts/rolling-upgrade against the real local cluster of scripts/run-cluster (three nodes on
// one LMDB directory, the router from conf/router.json), run in a network namespace of its own
// (test/support/testbed.h, one host) so that conf/'s fixed ports 8200-8230 clash with nothing
// else on the machine, and with HALO_RUN_DIR in a temp dir so that its data and hand-off files
// are its own. The new build is a copy of the bin directory: the script cannot tell it from a
// real new version, and /proc/<pid>/exe tells the test which file each node runs.
//   upgrade under load: steady writes and reads through the router while the script restarts
//     the standbys, steps the active down and restarts it; the script exits 0, every node
//     runs the copy, no client error, no acknowledged write lost; then a SIGKILLed node is
//     started again by the supervisor, still on the new build;
//   refusals: NEW_BIN_DIR without halo-node, a SIGSTOPped standby, a killed standby whose
//     restart is slowed (HALO_RESTART_DELAY): non-zero exit, the reason, nothing restarted.
// The figures (errors, write gap, acknowledged writes) are printed with MESSAGE.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "test/router/bed_router.h"
#include "test/router/failover_load.h"
#include "test/router/node_cluster.h"
#include "test/router/router_harness.h"
#include "test/support/subprocess.h"
#include "test/support/testbed.h"

namespace halo::router::testing {
namespace {

using halo::testing::PollUntil;
using halo::testing::Subprocess;
using halo::testing::Testbed;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kHost = 0;
constexpr int kRouterPort = 8200;  // conf/router.json

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The script's exit status (-1 if it had to be killed) and everything it printed.
struct ScriptRun {
  int status = -1;
  std::string output;
};

// scripts/run-cluster in one network namespace, its run directory in a temp dir.
class LocalCluster {
 public:
  // False (with a MESSAGE) when the test bed is not available: the test then skips.
  bool Start(const std::vector<std::string>& extra_env = {}) {
    if (::access("scripts/run-cluster", X_OK) != 0) {
      MESSAGE("skipped: run from the repository root (no scripts/run-cluster here)");
      return false;
    }
    Result<std::unique_ptr<Testbed>> made = Testbed::Create(1);
    if (!made.ok()) {
      MESSAGE("skipped: " << made.status().ToString());
      return false;
    }
    bed_ = std::move(made).value();
    bin_ = std::filesystem::absolute(halo::testing::BinPath("halo-node"))
               .lexically_normal()
               .parent_path()
               .string();
    // The nodes take the test's token (HALO_ROOT_TOKEN overrides root_token) so that the load
    // of test/router/failover_load.h can talk to them.
    std::vector<std::string> env{"HALO_BIN_DIR=" + bin_, "HALO_RUN_DIR=" + run_dir(),
                                 std::string("HALO_ROOT_TOKEN=") + kRootToken};
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    cluster_ = bed_->Start(kHost, {"scripts/run-cluster"}, env, dir_.Join("run-cluster.log"));
    REQUIRE(cluster_.started());
    // cluster.state is written once every node answers and the router is up.
    bool up = PollUntil(
        [&] {
          return std::filesystem::exists(run_dir() + "/cluster.state") || !cluster_.Running();
        },
        40s, 20ms);
    REQUIRE_MESSAGE((up && cluster_.Running()), "run-cluster did not come up\n" << Logs());
    REQUIRE_MESSAGE(WaitRouter(), "the router does not route to three nodes\n" << Logs());
    for (int i = 0; i < 20; ++i) {
      auto r = Call("PUT", "/v1/secret/data/seed/" + std::to_string(i), R"({"data":{"v":"s"}})");
      REQUIRE_MESSAGE((r && r->status == 200), "seed write " << i << "\n" << Logs());
    }
    return true;
  }

  ~LocalCluster() {
    if (!bed_) return;
    // A clean stop first (the supervisor's trap: every node steps down and exits); the
    // test bed then SIGKILLs whatever is left in the namespace, also after a failure.
    for (int n = 1; n <= 3; ++n) {
      pid_t pid = NodePid(n);
      if (pid > 0) ::kill(pid, SIGCONT);
    }
    if (cluster_.started()) cluster_.Stop(SIGTERM, 20s);
    bed_.reset();
  }

  std::string run_dir() const { return dir_.Join("run"); }
  const std::string& bin_dir() const { return bin_; }
  halo::testing::TempDir& dir() { return dir_; }
  Subprocess& cluster() { return cluster_; }

  // The pid run-cluster wrote for node n (1..3); -1 if none.
  pid_t NodePid(int n) const {
    std::string text = ReadText(run_dir() + "/node" + std::to_string(n) + ".pid");
    return text.empty() ? -1 : std::atoi(text.c_str());
  }
  static std::string Exe(pid_t pid) {
    std::error_code ec;
    std::filesystem::path p =
        std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec);
    return ec ? "" : p.string();
  }

  // scripts/rolling-upgrade with `args`, in the cluster's namespace; waits for its exit.
  ScriptRun Upgrade(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 45s) {
    std::string log = dir_.Join("rolling-upgrade-" + std::to_string(++runs_) + ".log");
    std::vector<std::string> argv{"scripts/rolling-upgrade"};
    argv.insert(argv.end(), args.begin(), args.end());
    Subprocess p = bed_->Start(kHost, argv, {"HALO_RUN_DIR=" + run_dir()}, log);
    ScriptRun out;
    int st = 0;
    if (p.WaitExit(timeout, &st)) {
      out.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    } else {
      p.Stop(SIGKILL);
    }
    out.output = ReadText(log);
    return out;
  }

  // Until the router sees an active and three routable nodes.
  bool WaitRouter() {
    return PollUntil(
        [&] {
          rapidjson::Document d = Status();
          if (!d.IsObject() || !d.HasMember("active") || !d["active"].IsString()) return false;
          int routable = 0;
          for (const auto& node : d["nodes"].GetArray()) routable += node["routable"].GetBool();
          return routable == 3;
        },
        20s, 50ms);
  }
  BedRouter Router() const { return BedRouter(bed_.get(), kHost, kRouterPort, 8201); }
  rapidjson::Document Status() { return Router().Status(); }
  std::optional<http::Response> Call(const std::string& method, const std::string& target,
                                     const std::string& body = "") {
    return Router().Call(method, target, body);
  }
  std::unique_ptr<FailoverLoad> StartLoad() { return Router().StartLoad(2, 2, 5s); }
  int Lost(const std::vector<AckedWrite>& acked) { return Router().Lost(acked); }

  std::string Logs() const {
    std::string s = "--- run-cluster ---\n" + ReadText(dir_.Join("run-cluster.log"));
    for (const char* f : {"node1.log", "node2.log", "node3.log", "router.log"}) {
      std::string text = ReadText(run_dir() + "/" + f);
      if (text.size() > 3000) text = "..." + text.substr(text.size() - 3000);
      s += std::string("--- ") + f + " ---\n" + text;
    }
    return s;
  }

 private:
  halo::testing::TempDir dir_{"halo-rolling"};  // outlives the bed (its processes write here)
  std::unique_ptr<Testbed> bed_;
  Subprocess cluster_;
  std::string bin_;
  int runs_ = 0;
};

// A copy of the bin directory's halo-node: "the new build".
std::string MakeNewBuild(LocalCluster& c) {
  std::string dir = c.dir().Join("new-bin");
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(c.bin_dir() + "/halo-node", dir + "/halo-node",
                             std::filesystem::copy_options::overwrite_existing);
  return dir;
}

TEST_CASE("rolling upgrade: standbys, step-down, old active under load; no error, none lost") {
  LocalCluster c;
  if (!c.Start()) return;
  std::string new_bin = MakeNewBuild(c);
  std::string new_exe = new_bin + "/halo-node";
  pid_t before[4] = {0, c.NodePid(1), c.NodePid(2), c.NodePid(3)};
  for (int n = 1; n <= 3; ++n) REQUIRE(LocalCluster::Exe(before[n]) != new_exe);

  std::unique_ptr<FailoverLoad> load = c.StartLoad();
  REQUIRE(PollUntil([&] { return load->writes_acked() >= 50; }, 20s));
  Clock::time_point event = Clock::now();
  ScriptRun run = c.Upgrade({new_bin});
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - event);
  MESSAGE("rolling-upgrade (" << took.count() << " ms):\n" << run.output);
  CHECK_MESSAGE(run.status == 0, c.Logs());
  // Writes go on after the upgrade: 100 more acknowledged.
  size_t at = load->writes_acked();
  CHECK(PollUntil([&] { return load->writes_acked() >= at + 100; }, 15s, 10ms));
  load->Stop();

  for (int n = 1; n <= 3; ++n) {
    pid_t pid = c.NodePid(n);
    CHECK_MESSAGE(pid != before[n], "node" << n << " was not restarted");
    CHECK_MESSAGE(LocalCluster::Exe(pid) == new_exe,
                  "node" << n << " (pid " << pid << ") runs " << LocalCluster::Exe(pid));
  }
  REQUIRE(c.WaitRouter());
  std::vector<AckedWrite> acked = load->acked();
  int lost = c.Lost(acked);
  LoadReport report = AnalyseLoad(load->ops(), event);
  MESSAGE("rolling upgrade under load: " << DescribeLoad(report) << "; " << acked.size()
                                         << " acknowledged writes, lost " << lost);
  // How the router rode through it (held writes wait for the new active; retries are
  // requests resent to another node after a restarting node refused or closed them).
  rapidjson::Document status = c.Status();
  if (status.IsObject()) {
    MESSAGE("router: failovers " << StatusCounter(status, "failovers") << ", held writes "
                                 << StatusCounter(status, "held_writes") << ", retries "
                                 << StatusCounter(status, "retries") << ", upstream errors "
                                 << StatusCounter(status, "upstream_errors"));
  }
  CHECK(report.errors == 0);
  CHECK(lost == 0);
  CHECK(acked.size() > 100);

  // Supervision: a node that dies is started again, from the directory the upgrade chose.
  pid_t victim = c.NodePid(2);
  REQUIRE(::kill(victim, SIGKILL) == 0);
  bool restarted = PollUntil(
      [&] {
        pid_t pid = c.NodePid(2);
        return pid > 0 && pid != victim && LocalCluster::Exe(pid) == new_exe;
      },
      15s, 20ms);
  CHECK_MESSAGE(restarted, c.Logs());
  CHECK(c.WaitRouter());
  CHECK(ReadText(c.dir().Join("run-cluster.log")).find("node2 exited (signal 9)") !=
        std::string::npos);
}

TEST_CASE("rolling upgrade: refuses without halo-node, with a stopped or a dead standby") {
  LocalCluster c;
  // A dead node stays dead for a minute: supervision too slow to hide it.
  if (!c.Start({"HALO_RESTART_DELAY=60"})) return;
  std::string new_bin = MakeNewBuild(c);
  pid_t before[4] = {0, c.NodePid(1), c.NodePid(2), c.NodePid(3)};
  auto unchanged = [&] {
    for (int n = 1; n <= 3; ++n) {
      if (c.NodePid(n) != before[n] ||
          std::filesystem::exists(c.run_dir() + "/node" + std::to_string(n) + ".bin")) {
        return false;
      }
    }
    return true;
  };

  std::string empty = c.dir().Join("empty-bin");
  std::filesystem::create_directories(empty);
  ScriptRun run = c.Upgrade({empty});
  MESSAGE("no halo-node: exit " << run.status << ": " << run.output);
  CHECK(run.status == 1);
  CHECK(run.output.find("halo-node does not exist") != std::string::npos);
  CHECK(unchanged());

  // A build that rejects the nodes' config (a key it no longer knows): refused before any
  // node stops. The stand-in runs the real binary for --version only.
  std::string picky = c.dir().Join("picky-bin");
  std::filesystem::create_directories(picky);
  halo::testing::WriteFile(
      picky + "/halo-node",
      "#!/bin/sh\n"
      "case \"$*\" in *--check-config*)\n"
      "  echo 'halo-node: error loading configuration: storage: unknown key' >&2\n"
      "  exit 1;;\n"
      "esac\n"
      "exec " +
          new_bin + "/halo-node \"$@\"\n");
  std::filesystem::permissions(picky + "/halo-node", std::filesystem::perms::owner_all);
  run = c.Upgrade({picky});
  MESSAGE("a build that rejects the config: exit " << run.status << ": " << run.output);
  CHECK(run.status == 1);
  CHECK(run.output.find("the new build rejects node1's config") != std::string::npos);
  CHECK(run.output.find("storage: unknown key") != std::string::npos);
  CHECK(unchanged());

  // The standby with the highest number: SIGSTOP (it holds its port but answers nothing).
  rapidjson::Document status = c.Status();
  REQUIRE((status.IsObject() && status["active"].IsString()));
  int active = std::atoi(status["active"].GetString() + 4);  // "node<N>"
  REQUIRE((active >= 1 && active <= 3));
  int standby = active == 3 ? 2 : 3;
  REQUIRE(::kill(before[standby], SIGSTOP) == 0);
  run = c.Upgrade({new_bin});
  MESSAGE("a SIGSTOPped standby: exit " << run.status << ": " << run.output);
  CHECK(run.status == 1);
  CHECK(run.output.find("the cluster is not healthy: node" + std::to_string(standby)) !=
        std::string::npos);
  CHECK(run.output.find("does not answer sys/health within 2 s") != std::string::npos);
  CHECK(run.output.find("is stopped") != std::string::npos);
  CHECK(unchanged());
  REQUIRE(::kill(before[standby], SIGCONT) == 0);

  // The same standby killed: run-cluster restarts it only after HALO_RESTART_DELAY.
  REQUIRE(::kill(before[standby], SIGKILL) == 0);
  REQUIRE(PollUntil([&] { return LocalCluster::Exe(before[standby]).empty(); }, 10s));
  run = c.Upgrade({new_bin});
  MESSAGE("a dead standby: exit " << run.status << ": " << run.output);
  CHECK(run.status == 1);
  CHECK(run.output.find("the cluster is not healthy: node" + std::to_string(standby) +
                        " (http://127.0.0.1:82" + std::to_string(standby) +
                        "0) refuses connections") != std::string::npos);
  CHECK(run.output.find("has exited") != std::string::npos);
  for (int n = 1; n <= 3; ++n) {
    CHECK_FALSE(std::filesystem::exists(c.run_dir() + "/node" + std::to_string(n) + ".bin"));
    if (n != standby) CHECK(c.NodePid(n) == before[n]);
  }
  CHECK(ReadText(c.dir().Join("run-cluster.log")).find("restarting it in 60.0 s") !=
        std::string::npos);
}

}  // namespace
}  // namespace halo::router::testing
