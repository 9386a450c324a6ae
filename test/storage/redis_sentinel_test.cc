// The Redis backend under a Sentinel-managed failover, on loopback: a master, a replica and
// one Sentinel (quorum 1). With min_replicas_acked 1 a write is acknowledged only after the
// replica has it, so when the master is SIGKILLed and the replica promoted, no acknowledged
// write is lost (storage/README.md, "What can lose an acknowledged write").
#include <doctest/doctest.h>
#include <signal.h>

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "storage/backend_factory.h"
#include "test/support/redis_server.h"
#include "test/support/subprocess.h"
#include "test/support/testbed.h"

namespace halo::storage {
namespace {

using halo::testing::PollUntil;
using namespace std::chrono_literals;

TEST_CASE(
    "redis sentinel: master SIGKILLed, replica promoted, min_replicas_acked 1 -> nothing lost") {
  halo::testing::RedisServer master;
  master.Start();
  halo::testing::RedisServer replica({"--replicaof", "127.0.0.1", std::to_string(master.port())});
  replica.Start();
  // A second replica, so that the promoted one still has a replica to acknowledge writes.
  halo::testing::RedisServer replica2({"--replicaof", "127.0.0.1", std::to_string(master.port())});
  replica2.Start();
  for (halo::testing::RedisServer* r : {&replica, &replica2}) {
    REQUIRE(PollUntil(
        [&] {
          return r->Cli({"INFO", "replication"}).find("master_link_status:up") != std::string::npos;
        },
        20s, 20ms));
  }

  halo::testing::TempDir dir("halo-sentinel");
  int sport = halo::testing::PickFreePort();
  std::string conf = "port " + std::to_string(sport) + "\nbind 127.0.0.1\ndir " + dir.path() +
                     "\nsentinel monitor m 127.0.0.1 " + std::to_string(master.port()) +
                     " 1\nsentinel down-after-milliseconds m 1000\n"
                     "sentinel failover-timeout m 5000\n";
  halo::testing::WriteFile(dir.Join("sentinel.conf"), conf);
  halo::testing::Subprocess sentinel = halo::testing::Subprocess::Start(
      {"/usr/bin/redis-sentinel", dir.Join("sentinel.conf")}, {}, dir.Join("sentinel.log"));
  REQUIRE(sentinel.started());
  auto sentinel_cli = [&](const std::vector<std::string>& args) {
    halo::testing::CommandResult r = halo::testing::RunCommand([&] {
      std::vector<std::string> argv = {"/usr/bin/redis-cli", "-p", std::to_string(sport)};
      argv.insert(argv.end(), args.begin(), args.end());
      return argv;
    }());
    return r.output;
  };
  REQUIRE(PollUntil(
      [&] {
        std::string seen = sentinel_cli({"SENTINEL", "replicas", "m"});
        return seen.find(std::to_string(replica.port())) != std::string::npos &&
               seen.find(std::to_string(replica2.port())) != std::string::npos;
      },
      30s, 50ms));

  BackendOptions o{.type = "redis"};
  o.redis.sentinels = {"127.0.0.1:" + std::to_string(sport)};
  o.redis.master_name = "m";
  o.redis.key_prefix = "sent/";
  o.redis.op_timeout = 1s;
  o.redis.min_replicas_acked = 1;
  o.redis.replica_wait_timeout = 1s;
  Result<std::unique_ptr<Backend>> opened = OpenBackend(o);
  REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
  std::unique_ptr<Backend> b = std::move(opened).value();

  std::atomic<bool> stop{false};
  std::atomic<int> acked{0};
  std::atomic<int> failed{0};
  std::mutex mu;
  std::set<std::string> keys;
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      std::string key = "k/" + std::to_string(i);
      if (b->Put(key, "v" + std::to_string(i), 1).ok()) {
        std::lock_guard<std::mutex> l(mu);
        keys.insert(key);
        ++acked;
      } else {
        ++failed;
        std::this_thread::sleep_for(10ms);  // pacing while the master moves, not a wait
      }
    }
  });
  REQUIRE(PollUntil([&] { return acked >= 200; }, 30s));
  master.Stop(SIGKILL);
  auto killed = std::chrono::steady_clock::now();
  int at_kill = acked;
  bool first = PollUntil([&] { return acked > at_kill; }, 40s, 5ms);
  auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - killed);
  bool resumed = first && PollUntil([&] { return acked >= at_kill + 200; }, 40s, 20ms);
  stop = true;
  writer.join();
  CHECK_MESSAGE(resumed, "writes did not resume on the promoted replica");
  MESSAGE("sentinel failover: " << at_kill << " acked before the kill, " << acked.load()
                                << " in all, " << failed.load()
                                << " refused during the switch; first write acknowledged "
                                << gap.count() << " ms after the kill");

  int lost = 0;
  for (const std::string& k : keys) {
    if (!b->Get(k).ok()) ++lost;
  }
  CHECK(lost == 0);
  std::string now = sentinel_cli({"SENTINEL", "get-master-addr-by-name", "m"});
  CHECK(now.find(std::to_string(master.port())) == std::string::npos);
  sentinel.Stop(SIGKILL);
}

}  // namespace
}  // namespace halo::storage
