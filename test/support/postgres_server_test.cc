// The PostgreSQL test server itself (test/support/postgres_server.h): it starts, answers SQL
// on the database "halo", listens on 127.0.0.1 only, runs with fsync on, keeps a committed
// row across a SIGKILL of the postmaster and across a clean restart, pauses and resumes,
// and leaves no process behind.
#include "test/support/postgres_server.h"

#include <doctest/doctest.h>
#include <sys/types.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace halo::testing {
namespace {

using namespace std::chrono_literals;

// The local addresses (hex, as the kernel prints them) of the TCP sockets listening on
// `port`, from /proc/net/tcp and /proc/net/tcp6.
std::vector<std::string> ListeningAddresses(int port) {
  std::vector<std::string> out;
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      fields >> slot >> local >> remote >> state;
      size_t colon = local.rfind(':');
      if (colon == std::string::npos || state != "0A") continue;  // 0A: TCP_LISTEN
      if (std::stoi(local.substr(colon + 1), nullptr, 16) != port) continue;
      out.push_back(local.substr(0, colon));
    }
  }
  return out;
}

// The state letter of /proc/<pid>/stat ('S', 'T', 'Z', ...), 0 if there is no such process.
char ProcState(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() ? 0 : stat[paren + 2];
}

bool ProcessGone(pid_t pid) {
  char state = ProcState(pid);
  return state == 0 || state == 'Z' || state == 'X';
}

TEST_CASE("postgres_server: SQL on the halo database, 127.0.0.1 only, fsync on") {
  PostgresServer pg;
  REQUIRE(pg.Start());
  CHECK(pg.port() > 0);
  CHECK(pg.pid() > 0);
  CHECK(pg.connection_url() ==
        "postgres://postgres@127.0.0.1:" + std::to_string(pg.port()) + "/halo?sslmode=disable");

  CommandResult r = pg.Sql(
      "CREATE TABLE t(x int); INSERT INTO t VALUES (42), (7); "
      "SELECT x FROM t ORDER BY x");
  CHECK_MESSAGE(r.status == 0, r.output);
  CHECK(r.output == "7\n42");
  r = pg.Sql("SELECT current_database(), current_user");
  CHECK(r.output == "halo|postgres");
  CHECK(pg.Sql("SHOW fsync").output == "on");
  CHECK(pg.Sql("SHOW synchronous_commit").output == "on");

  // A failing statement: a non-zero status and the error in the output.
  r = pg.Sql("SELECT * FROM no_such_table");
  CHECK(r.status != 0);
  CHECK(r.output.find("no_such_table") != std::string::npos);

  // One listening socket on the port: 127.0.0.1 (7F000001, little-endian in /proc), no
  // wildcard and no IPv6.
  std::vector<std::string> listening = ListeningAddresses(pg.port());
  CHECK(listening == std::vector<std::string>{"0100007F"});
}

TEST_CASE("postgres_server: a committed row survives a SIGKILL of the postmaster and a restart") {
  PostgresServer pg;
  REQUIRE(pg.Start());
  int port = pg.port();
  REQUIRE(pg.Sql("CREATE TABLE t(x int); INSERT INTO t VALUES (1)").status == 0);
  pid_t first = pg.pid();

  // A crash: the postmaster SIGKILLed; its children go with it, nothing is left running.
  REQUIRE(pg.Kill());
  CHECK(pg.pid() == -1);
  CHECK(ProcessGone(first));
  CHECK(pg.Sql("SELECT 1").status != 0);
  CHECK(ListeningAddresses(port).empty());

  REQUIRE(pg.Start());  // crash recovery
  CHECK(pg.port() == port);
  CHECK(pg.pid() != first);
  CommandResult r = pg.Sql("SELECT x FROM t");
  CHECK_MESSAGE(r.status == 0, r.output);
  CHECK(r.output == "1");

  // A clean restart keeps it too, and what was written after the recovery.
  REQUIRE(pg.Sql("INSERT INTO t VALUES (2)").status == 0);
  REQUIRE(pg.Restart());
  CHECK(pg.Sql("SELECT x FROM t ORDER BY x").output == "1\n2");

  // Pause: the postmaster is stopped (state T) until Resume.
  REQUIRE(pg.Pause());
  CHECK(ProcState(pg.pid()) == 'T');
  REQUIRE(pg.Resume());
  CHECK(PollUntil([&] { return pg.Sql("SELECT 1").output == "1"; }, 10s, 20ms));

  pid_t last = pg.pid();
  REQUIRE(pg.Stop());
  CHECK(ProcessGone(last));
  CHECK(pg.pid() == -1);
  CHECK(ListeningAddresses(port).empty());
}

}  // namespace
}  // namespace halo::testing
