// PostgresServer: a private PostgreSQL 15 server for one test (/usr/lib/postgresql/15/bin),
// its cluster in a temporary directory: initdb (-A trust, superuser "postgres") on the first
// Start(), then `postgres` listening on 127.0.0.1 only, on a port picked at run time, with
// its unix socket and its log (postgres.log) in the same directory, fsync on. Start()
// creates the database "halo" the backends use (connection_url()). The destructor stops the
// server and removes the directory (kept with HALO_KEEP_TMP).
//
// Root: initdb and postgres refuse to run as root, so when the test runs as root they run
// as the `postgres` OS user through `setpriv --reuid postgres --regid postgres
// --init-groups` (which execs in place: pid() is the postmaster's), and the directory is
// handed to that user. As another user they run as that user.
//
// Failures: every method that returns bool returns false with the reason in error(), and
// reports that reason to doctest as a failed check (FAIL_CHECK), so `REQUIRE(pg.Start())`
// says why (PostgreSQL not installed, initdb's output, the tail of postgres.log). Every wait
// is bounded (initdb 120 s, start-up 30 s, shutdown 30 s, one psql 30 s); nothing sleeps
// bare. One thread at a time.
#pragma once

#include <sys/types.h>

#include <string>

#include "test/support/subprocess.h"
#include "test/support/testbed.h"

namespace halo::testing {

class PostgresServer {
 public:
  PostgresServer();
  // Stops the server (fast shutdown; SIGKILL if it does not exit in time) without reporting
  // a failure; the TempDir member then removes the cluster.
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Runs initdb the first time, then starts postgres on the same port and directory as
  // before and waits until `SELECT 1` answers over TCP; the first time, or if it is
  // missing, creates the database "halo". Fails when PostgreSQL is not installed (run
  // scripts/deps), when initdb fails, or when the server exits or does not answer in 30 s.
  // A no-op (true) while the server is running.
  bool Start();
  // A clean stop: SIGINT (PostgreSQL's fast shutdown: backends are ended, a checkpoint is
  // written) and a wait for the postmaster to exit. False (after SIGKILL) if it takes longer
  // than 30 s. True if not running.
  bool Stop();
  // A crash: SIGKILL of the postmaster, then a wait until the processes it had forked are
  // gone (they exit when they see it die; any left after 10 s are SIGKILLed), so that a
  // following Start() finds no shared memory in use. Committed transactions survive (fsync
  // on); Start() then runs crash recovery. True if not running.
  bool Kill();
  // Stop() then Start(), on the same port and data.
  bool Restart();
  // A hung server: SIGSTOP to the postmaster and then to every process it forked, so that
  // connections stay open but nothing answers and no new connection is accepted. Resume()
  // sends SIGCONT the other way round. Stop() and Kill() resume a paused server first.
  bool Pause();
  bool Resume();

  // True between a successful Start() and Stop() / Kill(), while the postmaster lives.
  bool running() { return running_ && proc_.Running(); }
  int port() const { return port_; }
  // The postmaster's pid; -1 before Start() and after Stop() / Kill().
  pid_t pid() const { return proc_.started() && running_ ? proc_.pid() : -1; }
  // "postgres://postgres@127.0.0.1:<port>/halo?sslmode=disable": what the backends' and the
  // nodes' `connection_url` should be.
  std::string connection_url() const;
  // The temporary directory: data/ (the cluster), postgres.log, the unix socket.
  const std::string& dir() const { return dir_.path(); }
  std::string log_path() const { return dir_.Join("postgres.log"); }
  // Why the last failed method failed.
  const std::string& error() const { return error_; }

  // Runs `sql` (one or more statements; they run as one transaction) with
  // `psql -X -A -t -q -v ON_ERROR_STOP=1 -c sql` against the database "halo" over TCP, as
  // the superuser. status: psql's exit status (0: success; 124: it took longer than 30 s);
  // output: what it printed, stdout and stderr merged (rows one a line, columns separated
  // by '|'; the error on failure), trailing newlines removed. Notices are not printed.
  CommandResult Sql(const std::string& sql) const;

 private:
  bool Fail(const std::string& why);
  bool InitDb();
  // After the postmaster exited: waits until the processes it forked are gone.
  bool AwaitOrphans();
  // psql against `dbname` with a connect timeout, bounded by /usr/bin/timeout.
  CommandResult Psql(const std::string& dbname, const std::string& sql) const;
  std::string LogTail() const;

  TempDir dir_{"halo-pg"};
  int port_;
  Subprocess proc_;
  bool running_ = false;
  bool paused_ = false;
  bool quiet_ = false;  // the destructor: failures are not reported to doctest
  std::string error_;
};

// One server for the whole test run (started on first use), for suites that give each case
// its own tables (the storage and lock conformance suites).
PostgresServer& SharedPostgresServer();

}  // namespace halo::testing
