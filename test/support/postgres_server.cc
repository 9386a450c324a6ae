#include "test/support/postgres_server.h"

#include <doctest/doctest.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace halo::testing {
namespace {

using namespace std::chrono_literals;

const std::string kPgBin = "/usr/lib/postgresql/15/bin";
const std::string kPsql = "/usr/bin/psql";
const std::string kSetpriv = "/usr/bin/setpriv";
const std::string kTimeout = "/usr/bin/timeout";
const char kOsUser[] = "postgres";

constexpr auto kStartTimeout = 30s;
constexpr auto kStopTimeout = 30s;
constexpr auto kOrphanTimeout = 10s;
constexpr int kInitDbSeconds = 120;
constexpr int kPsqlSeconds = 30;

bool Root() { return ::geteuid() == 0; }

// argv run as the postgres OS user when we are root (setpriv execs in place), else as is.
std::vector<std::string> AsServerUser(std::vector<std::string> argv) {
  if (!Root()) return argv;
  std::vector<std::string> out = {kSetpriv, std::string("--reuid=") + kOsUser,
                                  std::string("--regid=") + kOsUser, "--init-groups", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::vector<std::string> Bounded(int seconds, std::vector<std::string> argv) {
  std::vector<std::string> out = {kTimeout, "-k", "5", std::to_string(seconds)};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

void TrimNewlines(std::string* s) {
  while (!s->empty() && (s->back() == '\n' || s->back() == '\r')) s->pop_back();
}

// The state letter of /proc/<pid>/stat ('R', 'S', 'T', 'Z', ...), or 0 if there is none.
char ProcState(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return 0;
  return stat[paren + 2];
}

// Every live process whose working directory is `data` other than `except`: the
// postmaster's children (postgres chdirs into its data directory before it forks), whoever
// their parent is now.
std::vector<pid_t> ProcessesIn(const std::filesystem::path& data, pid_t except) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    if (pid == except) continue;
    std::error_code lec;
    std::filesystem::path cwd = std::filesystem::read_symlink(entry.path() / "cwd", lec);
    if (lec || cwd != data) continue;
    char state = ProcState(pid);
    if (state == 0 || state == 'Z' || state == 'X') continue;
    out.push_back(pid);
  }
  return out;
}

}  // namespace

PostgresServer::PostgresServer() : port_(PickFreePort()) {}

PostgresServer::~PostgresServer() {
  quiet_ = true;
  Stop();
}

bool PostgresServer::Fail(const std::string& why) {
  error_ = "PostgresServer: " + why;
  if (!quiet_) FAIL_CHECK(error_);
  return false;
}

std::string PostgresServer::connection_url() const {
  return "postgres://postgres@127.0.0.1:" + std::to_string(port_) + "/halo?sslmode=disable";
}

std::string PostgresServer::LogTail() const {
  std::ifstream in(log_path());
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  TrimNewlines(&all);
  size_t from = all.size();
  for (int lines = 0; lines < 10 && from > 0; ++lines) {
    size_t nl = all.rfind('\n', from - 1);
    from = nl == std::string::npos ? 0 : nl;
  }
  return all.empty() ? "(" + log_path() + " is empty)"
                     : log_path() + " ends:\n" + all.substr(from == 0 ? 0 : from + 1);
}

bool PostgresServer::InitDb() {
  std::error_code ec;
  if (std::filesystem::exists(dir_.Join("data/PG_VERSION"), ec)) return true;
  CommandResult r = RunCommand(Bounded(
      kInitDbSeconds,
      AsServerUser({kPgBin + "/initdb", "-D", dir_.Join("data"), "-A", "trust", "-U", "postgres",
                    "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"})));
  if (r.status != 0) {
    return Fail("initdb failed (exit " + std::to_string(r.status) + "):\n" + r.output);
  }
  return true;
}

bool PostgresServer::Start() {
  error_.clear();
  if (running_ && proc_.Running()) return true;
  if (running_) {  // it died on its own: let what it forked go first
    running_ = false;
    if (!AwaitOrphans()) return false;
  }
  for (const std::string& bin : {kPgBin + "/initdb", kPgBin + "/postgres", kPsql}) {
    if (::access(bin.c_str(), X_OK) != 0) {
      return Fail("PostgreSQL 15 is not installed: no " + bin +
                  " (scripts/deps installs the Debian packages postgresql and libpq-dev)");
    }
  }
  if (dir_.path().empty()) return Fail("could not make a temporary directory under /tmp");
  if (port_ <= 0) return Fail("no free loopback port");
  if (Root()) {
    if (::access(kSetpriv.c_str(), X_OK) != 0) {
      return Fail("running as root needs " + kSetpriv + " (util-linux) to run postgres as " +
                  kOsUser);
    }
    struct passwd* pw = ::getpwnam(kOsUser);
    if (pw == nullptr) {
      return Fail(std::string("running as root and there is no OS user ") + kOsUser +
                  " to run initdb and postgres as (the Debian package postgresql creates it)");
    }
    // mkdtemp made it 0700 root: hand it to the postgres user (/tmp itself is world-searchable).
    if (::chown(dir_.path().c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return Fail("could not chown " + dir_.path() + " to " + kOsUser);
    }
  }
  if (!InitDb()) return false;

  std::vector<std::string> argv = AsServerUser(
      {kPgBin + "/postgres", "-D", dir_.Join("data"), "-p", std::to_string(port_), "-c",
       "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + dir_.path(), "-c",
       "fsync=on", "-c", "synchronous_commit=on", "-c", "full_page_writes=on", "-c",
       "logging_collector=off", "-c", "log_destination=stderr"});
  proc_ = Subprocess::Start(argv, {}, log_path());
  if (!proc_.started()) return Fail("could not start " + argv[0]);
  paused_ = false;
  bool exited = false;
  bool up = PollUntil(
      [&] {
        if (!proc_.Running()) {
          exited = true;
          return true;
        }
        CommandResult r = Psql("postgres", "SELECT 1");
        return r.status == 0 && r.output == "1";
      },
      kStartTimeout, 50ms);
  if (exited) return Fail("postgres exited during start-up; " + LogTail());
  if (!up) {
    proc_.Stop(SIGKILL);
    AwaitOrphans();
    return Fail("postgres did not answer SELECT 1 on 127.0.0.1:" + std::to_string(port_) +
                " within 30 s; " + LogTail());
  }
  running_ = true;
  CommandResult has = Psql("postgres", "SELECT 1 FROM pg_database WHERE datname = 'halo'");
  if (has.status != 0) return Fail("psql failed: " + has.output);
  if (has.output != "1") {
    CommandResult made = Psql("postgres", "CREATE DATABASE halo");
    if (made.status != 0) return Fail("CREATE DATABASE halo failed: " + made.output);
  }
  return true;
}

bool PostgresServer::AwaitOrphans() {
  std::error_code ec;
  std::filesystem::path data = std::filesystem::canonical(dir_.Join("data"), ec);
  if (ec) return true;
  pid_t self = proc_.pid();
  auto none_left = [&] { return ProcessesIn(data, self).empty(); };
  if (PollUntil(none_left, kOrphanTimeout, 10ms)) return true;
  for (pid_t p : ProcessesIn(data, self)) ::kill(p, SIGKILL);
  if (PollUntil(none_left, 5s, 10ms)) return true;
  return Fail("processes of the old server are still running in " + data.string());
}

bool PostgresServer::Stop() {
  error_.clear();
  if (!running_) return true;
  running_ = false;
  if (paused_) Resume();
  if (!proc_.Running()) return AwaitOrphans();
  int st = proc_.Stop(SIGINT, kStopTimeout);
  bool orphans_gone = AwaitOrphans();
  if (st == -1) return Fail("postgres did not shut down within 30 s (SIGKILLed); " + LogTail());
  return orphans_gone;
}

bool PostgresServer::Kill() {
  error_.clear();
  if (!running_) return true;
  running_ = false;
  proc_.Stop(SIGKILL);
  if (paused_) {
    // Stopped children cannot notice that the postmaster died.
    std::error_code ec;
    std::filesystem::path data = std::filesystem::canonical(dir_.Join("data"), ec);
    if (!ec) {
      for (pid_t p : ProcessesIn(data, proc_.pid())) ::kill(p, SIGCONT);
    }
    paused_ = false;
  }
  return AwaitOrphans();
}

bool PostgresServer::Restart() { return Stop() && Start(); }

bool PostgresServer::Pause() {
  error_.clear();
  if (!running_ || !proc_.Running()) return Fail("Pause: the server is not running");
  if (paused_) return true;
  // The postmaster first, so that it forks nothing once its children have been listed.
  proc_.Signal(SIGSTOP);
  if (!PollUntil([&] { return ProcState(proc_.pid()) == 'T'; }, 5s)) {
    proc_.Signal(SIGCONT);
    return Fail("Pause: the postmaster did not stop");
  }
  std::error_code ec;
  std::filesystem::path data = std::filesystem::canonical(dir_.Join("data"), ec);
  if (!ec) {
    for (pid_t p : ProcessesIn(data, proc_.pid())) ::kill(p, SIGSTOP);
  }
  paused_ = true;
  return true;
}

bool PostgresServer::Resume() {
  error_.clear();
  if (!paused_) return true;
  paused_ = false;
  std::error_code ec;
  std::filesystem::path data = std::filesystem::canonical(dir_.Join("data"), ec);
  if (!ec) {
    for (pid_t p : ProcessesIn(data, proc_.pid())) ::kill(p, SIGCONT);
  }
  proc_.Signal(SIGCONT);
  return true;
}

CommandResult PostgresServer::Psql(const std::string& dbname, const std::string& sql) const {
  // connect_timeout bounds the connection; client_min_messages keeps notices out of output.
  std::string url = "postgres://postgres@127.0.0.1:" + std::to_string(port_) + "/" + dbname +
                    "?sslmode=disable&connect_timeout=5&application_name=halo-test" +
                    "&options=-c%20client_min_messages%3Dwarning";
  CommandResult r = RunCommand(Bounded(kPsqlSeconds, {kPsql, "-X", "-A", "-t", "-q", "-v",
                                                      "ON_ERROR_STOP=1", "-d", url, "-c", sql}));
  TrimNewlines(&r.output);
  return r;
}

CommandResult PostgresServer::Sql(const std::string& sql) const { return Psql("halo", sql); }

PostgresServer& SharedPostgresServer() {
  static PostgresServer server;
  static bool started = server.Start();
  REQUIRE_MESSAGE(started, "the shared PostgreSQL server did not start: " << server.error());
  return server;
}

}  // namespace halo::testing
