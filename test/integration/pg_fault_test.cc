// The PostgreSQL fault matrix on the test bed (test/support/testbed.h): a PostgreSQL 15 server
// on host 0 (fsync on, listening on the bed's address only), three nodes on hosts 1-3 (storage
// and HA lock in that server: storage/postgresql_backend.h, lock/postgresql_lock_backend.h),
// the router on host 4 with the load's clients, steady writes through the router. Each row
// injects one fault and reports the write gap, client errors, acknowledged writes lost, and
// "two writers seen": commits whose epoch is older than one committed before them. That is
// measured in the database itself: a trigger on the data table records, for every row a
// transaction writes, the epoch it reads from <table>_halo_epoch. The backend holds that row
// FOR SHARE (and raises it, for a new term) inside the same transaction, so what the trigger
// reads is the commit's epoch; an aborted transaction takes its audit rows with it. make test
// runs these with a 5 s lock TTL, as the Redis matrix does.
#include <doctest/doctest.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
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

using halo::testing::CommandResult;
using halo::testing::PollUntil;
using halo::testing::RunCommand;
using halo::testing::Subprocess;
using halo::testing::Testbed;
using namespace std::chrono_literals;

constexpr int kPgHost = 0;
constexpr int kRouterHost = 4;
constexpr int kPort = 8200;
constexpr int kAdminPort = 8201;
constexpr int kPgPort = 5432;
const std::string kPgBin = "/usr/lib/postgresql/15/bin";
const std::string kPsql = "/usr/bin/psql";
const std::string kTimeout = "/usr/bin/timeout";
const char kPgUser[] = "postgres";
constexpr int kPsqlSeconds = 30;

