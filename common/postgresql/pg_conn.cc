#include "common/postgresql/pg_conn.h"

#include <arpa/inet.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cstring>

#include "common/logging.h"

namespace halo::pg {
namespace {

constexpr Duration kFirstBackoff = milliseconds(100);
constexpr Duration kMaxBackoff = seconds(2);

int64_t Seconds(Duration d) {
  return std::max<int64_t>(1, std::chrono::duration_cast<seconds>(d).count());
}

int64_t Millis(Duration d) { return std::chrono::duration_cast<milliseconds>(d).count(); }

std::string OneLine(const char* msg) {
  std::string s = msg ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

}  // namespace

PgResult::~PgResult() {
  if (r_) PQclear(r_);
}

PgResult& PgResult::operator=(PgResult&& o) noexcept {
  if (this != &o) {
    if (r_) PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}

int PgResult::rows() const { return PQntuples(r_); }

int64_t PgResult::affected() const {
  const char* n = PQcmdTuples(r_);
  return n && *n ? std::strtoll(n, nullptr, 10) : 0;
}

bool PgResult::IsNull(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }

std::string_view PgResult::Bytes(int row, int col) const {
  return {PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col))};
}

int64_t PgResult::Int64(int row, int col) const {
  std::string_view b = Bytes(row, col);
  if (b.size() != 8) return 0;
  uint64_t v = 0;
  for (unsigned char c : b) v = (v << 8) | c;
  return static_cast<int64_t>(v);
}

bool PgResult::Bool(int row, int col) const {
  std::string_view b = Bytes(row, col);
  return b.size() == 1 && b[0] != 0;
}

PgConn::PgConn(PgOptions options, std::string what)
    : options_(std::move(options)), what_(std::move(what)) {}

PgConn::~PgConn() { Close(); }

bool PgConn::connected() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }

bool PgConn::in_transaction() const {
  return connected() && PQtransactionStatus(conn_) == PQTRANS_INTRANS;
}

int PgConn::backend_pid() const { return connected() ? PQbackendPID(conn_) : 0; }

void PgConn::Close() {
  {
    std::lock_guard<std::mutex> l(cancel_mu_);
    if (cancel_) PQfreeCancel(cancel_);
    cancel_ = nullptr;
  }
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
}

void PgConn::Cancel() {
  std::lock_guard<std::mutex> l(cancel_mu_);
  if (!cancel_) return;
  char err[256];
  (void)PQcancel(cancel_, err, sizeof(err));
}

Status PgConn::Ensure() {
  if (connected()) return Status::Ok();
  Close();
  TimePoint now = RealClock()->Now();
  if (now < next_attempt_) {
    return Status::Unavailable(what_ + ": PostgreSQL unreachable; next connect attempt in " +
                               std::to_string(Millis(next_attempt_ - now)) + " ms");
  }
  // Ours first: keys in connection_url (expanded last) override them.
  const std::string connect_timeout = std::to_string(Seconds(options_.op_timeout));
  const std::string idle = std::to_string(Seconds(options_.keepalive_idle));
  const std::string interval = std::to_string(Seconds(options_.keepalive_interval));
  const std::string count = std::to_string(options_.keepalive_count);
  const std::string user_timeout = std::to_string(
      Millis(options_.keepalive_idle + options_.keepalive_interval * options_.keepalive_count));
  // On the server side too: a transaction whose client stopped (SIGSTOP, a vanished host)
  // must not keep its row locks (the epoch row FOR SHARE) past op_timeout, or a new active's
  // RecordEpoch waits on it; and the server notices a vanished client by its keepalives.
  const std::string ms = std::to_string(Millis(options_.op_timeout));
  const std::string server_options =
      "-c statement_timeout=" + ms + " -c idle_in_transaction_session_timeout=" + ms +
      " -c tcp_keepalives_idle=" + idle + " -c tcp_keepalives_interval=" + interval +
      " -c tcp_keepalives_count=" + count + " -c client_min_messages=warning";
  const char* keys[] = {"connect_timeout",  "keepalives",
                        "keepalives_idle",  "keepalives_interval",
                        "keepalives_count", "tcp_user_timeout",
                        "options",          "application_name",
                        "dbname",           nullptr};
  const char* values[] = {connect_timeout.c_str(),
                          "1",
                          idle.c_str(),
                          interval.c_str(),
                          count.c_str(),
                          user_timeout.c_str(),
                          server_options.c_str(),
                          "halo",
                          options_.connection_url.c_str(),
                          nullptr};
  conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    std::string why = conn_ ? OneLine(PQerrorMessage(conn_)) : "out of memory";
    Close();
    backoff_ = backoff_ == Duration{} ? kFirstBackoff : std::min(backoff_ * 2, kMaxBackoff);
    next_attempt_ = RealClock()->Now() + backoff_;
    return Status::Unavailable(what_ + ": cannot connect to PostgreSQL: " + why);
  }
  backoff_ = Duration{};
  std::lock_guard<std::mutex> l(cancel_mu_);
  cancel_ = PQgetCancel(conn_);
  return Status::Ok();
}

Result<PgResult> PgConn::Exec(std::string_view sql, const std::vector<PgParam>& params) {
  RETURN_IF_ERROR(Ensure());
  std::vector<const char*> values(params.size());
  std::vector<int> lengths(params.size());
  std::vector<int> formats(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    values[i] = params[i].null ? nullptr : params[i].value.data();
    lengths[i] = static_cast<int>(params[i].value.size());
    formats[i] = params[i].binary ? 1 : 0;
  }
  // Text parameters must be NUL-terminated: copy those that are not sure to be.
  std::vector<std::string> copies;
  copies.reserve(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    if (!params[i].null && !params[i].binary) {
      copies.emplace_back(params[i].value);
      values[i] = copies.back().c_str();
    }
  }
  std::string query(sql);
  PgResult r(PQexecParams(conn_, query.c_str(), static_cast<int>(params.size()), nullptr,
                          values.data(), lengths.data(), formats.data(), /*resultFormat=*/1));
  ExecStatusType st = PQresultStatus(r.get());
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string why = OneLine(PQerrorMessage(conn_));
    Close();
    return Status::Timeout(what_ + ": the connection to PostgreSQL broke: " + why +
                           " (outcome unknown)");
  }
  const char* state = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
  std::string code = state ? state : "";
  std::string msg = OneLine(PQresultErrorMessage(r.get()));
  if (code == "57014") return Status::Timeout(what_ + ": " + msg + " (outcome unknown)");
  return Status::IoError(what_ + ": PostgreSQL " + code + ": " + msg);
}

Result<PgResult> PgConn::ExecCreate(std::string_view sql) {
  Result<PgResult> r = Exec(sql);
  if (r.ok()) return r;
  for (const char* code : {"23505", "42P07", "42710"}) {
    if (r.status().message().find(code) != std::string::npos) return Exec(sql);
  }
  return r;
}

PgPool::PgPool(PgOptions options, std::string what, size_t max_open)
    : options_(std::move(options)),
      what_(std::move(what)),
      max_open_(std::max<size_t>(1, max_open)) {}

PgPool::Lease PgPool::Get() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return !idle_.empty() || open_ < max_open_; });
  if (!idle_.empty()) {
    std::unique_ptr<PgConn> c = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(c));
  }
  ++open_;
  l.unlock();
  return Lease(this, std::make_unique<PgConn>(options_, what_));
}

void PgPool::Return(std::unique_ptr<PgConn> conn) {
  std::lock_guard<std::mutex> l(mu_);
  idle_.push_back(std::move(conn));
  cv_.notify_one();
}

}  // namespace halo::pg
