#include "lock/postgresql_lock_backend.h"

#include "common/logging.h"

namespace halo::lock {

using pg::PgParam;
using pg::PgResult;

namespace {

// OpenBao's lock key.
constexpr const char* kLockKey = "core/lock";
constexpr Duration kWaitPoll = milliseconds(50);
constexpr uint32_t kAdvisoryClass = 0x68616c6f;  // "halo"

std::string Ms(Duration d) {
  int64_t ms = std::chrono::duration_cast<milliseconds>(d).count();
  return std::to_string(ms < 1 ? 1 : ms);
}

// FNV-1a of the table and key, as a non-negative int4: the same on every node.
std::string AdvisoryKey(const std::string& table) {
  uint32_t h = 2166136261u;
  for (char c : table + "/" + kLockKey) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return std::to_string(h & 0x7fffffffu);
}

}  // namespace

PostgresLockBackend::PostgresLockBackend(const pg::PgOptions& options)
    : options_(options),
      table_(pg::QuoteIdent(options.ha_table)),
      epoch_table_(pg::QuoteIdent(options.ha_table + "_halo_epoch")),
      k1_(std::to_string(kAdvisoryClass & 0x7fffffffu)),
      k2_(AdvisoryKey(options.ha_table)),
      owner_(options, "ha_storage.postgresql"),
      reader_(options, "ha_storage.postgresql") {}

PostgresLockBackend::~PostgresLockBackend() = default;

Result<std::unique_ptr<PostgresLockBackend>> PostgresLockBackend::Open(
    const pg::PgOptions& options) {
  std::unique_ptr<PostgresLockBackend> b(new PostgresLockBackend(options));
  RETURN_IF_ERROR(b->CreateTables());
  return b;
}

Status PostgresLockBackend::CreateTables() {
  std::lock_guard<std::mutex> l(reader_mu_);
  if (!options_.skip_create_table) {
    const std::string ddl[] = {
        "CREATE TABLE IF NOT EXISTS " + table_ +
            " (ha_key TEXT COLLATE \"C\" NOT NULL, ha_identity TEXT COLLATE \"C\" NOT NULL, "
            "ha_value TEXT COLLATE \"C\", valid_until TIMESTAMP WITH TIME ZONE NOT NULL, "
            "CONSTRAINT " +
            pg::QuoteIdent(options_.ha_table + "_pkey") + " PRIMARY KEY (ha_key))",
        "CREATE TABLE IF NOT EXISTS " + epoch_table_ +
            " (ha_key TEXT COLLATE \"C\" PRIMARY KEY, epoch BIGINT NOT NULL)",
    };
    for (const std::string& sql : ddl) {
      Result<PgResult> r = reader_.ExecCreate(sql);
      if (!r.ok()) return r.status();
    }
  }
  Result<PgResult> check = reader_.Exec("SELECT count(*) FROM " + table_ + ", " + epoch_table_);
  if (!check.ok()) return Status::Unavailable(check.status().message());
  return Status::Ok();
}

Result<bool> PostgresLockBackend::TakeAdvisory() {
  if (advisory_pid_ != 0 && advisory_pid_ == owner_.backend_pid()) return true;
  advisory_pid_ = 0;  // a new session (or none): whatever the old one held is gone
  ASSIGN_OR_RETURN(PgResult r,
                   owner_.Exec("SELECT pg_try_advisory_lock($1::int4, $2::int4)", {{k1_}, {k2_}}));
  if (r.rows() != 1 || !r.Bool(0, 0)) return false;
  advisory_pid_ = owner_.backend_pid();
  return true;
}

void PostgresLockBackend::DropAdvisory() {
  if (advisory_pid_ == 0) return;
  if (advisory_pid_ == owner_.backend_pid()) {
    (void)owner_.Exec("SELECT pg_advisory_unlock($1::int4, $2::int4)", {{k1_}, {k2_}});
  }
  advisory_pid_ = 0;
}

bool PostgresLockBackend::EndExpiredHolder() {
  std::lock_guard<std::mutex> l(reader_mu_);
  Result<PgResult> r = reader_.Exec(
      "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND "
      "classid = $1::bigint AND objid = $2::bigint AND objsubid = 2 AND granted AND EXISTS "
      "(SELECT 1 FROM " +
          table_ + " WHERE ha_key = $3 AND valid_until < now())",
      {{k1_}, {k2_}, {kLockKey}});
  if (!r.ok() || r->rows() == 0) return false;
  LOG_WARN(
      "ha_storage.postgresql: the lock's lease expired while its holder's session lives "
      "on: ended that session");
  return true;
}

Result<Lease> PostgresLockBackend::AcquireOnce(const AcquireRequest& req) {
  ASSIGN_OR_RETURN(bool mine, TakeAdvisory());
  if (!mine && EndExpiredHolder()) {
    // The ended session lets go of the advisory lock as its process exits: moments.
    auto until = std::chrono::steady_clock::now() + options_.op_timeout;
    while (!mine && std::chrono::steady_clock::now() < until) {
      if (!gate_.Pause(milliseconds(10))) return Status::Unavailable("interrupted");
      ASSIGN_OR_RETURN(mine, TakeAdvisory());
    }
  }
  if (!mine) return Status::Conflict("the lock is held by another node");
  // No other session holds the advisory lock: a holder that is still alive holds it, so a
  // lease row left by another holder belongs to one whose session is gone. Take it over.
  std::string min_epoch = std::to_string(req.min_epoch);
  std::string ttl = Ms(req.ttl);
  auto fail = [&](const Status& s) {
    if (owner_.connected()) (void)owner_.Exec("ROLLBACK");  // also an aborted block
    DropAdvisory();
    return s;
  };
  Result<PgResult> begun = owner_.Exec("BEGIN");
  if (!begun.ok()) return fail(begun.status());
  Result<PgResult> epoch = owner_.Exec(
      "INSERT INTO " + epoch_table_ +
          " (ha_key, epoch) VALUES ($1, $2::bigint + 1) ON CONFLICT (ha_key) DO UPDATE SET "
          "epoch = GREATEST(" +
          epoch_table_ + ".epoch, $2::bigint) + 1 RETURNING epoch",
      {{kLockKey}, {min_epoch}});
  if (!epoch.ok() || epoch->rows() != 1) {
    return fail(epoch.ok() ? Status::IoError("ha_storage.postgresql: no epoch returned")
                           : epoch.status());
  }
  Result<PgResult> row = owner_.Exec(
      "INSERT INTO " + table_ +
          " (ha_key, ha_identity, ha_value, valid_until) VALUES ($1, $2, $3, now() + "
          "$4::bigint * interval '1 millisecond') ON CONFLICT (ha_key) DO UPDATE SET "
          "ha_identity = EXCLUDED.ha_identity, ha_value = EXCLUDED.ha_value, valid_until = "
          "EXCLUDED.valid_until",
      {{kLockKey}, {req.token}, {req.value}, {ttl}});
  if (!row.ok()) return fail(row.status());
  uint64_t granted = static_cast<uint64_t>(epoch->Int64(0, 0));
  Result<PgResult> commit = owner_.Exec("COMMIT");
  if (!commit.ok()) {
    // Unknown: the elector releases req.token (best effort), which drops the advisory lock.
    return commit.status();
  }
  return Lease{granted, req.token};
}

Result<Lease> PostgresLockBackend::TryAcquire(const AcquireRequest& req, Duration timeout) {
  (void)timeout;  // every statement is bounded by op_timeout
  RETURN_IF_ERROR(ValidateLockValue(req.value));
  return PollAcquire(
      [&] {
        std::lock_guard<std::mutex> l(owner_mu_);
        return AcquireOnce(req);
      },
      req.wait, kWaitPoll, gate_);
}

Status PostgresLockBackend::Renew(const Lease& lease, Duration ttl, Duration timeout) {
  (void)timeout;
  std::lock_guard<std::mutex> l(owner_mu_);
  // A new session (the old one broke) must win the advisory lock again first: if another
  // session holds it, another node may hold the lease.
  // A renewal is idempotent: once more on a fresh session if the first one broke.
  for (int attempt = 0;; ++attempt) {
    Result<bool> mine = TakeAdvisory();
    if (mine.ok() && !*mine) {
      return Status::Conflict("another session holds the lock's advisory lock");
    }
    Status failed = mine.status();
    int64_t affected = 0;
    if (mine.ok()) {
      Result<PgResult> r = owner_.Exec("UPDATE " + table_ +
                                           " SET valid_until = now() + $3::bigint * interval '1 "
                                           "millisecond' WHERE ha_key = $1 AND ha_identity = $2",
                                       {{kLockKey}, {lease.token}, {Ms(ttl)}});
      failed = r.status();
      if (r.ok()) affected = r->affected();
    }
    if (!failed.ok()) {
      if (attempt == 0 && !owner_.connected()) continue;
      return failed;
    }
    if (affected == 1) return Status::Ok();
    DropAdvisory();
    return Status::Conflict("the lock is no longer ours");
  }
}

Status PostgresLockBackend::Release(const Lease& lease, Duration timeout) {
  (void)timeout;
  std::lock_guard<std::mutex> l(owner_mu_);
  Result<PgResult> r =
      owner_.Exec("DELETE FROM " + table_ + " WHERE ha_key = $1 AND ha_identity = $2",
                  {{kLockKey}, {lease.token}});
  DropAdvisory();
  return r.ok() ? Status::Ok() : r.status();
}

Result<std::optional<Holder>> PostgresLockBackend::ReadHolder(Duration timeout) {
  (void)timeout;
  std::lock_guard<std::mutex> l(reader_mu_);
  ASSIGN_OR_RETURN(
      PgResult r,
      reader_.Exec("SELECT l.ha_value, coalesce(e.epoch, 0), EXISTS (SELECT 1 FROM pg_locks "
                   "WHERE locktype = 'advisory' AND classid = $2::bigint AND objid = "
                   "$3::bigint AND objsubid = 2 AND granted) FROM " +
                       table_ + " l LEFT JOIN " + epoch_table_ +
                       " e ON e.ha_key = l.ha_key WHERE l.ha_key = $1 AND l.valid_until > now()",
                   {{kLockKey}, {k1_}, {k2_}}));
  // No valid lease, or one whose holder's session is gone (free for the taking).
  if (r.rows() != 1 || r.IsNull(0, 0) || !r.Bool(0, 2)) return std::optional<Holder>();
  return std::optional<Holder>(
      Holder{std::string(r.Bytes(0, 0)), static_cast<uint64_t>(r.Int64(0, 1))});
}

void PostgresLockBackend::Interrupt() { gate_.Interrupt(); }

}  // namespace halo::lock