// initdb and postgres refuse to run as root: as the postgres OS user (setpriv execs in place,
// so a Subprocess's pid is the postmaster's).
std::vector<std::string> AsPgUser(std::vector<std::string> argv) {
  if (::geteuid() != 0) return argv;
  std::vector<std::string> out = {"/usr/bin/setpriv", std::string("--reuid=") + kPgUser,
                                  std::string("--regid=") + kPgUser, "--init-groups", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

class PgBed {
 public:
  bool Start() {
    Result<std::unique_ptr<Testbed>> made = Testbed::Create(5);
    if (!made.ok()) {
      MESSAGE("skipped: " << made.status().ToString());
      return false;
    }
    bed_ = std::move(made).value();
    InitDb();
    StartPostgres();
    CommandResult db = Psql("postgres", "CREATE DATABASE halo");
    REQUIRE_MESSAGE(db.status == 0, "CREATE DATABASE halo: " << db.output);
    // Node 1 first, until its tables are there: nodes that create them at the same moment
    // can fail on CREATE TABLE IF NOT EXISTS (42P07, see the closing note).
    StartNode(1);
    bool tables = PollUntil(
        [&] {
          return Sql("SELECT to_regclass('openbao_kv_store') IS NOT NULL AND "
                     "to_regclass('openbao_kv_store_halo_epoch') IS NOT NULL AND "
                     "to_regclass('openbao_ha_locks') IS NOT NULL AND "
                     "to_regclass('openbao_ha_locks_halo_epoch') IS NOT NULL")
                     .output == "t";
        },
        20s, 50ms);
    REQUIRE_MESSAGE(tables, "node1 did not create its tables\n" << Logs());
    for (int n = 2; n <= 3; ++n) StartNode(n);
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

  // The cluster in pgdir_/data, owned by the postgres OS user; pg_hba lets the bed in.
  void InitDb() {
    for (const std::string& bin : {kPgBin + "/initdb", kPgBin + "/postgres", kPsql}) {
      REQUIRE_MESSAGE(::access(bin.c_str(), X_OK) == 0,
                      "PostgreSQL 15 is not installed: no " << bin << " (run scripts/deps)");
    }
    struct passwd* pw = ::getpwnam(kPgUser);
    REQUIRE_MESSAGE(pw != nullptr, "no OS user " << kPgUser << " to run postgres as");
    REQUIRE(::chown(pgdir_.path().c_str(), pw->pw_uid, pw->pw_gid) == 0);
    CommandResult r = RunCommand(
        AsPgUser({kTimeout, "-k", "5", "120", kPgBin + "/initdb", "-D", DataDir(), "-A", "trust",
                  "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"}));
    REQUIRE_MESSAGE(r.status == 0, "initdb failed: " << r.output);
    std::ofstream hba(DataDir() + "/pg_hba.conf", std::ios::app);
    hba << "host all all 198.18.0.0/24 trust\n";
    hba.close();
    REQUIRE(hba.good());
  }

  // postgres in host 0 on the bed's address (again on the same data after a crash or stop:
  // crash recovery replays what was committed).
  void StartPostgres() {
    std::vector<std::string> argv = AsPgUser({kPgBin + "/postgres",
                                              "-D",
                                              DataDir(),
                                              "-p",
                                              std::to_string(kPgPort),
                                              "-c",
                                              "listen_addresses=" + bed_->address(kPgHost),
                                              "-c",
                                              "unix_socket_directories=" + pgdir_.path(),
                                              "-c",
                                              "fsync=on",
                                              "-c",
                                              "synchronous_commit=on",
                                              "-c",
                                              "full_page_writes=on",
                                              "-c",
                                              "logging_collector=off",
                                              "-c",
                                              "log_destination=stderr",
                                              "-c",
                                              "log_line_prefix=%m [%p] %h "});
    pg_ = bed_->Start(kPgHost, argv, {}, PgLog());
    REQUIRE(pg_.started());
    bool exited = false;
    bool up = PollUntil(
        [&] {
          if (!pg_.Running()) {
            exited = true;
            return true;
          }
          CommandResult r = Psql("postgres", "SELECT 1");
          return r.status == 0 && r.output == "1";
        },
        30s, 50ms);
    REQUIRE_MESSAGE((up && !exited), "postgres on the test bed did not come up\n" << Logs());
  }

  // A crash of the server: SIGKILL of the postmaster; its backends notice it died and exit
  // (any left after 10 s are killed with the host's other processes), so that the next
  // start finds no shared memory in use.
  void CrashPostgres() {
    pg_.Signal(SIGKILL);
    REQUIRE(pg_.WaitExit(10s));
    (void)PollUntil([&] { return PidsIn(kPgHost).empty(); }, 10s, 20ms);
    REQUIRE(bed_->KillHost(kPgHost).ok());
  }

  std::vector<std::string> PidsIn(int host) {
    std::istringstream in(RunCommand({"/usr/bin/ip", "netns", "pids", bed_->netns(host)}).output);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) out.push_back(line);
    }
    return out;
  }

  void StartNode(int n) {
    // Storage statements time out after 2 s. The lock block's op_timeout is also the
    // elector's, and the elector wants ttl >= renew_deadline + 2 x op_timeout: 1 s there (as
    // the Redis matrix), which is the lock's statement_timeout too.
    std::string pg = R"({"connection_url":"postgres://postgres@)" + bed_->address(kPgHost) + ":" +
                     std::to_string(kPgPort) +
                     R"(/halo?sslmode=disable","keepalive_idle":"1s",)"
                     R"("keepalive_interval":"1s","keepalive_count":2)";
    nodes_[n] = StartBedNode(
        *bed_, n, n, kPort, dir_,
        R"("storage":{"postgresql":)" + pg + R"(,"op_timeout":"2s"}},"ha_storage":{"postgresql":)" +
            pg +
            R"(,"op_timeout":"1s","ttl":"5s","renew_interval":"1s","renew_deadline":"3s",)"
            R"("retry_interval":"250ms"}})",
        "fm");
    REQUIRE(nodes_[n].started());
  }

  // psql inside host 0 against `db` over TCP, as the superuser; bounded (status 124: it took
  // longer than 30 s). Output trimmed; rows one a line, columns separated by '|'.
  CommandResult Psql(const std::string& db, const std::string& sql) {
    CommandResult r = RunCommand(PsqlArgv(db, sql, kPsqlSeconds));
    r.output = Trimmed(r.output);
    return r;
  }
  CommandResult Sql(const std::string& sql) { return Psql("halo", sql); }

  std::vector<std::string> PsqlArgv(const std::string& db, const std::string& sql, int seconds) {
    std::string url = "postgres://postgres@" + bed_->address(kPgHost) + ":" +
                      std::to_string(kPgPort) + "/" + db +
                      "?sslmode=disable&connect_timeout=5&application_name=halo-fault-test"
                      "&options=-c%20client_min_messages%3Dwarning";
    return {"/usr/bin/ip",
            "netns",
            "exec",
            bed_->netns(kPgHost),
            kTimeout,
            "-k",
            "5",
            std::to_string(seconds),
            kPsql,
            "-X",
            "-A",
            "-t",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql};
  }

  // A psql session in host 0 running `sql` in the background (its output in `log`).
  Subprocess StartPsql(const std::string& sql, const std::string& log) {
    std::vector<std::string> argv = PsqlArgv("halo", sql, kPsqlSeconds);
    argv.erase(argv.begin(), argv.begin() + 4);  // Testbed::Start enters the namespace
    return bed_->Start(kPgHost, argv, {}, dir_.Join(log));
  }

  // The audit of every row written: (seq, the epoch the writing transaction read, its
  // backend pid and client address). See the file comment.
  void CreateAudit() {
    CommandResult r = Sql(R"(
      CREATE TABLE halo_fault_audit (seq bigserial PRIMARY KEY, epoch bigint NOT NULL,
                                     backend int NOT NULL, client inet,
                                     at timestamptz NOT NULL DEFAULT clock_timestamp());
      CREATE FUNCTION halo_fault_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO halo_fault_audit (epoch, backend, client)
          SELECT epoch, pg_backend_pid(), inet_client_addr()
          FROM openbao_kv_store_halo_epoch WHERE id = 1;
        RETURN NULL;
      END $$;
      CREATE TRIGGER halo_fault_audit AFTER INSERT OR UPDATE OR DELETE ON openbao_kv_store
        FOR EACH ROW EXECUTE FUNCTION halo_fault_audit();)");
    REQUIRE_MESSAGE(r.status == 0, "the audit trigger: " << r.output);
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

  // The last lines of every log, for a failure's message.
  std::string Logs() {
    std::string out;
    for (const std::string& path :
         {PgLog(), dir_.Join("locker.log"), dir_.Join("node1.log"), dir_.Join("node2.log"),
          dir_.Join("node3.log"), dir_.Join("router.log")}) {
      CommandResult r = RunCommand({"/usr/bin/tail", "-n", "12", path});
      out += "--- " + path + "\n" + r.output;
    }
    return out;
  }

  std::string DataDir() const { return pgdir_.Join("data"); }
  std::string PgLog() const { return dir_.Join("postgres.log"); }
  Testbed& bed() { return *bed_; }
  Subprocess& node(int n) { return nodes_[n]; }
  halo::testing::TempDir& dir() { return dir_; }

 private:
  halo::testing::TempDir dir_{"halo-pg-bed"};
  halo::testing::TempDir pgdir_{"halo-pg-bed-data"};  // handed to the postgres OS user
  std::unique_ptr<Testbed> bed_;
  Subprocess pg_;
  Subprocess nodes_[4];
  Subprocess router_;
};

int NodeIndex(const std::string& name) { return name.empty() ? 0 : name.back() - '0'; }

struct RowResult {
  LoadReport report;
  int lost = -1;
  std::string old_active, new_active;
  int stale_refused = 0;
  int unreadable = 0;  // acknowledged writes whose read back kept failing (not 200/404)
  std::string first_unreadable;
  int two_writers = -1;       // audited commits older than one committed before them
  int lock_epoch = 0;         // the HA lock's epoch at the end (1: no hand-over)
  bool resumed_after = true;  // the lock row: writes resumed once the lock was released
  std::string logs;           // the tail of every log, for a failing check's message
};

enum class Fault {
  kSigkillActive,
  kPartitionActive,
  kSigstopActive,
  kRestartPostgres,
  kTerminateActiveSessions,
  kTableLockStall,
};

int CountInLog(const std::string& path, const std::string& what) {
  CommandResult r = RunCommand({"/usr/bin/grep", "-c", what, path});
  return std::atoi(r.output.c_str());
}

std::string TermEnds(const std::string& path) {
  CommandResult r = RunCommand({"/usr/bin/grep", "-E", "term [0-9]+ ended|acquired", path});
  return Trimmed(r.output);
}

RowResult RunRow(Fault fault) {
  RowResult out;
  PgBed bed;
  if (!bed.Start()) return out;
  std::string active = bed.WaitActive(3, 30s);
  REQUIRE_MESSAGE(!active.empty(), "no active behind the router on the test bed\n" << bed.Logs());
  bed.CreateAudit();
  for (int i = 0; i < 20; ++i) {
    auto r = bed.Call("PUT", "/v1/secret/data/seed/" + std::to_string(i), R"({"data":{"v":"s"}})");
    REQUIRE_MESSAGE((r && r->status == 200), "seed write " << i << "\n" << bed.Logs());
  }
  std::unique_ptr<FailoverLoad> load = bed.StartLoad();
  REQUIRE(PollUntil([&] { return load->writes_acked() >= 50; }, 20s));
  int victim = NodeIndex(active);
  out.old_active = active;
  Subprocess locker;
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
    case Fault::kRestartPostgres:
      bed.CrashPostgres();
      bed.StartPostgres();
      MESSAGE("postgres down and back (crash recovery) in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - event)
                     .count()
              << " ms");
      break;
    case Fault::kTerminateActiveSessions: {
      CommandResult r = bed.Sql(
          "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE client_addr = '" +
          bed.bed().address(victim) + "'");
      REQUIRE_MESSAGE(r.status == 0, r.output);
      MESSAGE("sessions of the active ended: " << r.output);
      break;
    }
    case Fault::kTableLockStall:
      locker = bed.StartPsql(
          "BEGIN; LOCK TABLE openbao_kv_store IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(8); "
          "COMMIT;",
          "locker.log");
      REQUIRE(locker.started());
      break;
  }
  if (fault == Fault::kTableLockStall) {
    bool granted = PollUntil(
        [&] {
          return bed.Sql(
                        "SELECT count(*) FROM pg_locks WHERE relation = "
                        "'openbao_kv_store'::regclass AND mode = 'AccessExclusiveLock' AND "
                        "granted")
                     .output == "1";
        },
        5s, 20ms);
    CHECK_MESSAGE(granted, "the table lock was not granted\n" << bed.Logs());
  }
  // Writes resume: 100 more acknowledged after the fault.
  size_t before = load->writes_acked();
  bool resumed = PollUntil([&] { return load->writes_acked() >= before + 100; }, 40s, 20ms);
  if (!resumed) {
    // What holds them up: the sessions in a transaction, and who waits for whom.
    MESSAGE("sessions in a transaction:\n"
            << bed.Sql("SELECT pid, client_addr, state, now() - xact_start, wait_event_type, "
                       "pg_blocking_pids(pid), left(query, 80) FROM pg_stat_activity WHERE "
                       "xact_start IS NOT NULL AND pid <> pg_backend_pid()")
                   .output);
  }
  CHECK_MESSAGE(resumed, "writes did not resume after the fault\n" << bed.Logs());
  if (fault == Fault::kSigstopActive) {
    // Hold the stopped node 20 s in all (it is now far past its term), then let it run.
    auto until = event + 20s;
    (void)PollUntil([&] { return std::chrono::steady_clock::now() >= until; }, 25s, 100ms);
    bed.node(victim).Signal(SIGCONT);
    size_t at = load->writes_acked();
    CHECK(PollUntil([&] { return load->writes_acked() >= at + 100; }, 20s, 20ms));
  }
  if (fault == Fault::kPartitionActive) REQUIRE(bed.bed().Heal(victim).ok());
  if (fault == Fault::kTableLockStall) {
    int st = 0;
    bool ended = locker.WaitExit(20s, &st);
    CHECK_MESSAGE(ended, "the locking session did not end");
    auto released = std::chrono::steady_clock::now();
    MESSAGE("table lock held "
            << std::chrono::duration_cast<std::chrono::milliseconds>(released - event).count()
            << " ms (psql exit status " << st << ")");
    size_t at = load->writes_acked();
    out.resumed_after = PollUntil([&] { return load->writes_acked() >= at + 100; }, 20s, 20ms);
  }
  load->Stop();
  out.new_active = bed.WaitActive(1, 20s);
  // Every acknowledged write read back through the router. A read that fails (no answer,
  // 5xx: a node's connections may still be in their reconnect back-off) is tried again for
  // up to 1 s: one that still fails counts as unreadable; a 404 or another value as lost.
  out.lost = 0;
  for (const AckedWrite& a : load->acked()) {
    std::optional<http::Response> r;
    (void)PollUntil(
        [&] {
          r = bed.Call("GET", "/v1/secret/data/" + a.key);
          return r && r->status < 500;
        },
        1s, 100ms);
    if (r && (r->status == 200 || r->status == 404)) {
      if (r->status == 404 || KvField(*r, "v") != a.value) ++out.lost;
    } else {
      ++out.unreadable;
      if (out.first_unreadable.empty()) {
        out.first_unreadable =
            a.key + ": " +
            (r ? std::to_string(r->status) + " " + r->body : std::string("no answer"));
      }
    }
  }
  out.report = AnalyseLoad(load->ops(), event);
  const std::string victim_log = bed.dir().Join("node" + std::to_string(victim) + ".log");
  // A former active's late writes are refused by the fence in its own transaction
  // (StaleEpoch: "stale fencing epoch"), which the node logs as below.
  out.stale_refused = CountInLog(victim_log, "refused for a stale fencing epoch");
  CommandResult audit = bed.Sql(
      "SELECT count(*), count(*) FILTER (WHERE epoch < prev), coalesce(max(epoch), 0), "
      "count(DISTINCT epoch) FROM (SELECT epoch, max(epoch) OVER (ORDER BY seq ROWS BETWEEN "
      "UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev FROM halo_fault_audit) a");
  REQUIRE_MESSAGE(audit.status == 0, "the audit query: " << audit.output << "\n" << bed.Logs());
  std::vector<std::string> cols;
  std::istringstream in(audit.output);
  for (std::string c; std::getline(in, c, '|');) cols.push_back(c);
  REQUIRE_MESSAGE(cols.size() == 4, "the audit query printed " << audit.output);
  out.two_writers = std::atoi(cols[1].c_str());
  MESSAGE("audit: " << cols[0] << " rows written, epochs " << cols[3] << " (newest " << cols[2]
                    << "), older than an earlier commit " << cols[1]);
  CommandResult epochs = bed.Sql(
      "SELECT (SELECT epoch FROM openbao_ha_locks_halo_epoch WHERE ha_key = 'core/lock'), "
      "(SELECT epoch FROM openbao_kv_store_halo_epoch WHERE id = 1)");
  MESSAGE("lock epoch|storage epoch " << epochs.output << ", the old active's writes refused "
                                      << out.stale_refused);
  out.lock_epoch = std::atoi(epochs.output.c_str());
  MESSAGE("the old active (" << active << ") terms:\n" << TermEnds(victim_log));
  out.logs = bed.Logs();
  return out;
}

