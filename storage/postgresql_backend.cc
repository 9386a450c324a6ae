#include "storage/postgresql_backend.h"

#include <algorithm>

#include "common/logging.h"

namespace halo::storage {

using pg::PgParam;
using pg::PgResult;

namespace {

// Keys are any bytes; TEXT holds neither NUL nor invalid UTF-8. Printable ASCII and the
// other bytes 0x02..0x7f stay as they are (OpenBao's readable paths); every other byte
// becomes 0x01 and two letters. The mapping is per byte, so a key's prefix encodes to a
// prefix of its encoding (List's range scan), but not order-preserving: List sorts after
// decoding.
constexpr char kEscape = '\x01';

std::string Encode(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char ch : key) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c >= 0x02 && c <= 0x7f) {
      out.push_back(ch);
    } else {
      out.push_back(kEscape);
      out.push_back(static_cast<char>('A' + (c >> 4)));
      out.push_back(static_cast<char>('A' + (c & 0x0f)));
    }
  }
  return out;
}

std::string Decode(std::string_view enc) {
  std::string out;
  out.reserve(enc.size());
  for (size_t i = 0; i < enc.size(); ++i) {
    if (enc[i] == kEscape && i + 2 < enc.size()) {
      out.push_back(static_cast<char>(((enc[i + 1] - 'A') << 4) | (enc[i + 2] - 'A')));
      i += 2;
    } else {
      out.push_back(enc[i]);
    }
  }
  return out;
}

// OpenBao's splitKey: "a/b/c" -> parent_path "/a/", path "/a/b/", key "c" (of the encoded
// key: '/' is kept by Encode).
struct SplitKey {
  std::string parent_path, path, key;
};

SplitKey Split(std::string_view raw) {
  const std::string encoded = Encode(raw);
  std::string_view full = encoded;
  SplitKey s;
  size_t last = full.rfind('/');
  if (last == std::string_view::npos) {
    s.path = "/";
    s.key = std::string(full);
    return s;  // parent_path "" (depth 1)
  }
  s.key = std::string(full.substr(last + 1));
  s.path = "/" + std::string(full.substr(0, last + 1));
  size_t prev = full.rfind('/', last == 0 ? 0 : last - 1);
  s.parent_path = prev == std::string_view::npos || last == 0
                      ? "/"
                      : "/" + std::string(full.substr(0, prev + 1));
  return s;
}

// The smallest string greater than every string starting with `prefix`; "" if none.
std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

// A statement of a commit run found the connection outside its transaction (it broke and
// was reopened): nothing of the run may go out on it.
Status LostTransaction() {
  return Status::Unavailable("storage.postgresql: the connection was lost mid-transaction");
}

