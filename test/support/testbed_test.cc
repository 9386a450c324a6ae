// The multi-host test bed itself (test/support/testbed.h), with a real halo-node as the
// server on one simulated host: reachable from another host, nothing added to the root
// namespace;
// a partition cuts it off and healing restores it; a cut between two hosts leaves the third;
// KillHost leaves nothing running; and nothing of the bed is left once it is gone.
#include "test/support/testbed.h"

#include <doctest/doctest.h>

#include "test/support/http_test_client.h"

namespace halo::testing {
namespace {

using Ms = std::chrono::milliseconds;

bool HealthFrom(Testbed& bed, int from, const std::string& addr, Ms timeout) {
  bool ok = false;
  REQUIRE(bed.InHost(from, [&] {
    HttpTestClient c(8200, addr);
    ok = c.Connect(timeout).ok() && c.Get("/v1/sys/health").ok();
  }));
  return ok;
}

TEST_CASE("testbed: hosts on one switch, isolated from the machine, partition and kill") {
  Result<std::unique_ptr<Testbed>> made = Testbed::Create(3);
  if (!made.ok()) {
    MESSAGE("skipped: " << made.status().ToString());
    return;
  }
  std::string prefix;
  {
    Testbed& bed = **made;
    prefix = bed.netns(0).substr(0, bed.netns(0).rfind('-'));
    TempDir dir("halo-testbed");
    std::string cfg =
        WriteFile(dir.Join("node.json"),
                  R"({"storage":{"inmem":{}},"listener":{"tcp":{"address":")" + bed.address(0) +
                      R"(:8200"}},"api_addr":"http://)" + bed.address(0) +
                      R"(:8200","cluster_name":"bed","root_token":"t","log_level":"warn"})");
    Subprocess node = bed.Start(0, {BinPath("halo-node"), "--config", cfg}, {}, dir.Join("n.log"));
    REQUIRE(node.started());
    // Reachable from the other host...
    CHECK(PollUntil([&] { return HealthFrom(bed, 1, bed.address(0), Ms(500)); },
                    std::chrono::seconds(10), Ms(50)));
    // ...and the machine's own namespace gets no address, link or route of the bed. (A
    // connection attempt from it proves nothing here: the sandbox may answer any address.)
    CommandResult addrs = RunCommand({"/usr/bin/ip", "-o", "addr"});
    CommandResult routes = RunCommand({"/usr/bin/ip", "route"});
    CHECK(addrs.output.find("198.18.") == std::string::npos);
    CHECK(routes.output.find("198.18.") == std::string::npos);
    // A partition cuts the host off; healing brings it back.
    REQUIRE(bed.Partition(0).ok());
    CHECK_FALSE(HealthFrom(bed, 1, bed.address(0), Ms(300)));
    REQUIRE(bed.Heal(0).ok());
    CHECK(PollUntil([&] { return HealthFrom(bed, 1, bed.address(0), Ms(500)); },
                    std::chrono::seconds(10), Ms(50)));
    // Cutting one pair: host 1 loses host 0, host 2 keeps it.
    REQUIRE(bed.CutOff(0, 1).ok());
    CHECK_FALSE(HealthFrom(bed, 1, bed.address(0), Ms(300)));
    CHECK(HealthFrom(bed, 2, bed.address(0), Ms(500)));
    REQUIRE(bed.Reconnect(0, 1).ok());
    CHECK(PollUntil([&] { return HealthFrom(bed, 1, bed.address(0), Ms(500)); },
                    std::chrono::seconds(10), Ms(50)));
    // Delay, if this kernel has netem.
    Status delay = bed.SetDelay(0, Ms(50));
    if (delay.ok()) {
      auto t0 = std::chrono::steady_clock::now();
      CHECK(HealthFrom(bed, 1, bed.address(0), Ms(2000)));
      CHECK(std::chrono::steady_clock::now() - t0 >= Ms(50));
      CHECK(bed.SetDelay(0, Ms(0)).ok());
    } else {
      MESSAGE("netem unavailable here: " << delay.ToString());
    }
    // Losing the host: every process in it dies at once.
    REQUIRE(bed.KillHost(0).ok());
    int status = 0;
    CHECK(node.WaitExit(std::chrono::seconds(5), &status));
    CHECK(WIFSIGNALED(status));
    made = Status::Unavailable("destroyed");  // the bed goes away here
  }
  CommandResult list = RunCommand({"/usr/bin/ip", "netns", "list"});
  CHECK(list.output.find(prefix + "-") == std::string::npos);
}

}  // namespace
}  // namespace halo::testing