void Report(const char* row, const RowResult& r) {
  MESSAGE(std::string(row) << ": " << DescribeLoad(r.report) << ", lost " << r.lost
                           << " (unreadable " << r.unreadable << "), two writers seen "
                           << r.two_writers << ", new active " << r.new_active);
  CHECK_MESSAGE(r.two_writers == 0, r.logs);
  CHECK_MESSAGE(r.lost == 0, r.logs);
  CHECK_MESSAGE(r.unreadable == 0,
                "acknowledged writes that cannot be read back: " << r.unreadable << ", the first "
                                                                 << r.first_unreadable << "\n"
                                                                 << r.logs);
}

TEST_CASE("postgresql fault matrix: SIGKILL of the active node -> writes resume, nothing lost") {
  RowResult r = RunRow(Fault::kSigkillActive);
  if (r.lost < 0) return;
  Report("SIGKILL active", r);
  // The dead process's session ends with its socket, and with it the advisory lock: a
  // standby takes over at once (the target is 1 s), well inside the 5 s TTL.
  CHECK(r.report.write_gap_ms < 3000);
}

TEST_CASE(
    "postgresql fault matrix: partition of the active's host -> new active within TTL + 2 s") {
  RowResult r = RunRow(Fault::kPartitionActive);
  if (r.lost < 0) return;
  Report("partition active", r);
  CHECK(r.report.write_gap_ms < 5000 + 2000 + 3000);  // TTL + 2 s, plus the client's timeout
}

