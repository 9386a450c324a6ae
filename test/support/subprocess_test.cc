#include "test/support/subprocess.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include <fstream>

namespace halo::testing {
namespace {

TEST_CASE("child:echo") {
  HALO_CHILD_ROLE_GUARD();
  std::ofstream(ChildArg(0)) << "hello " << ChildArg(1);
}

TEST_CASE("SpawnChildRole runs one role in a separate process") {
  TempDir dir;
  std::string out = dir.Join("out");
  Subprocess child = SpawnChildRole("echo", {out, "world"});
  REQUIRE(child.started());
  int st = 0;
  REQUIRE(child.WaitExit(std::chrono::seconds(20), &st));
  CHECK(WIFEXITED(st));
  CHECK(WEXITSTATUS(st) == 0);
  std::ifstream in(out);
  std::string line;
  std::getline(in, line);
  CHECK(line == "hello world");
}

TEST_CASE("Subprocess stop by signal") {
  Subprocess p = Subprocess::Start({"/bin/sleep", "30"});
  REQUIRE(p.started());
  CHECK(p.Running());
  int st = p.Stop(SIGTERM, std::chrono::seconds(5));
  CHECK(WIFSIGNALED(st));
  CHECK_FALSE(p.Running());
  CHECK(PickFreePort() > 0);
}

}  // namespace
}  // namespace halo::testing