// The full keys of (path, key) rows, decoded and sorted.
std::vector<std::string> Keys(const PgResult& r) {
  std::vector<std::string> keys;
  keys.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    std::string_view path = r.Bytes(i, 0);
    keys.push_back(
        Decode(std::string(path.substr(path.empty() ? 0 : 1)) + std::string(r.Bytes(i, 1))));
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace

// Reads inside the writer's open transaction (update functions run on its thread). A failed
// statement aborts the transaction: `failed` makes the whole run fail.
class PostgresBackend::TxnView final : public ReadView {
 public:
  explicit TxnView(PostgresBackend* b) : b_(b) {}
  Result<std::string> Get(std::string_view key) override {
    if (!b_->writer_conn_.in_transaction()) return Failed(LostTransaction());
    SplitKey k = Split(key);
    Result<PgResult> r = b_->writer_conn_.Exec(b_->get_sql_, {{k.path}, {k.key}});
    if (!r.ok()) return Failed(r.status());
    if (r->rows() == 0) return Status::NotFound("not found");
    return std::string(r->Bytes(0, 0));
  }
  Result<std::vector<std::string>> List(std::string_view prefix) override {
    if (!b_->writer_conn_.in_transaction()) return Failed(LostTransaction());
    Result<PgResult> r = b_->ListOn(b_->writer_conn_, prefix);
    if (!r.ok()) return Failed(r.status());
    return Keys(*r);
  }
  const Status& failed() const { return failed_; }

 private:
  Status Failed(const Status& s) {
    if (failed_.ok()) failed_ = s;
    return s;
  }
  PostgresBackend* b_;
  Status failed_ = Status::Ok();
};

PostgresBackend::PostgresBackend(const pg::PgOptions& options)
    : options_(options),
      table_(pg::QuoteIdent(options.table)),
      epoch_table_(pg::QuoteIdent(options.table + "_halo_epoch")),
      get_sql_("SELECT value FROM " + table_ + " WHERE path = $1 AND key = $2"),
      list_sql_("SELECT path, key FROM " + table_ +
                " WHERE (path || key) >= $1 AND (path || key) < $2 ORDER BY (path || key)"),
      list_all_sql_("SELECT path, key FROM " + table_ +
                    " WHERE (path || key) >= $1 ORDER BY (path || key)"),
      put_sql_("INSERT INTO " + table_ +
               " (parent_path, path, key, value) VALUES ($1, $2, $3, $4) ON CONFLICT (path, "
               "key) DO UPDATE SET value = EXCLUDED.value, parent_path = EXCLUDED.parent_path"),
      delete_sql_("DELETE FROM " + table_ + " WHERE path = $1 AND key = $2"),
      pool_(options, "storage.postgresql", static_cast<size_t>(options.max_parallel)),
      writer_conn_(options, "storage.postgresql") {}

PostgresBackend::~PostgresBackend() { writer_.reset(); }

Result<std::unique_ptr<PostgresBackend>> PostgresBackend::Open(const pg::PgOptions& options) {
  std::unique_ptr<PostgresBackend> b(new PostgresBackend(options));
  RETURN_IF_ERROR(b->CreateTables());
  PostgresBackend* raw = b.get();
  b->writer_ = std::make_unique<GroupWriter>(
      [raw](std::vector<PendingUpdate>& group, std::vector<Status>* results) {
        raw->CommitGroup(group, results);
      },
      1024);
  return b;
}

Status PostgresBackend::CreateTables() {
  pg::PgPool::Lease conn = pool_.Get();
  if (!options_.skip_create_table) {
    const std::string idx = pg::QuoteIdent(options_.table + "_parent_path_idx");
    const std::string full_idx = pg::QuoteIdent(options_.table + "_halo_full_key_idx");
    const std::string ddl[] = {
        "CREATE TABLE IF NOT EXISTS " + table_ +
            " (parent_path TEXT COLLATE \"C\" NOT NULL, path TEXT COLLATE \"C\", key TEXT "
            "COLLATE \"C\", value BYTEA, CONSTRAINT " +
            pg::QuoteIdent(options_.table + "_pkey") + " PRIMARY KEY (path, key))",
        "CREATE INDEX IF NOT EXISTS " + idx + " ON " + table_ + " (parent_path)",
        "CREATE INDEX IF NOT EXISTS " + full_idx + " ON " + table_ + " ((path || key))",
        "CREATE TABLE IF NOT EXISTS " + epoch_table_ +
            " (id INT PRIMARY KEY, epoch BIGINT NOT NULL)",
        "INSERT INTO " + epoch_table_ + " (id, epoch) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
    };
    for (const std::string& sql : ddl) {
      Result<PgResult> r = conn->ExecCreate(sql);
      if (!r.ok()) return r.status();
    }
  }
  Result<PgResult> check = conn->Exec("SELECT epoch FROM " + epoch_table_ + " WHERE id = 1");
  if (!check.ok()) {
    return Status::Unavailable(check.status().message() +
                               (options_.skip_create_table
                                    ? " (skip_create_table is set: create the tables as "
                                      "storage/README.md shows)"
                                    : ""));
  }
  if (check->rows() != 1) {
    return Status::Unavailable("storage.postgresql: " + epoch_table_ +
                               " has no row with id 1 (storage/README.md)");
  }
  return Status::Ok();
}

Result<PgResult> PostgresBackend::ListOn(pg::PgConn& conn, std::string_view raw_prefix) {
  const std::string prefix = Encode(raw_prefix);
  std::string lo = "/" + prefix;
  std::string end = PrefixEnd(prefix);
  if (end.empty()) return conn.Exec(list_all_sql_, {{lo}});
  std::string hi = "/" + end;
  return conn.Exec(list_sql_, {{lo}, {hi}});
}

Result<std::string> PostgresBackend::Get(std::string_view key) {
  RETURN_IF_ERROR(ValidateKey(key));
  SplitKey k = Split(key);
  pg::PgPool::Lease conn = pool_.Get();
  Result<PgResult> r = conn->Exec(get_sql_, {{k.path}, {k.key}});
  if (!r.ok() && !conn->connected()) r = conn->Exec(get_sql_, {{k.path}, {k.key}});  // idempotent
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return Status::NotFound("not found");
  return std::string(r->Bytes(0, 0));
}

Result<std::vector<std::string>> PostgresBackend::List(std::string_view prefix) {
  pg::PgPool::Lease conn = pool_.Get();
  Result<PgResult> r = ListOn(*conn, prefix);
  if (!r.ok() && !conn->connected()) r = ListOn(*conn, prefix);
  if (!r.ok()) return r.status();
  return Keys(*r);
}

Status PostgresBackend::Update(uint64_t epoch, UpdateFn fn) {
  return writer_->SubmitAndWait(epoch, std::move(fn));
}

void PostgresBackend::UpdateAsync(uint64_t epoch, UpdateFn fn, DoneFn done) {
  writer_->Submit(PendingUpdate{epoch, std::move(fn), std::move(done)});
}

Result<uint64_t> PostgresBackend::MaxEpoch() {
  pg::PgPool::Lease conn = pool_.Get();
  ASSIGN_OR_RETURN(PgResult r, conn->Exec("SELECT epoch FROM " + epoch_table_ + " WHERE id = 1"));
  if (r.rows() != 1) return Status::Corruption("storage.postgresql: the epoch row is missing");
  return static_cast<uint64_t>(r.Int64(0, 0));
}

Status PostgresBackend::RecordEpoch(uint64_t epoch) {
  std::string e = std::to_string(epoch);
  pg::PgPool::Lease conn = pool_.Get();
  // Waits for every commit that holds the epoch row FOR SHARE; later ones read the new value.
  ASSIGN_OR_RETURN(PgResult r, conn->Exec("UPDATE " + epoch_table_ +
                                              " SET epoch = $1::bigint WHERE id = 1 AND epoch <= "
                                              "$1::bigint",
                                          {{e}}));
  if (r.affected() == 1) return Status::Ok();
  ASSIGN_OR_RETURN(uint64_t now, MaxEpoch());
  return StaleEpoch(epoch, now);
}

std::optional<TimePoint> PostgresBackend::WriterBusySince() const {
  std::optional<TimePoint> busy = writer_->BusySince();
  int64_t stalled = stalled_since_ns_.load(std::memory_order_acquire);
  if (!busy || stalled == 0) return busy;
  return std::min(*busy, TimePoint(Duration(stalled)));
}

void PostgresBackend::CommitGroup(std::vector<PendingUpdate>& group, std::vector<Status>* results) {
  const int64_t start = RealClock()->Now().time_since_epoch().count();
  saw_timeout_ = false;
  results->assign(group.size(), Status::Ok());
  ForEachEpochRun(group, [&](size_t begin, size_t end) { CommitRun(group, begin, end, results); });
  if (!saw_timeout_) {
    stalled_since_ns_.store(0, std::memory_order_release);
  } else if (stalled_since_ns_.load(std::memory_order_acquire) == 0) {
    stalled_since_ns_.store(start, std::memory_order_release);
  }
}

Status PostgresBackend::ApplyWrites(const OverlayTxn::Writes& writes) {
  for (const auto& [key, value] : writes) {
    if (!writer_conn_.in_transaction()) return LostTransaction();
    SplitKey k = Split(key);
    Result<PgResult> r =
        value ? writer_conn_.Exec(put_sql_, {{k.parent_path}, {k.path}, {k.key}, {*value, true}})
              : writer_conn_.Exec(delete_sql_, {{k.path}, {k.key}});
    if (!r.ok()) return r.status();
  }
  return Status::Ok();
}

void PostgresBackend::CommitRun(std::vector<PendingUpdate>& group, size_t begin, size_t end,
                                std::vector<Status>* results) {
  const uint64_t epoch = group[begin].epoch;
  // Before COMMIT nothing can have committed: a statement that timed out or a connection
  // that broke is kUnavailable (not applied, safe to send again), not an unknown outcome.
  auto fail = [&](size_t from, const Status& raw) {
    Status s = raw;
    if (raw.code() == Status::Code::kTimeout) {
      saw_timeout_ = true;
      s = Status::Unavailable(raw.message() + "; not committed");
    }
    for (size_t i = from; i < end; ++i) {
      if ((*results)[i].ok()) (*results)[i] = s;
    }
  };
  auto rollback = [&] {
    if (writer_conn_.connected()) (void)writer_conn_.Exec("ROLLBACK");
  };
  Result<PgResult> begun = writer_conn_.Exec("BEGIN");
  if (!begun.ok()) return fail(begin, begun.status());
  // The fence, in the transaction that writes: RecordEpoch waits for it.
  Result<PgResult> fence =
      writer_conn_.Exec("SELECT epoch FROM " + epoch_table_ + " WHERE id = 1 FOR SHARE");
  if (!fence.ok() || fence->rows() != 1) {
    rollback();
    return fail(begin, fence.ok() ? Status::Corruption("storage.postgresql: no epoch row")
                                  : fence.status());
  }
  uint64_t recorded = static_cast<uint64_t>(fence->Int64(0, 0));
  if (epoch < recorded) {
    rollback();
    return fail(begin, StaleEpoch(epoch, recorded));
  }
  TxnView view(this);
  OverlayTxn run(&view);
  std::vector<size_t> applied;
  for (size_t i = begin; i < end; ++i) {
    OverlayTxn txn(&run);
    Status s = group[i].fn(txn);
    if (!view.failed().ok()) break;
    if (!s.ok()) {
      (*results)[i] = s;
      continue;
    }
    txn.MergeInto(&run);
    applied.push_back(i);
  }
  if (!view.failed().ok()) {
    rollback();
    return fail(begin, view.failed());
  }
  if (applied.empty()) {
    rollback();  // nothing to write, and a failed update records no epoch
    return;
  }
  if (epoch > recorded) {  // the first write of a new epoch records it, in this transaction
    Result<PgResult> raised =
        writer_conn_.Exec("UPDATE " + epoch_table_ + " SET epoch = $1::bigint WHERE id = 1",
                          {{std::to_string(epoch)}});
    if (!raised.ok()) {
      rollback();
      return fail(begin, raised.status());
    }
  }
  Status wrote = ApplyWrites(run.writes());
  if (!wrote.ok()) {
    rollback();
    return fail(begin, wrote);
  }
  if (!writer_conn_.in_transaction()) return fail(begin, LostTransaction());
  Result<PgResult> commit = writer_conn_.Exec("COMMIT");
  commits_.fetch_add(1);
  if (!commit.ok()) {
    // An error reply rolled it back; a broken connection or a timeout leaves it unknown
    // (PgConn says kTimeout then).
    if (commit.status().code() == Status::Code::kTimeout) saw_timeout_ = true;
    for (size_t i : applied) (*results)[i] = commit.status();
  }
}

}  // namespace halo::storage