TEST_CASE("postgresql fault matrix: SIGSTOP of the active for 20 s, then SIGCONT -> nothing lost") {
  RowResult r = RunRow(Fault::kSigstopActive);
  if (r.lost < 0) return;
  Report("SIGSTOP active 20 s", r);
}

TEST_CASE("postgresql fault matrix: PostgreSQL crash (SIGKILL) and restart -> nothing lost") {
  RowResult r = RunRow(Fault::kRestartPostgres);
  if (r.lost < 0) return;
  Report("postgresql crash + restart", r);
}

TEST_CASE("postgresql fault matrix: pg_terminate_backend of the active's sessions") {
  RowResult r = RunRow(Fault::kTerminateActiveSessions);
  if (r.lost < 0) return;
  Report("active's sessions terminated", r);
}

TEST_CASE(
    "postgresql fault matrix: writes stalled behind a table lock for 8 s -> nothing lost, "
    "writes resume") {
  RowResult r = RunRow(Fault::kTableLockStall);
  if (r.lost < 0) return;
  Report("table lock held 8 s", r);
  CHECK_MESSAGE(r.resumed_after, "writes did not resume after the lock was released");
  // Commits that time out count as no progress for the liveness watchdog: the active ends
  // its term (self-fences) rather than hold it with writes that cannot commit.
  CHECK(r.lock_epoch > 1);
}

}  // namespace
}  // namespace halo::router::testing

// Figures (5 s TTL; one run of all six rows takes about 60 s): SIGKILL of the active, write
// gap 25-100 ms (the session's end frees the advisory lock at once); partition, about 3-5 s
// (the lease's TTL, or the old holder's self-fence at renew_deadline); SIGSTOP 20 s, about
// 5 s (idle_in_transaction_session_timeout ends the stopped writer's transaction, which held
// the epoch row FOR SHARE); PostgreSQL crash and restart, about 300 ms; pg_terminate_backend
// of the active's sessions, under 100 ms; a table lock held 8 s, 8 s (the active ends its
// term when its commits keep timing out; writes resume once the lock is gone).
