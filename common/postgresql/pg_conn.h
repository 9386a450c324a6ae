// PgConn: one libpq connection to PostgreSQL, for blocking use by one thread at a time (a
// backend thread: never an event loop). It connects on first use and again after a failure,
// at most once per back-off period (100 ms doubling to 2 s), so a server that is down costs
// one quick kUnavailable per call, not a connect storm. Every statement runs with the
// configured statement_timeout; TCP keepalives and tcp_user_timeout bound the wait for a
// server host that vanished (PgOptions).
//
// Results come back in binary format: text columns are their raw bytes, bigint columns 8
// bytes that PgResult::Int64 decodes. Parameters are text, except those marked binary
// (bytea values: any bytes, no escaping).
//
// Errors from Exec: kUnavailable (not connected: nothing was sent), kTimeout (the
// statement timed out or was cancelled, or the connection broke after sending: the outcome
// is unknown), kIoError (an error reply, with its SQLSTATE and message). Cancel() may be
// called from any thread.
//
// PgPool: at most `max_open` connections shared by threads; Get() hands out an idle one, a
// new one while fewer are open, or waits for one to come back; the Lease returns it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/postgresql/pg_options.h"
#include "common/result.h"

struct pg_conn;
struct pg_result;
struct pg_cancel;

namespace halo::pg {

// One statement parameter; `binary` for bytea values.
struct PgParam {
  std::string_view value;
  bool binary = false;
  bool null = false;
};

class PgResult {
 public:
  explicit PgResult(pg_result* r) : r_(r) {}
  ~PgResult();
  PgResult(PgResult&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  PgResult& operator=(PgResult&& o) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;

  int rows() const;
  // Rows an INSERT/UPDATE/DELETE touched.
  int64_t affected() const;
  bool IsNull(int row, int col) const;
  std::string_view Bytes(int row, int col) const;
  // A bigint (int8) column.
  int64_t Int64(int row, int col) const;
  // A boolean column.
  bool Bool(int row, int col) const;
  pg_result* get() const { return r_; }

 private:
  pg_result* r_;
};

class PgConn {
 public:
  // `what` names the config block in messages ("storage.postgresql").
  PgConn(PgOptions options, std::string what);
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  // Connected now, or connects (unless within the back-off after a failed attempt).
  Status Ensure();
  Result<PgResult> Exec(std::string_view sql, const std::vector<PgParam>& params = {});
  // A CREATE ... IF NOT EXISTS. Nodes starting together race on it: the loser gets a unique
  // violation in the catalog (23505) or "already exists" (42P07, 42710), and once more then
  // finds the object there.
  Result<PgResult> ExecCreate(std::string_view sql);
  // Closes the connection (the server ends the session: its advisory locks are released).
  void Close();
  bool connected() const;
  // Inside a transaction block that has not failed (after BEGIN, before COMMIT).
  bool in_transaction() const;
  // Asks the server to cancel what this connection runs now; any thread.
  void Cancel();
  // The server process of this session (pg_backend_pid()); 0 if not connected.
  int backend_pid() const;

 private:
  const PgOptions options_;
  const std::string what_;
  pg_conn* conn_ = nullptr;
  TimePoint next_attempt_{};
  Duration backoff_{};
  std::mutex cancel_mu_;
  pg_cancel* cancel_ = nullptr;  // guarded by cancel_mu_
};

class PgPool {
 public:
  PgPool(PgOptions options, std::string what, size_t max_open);

  class Lease {
   public:
    Lease(PgPool* pool, std::unique_ptr<PgConn> conn) : pool_(pool), conn_(std::move(conn)) {}
    ~Lease() { pool_->Return(std::move(conn_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    PgConn* operator->() { return conn_.get(); }
    PgConn& operator*() { return *conn_; }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConn> conn_;
  };
  Lease Get();

 private:
  void Return(std::unique_ptr<PgConn> conn);

  const PgOptions options_;
  const std::string what_;
  const size_t max_open_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t open_ = 0;                            // guarded by mu_: idle and leased
  std::vector<std::unique_ptr<PgConn>> idle_;  // guarded by mu_
};

}  // namespace halo::pg
