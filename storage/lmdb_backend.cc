#include "storage/lmdb_backend.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "common/logging.h"
#include "storage/backend_txn.h"

namespace halo::storage {

namespace {

// Keys up to kDirectMax bytes are LMDB keys as they are. Longer keys are stored under
// their first kDirectMax bytes followed by the SHA-256 of the whole key (kHashedLen bytes,
// within LMDB's default 511-byte limit); such records' values start with the full key.
constexpr size_t kDirectMax = 478;
constexpr size_t kHashedLen = kDirectMax + SHA256_DIGEST_LENGTH;
constexpr const char kDataDb[] = "halo_data";
constexpr const char kMetaDb[] = "halo_meta";
constexpr const char kEpochKey[] = "max_epoch";
constexpr unsigned kMaxReaders = 512;

MDB_val Val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
std::string_view View(const MDB_val& v) {
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

std::string DbKey(std::string_view key) {
  if (key.size() <= kDirectMax) return std::string(key);
  std::string out(key.substr(0, kDirectMax));
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  out.append(reinterpret_cast<const char*>(digest), sizeof(digest));
  return out;
}

bool IsHashed(std::string_view db_key) { return db_key.size() == kHashedLen; }

// A hashed record's value: u32 little-endian key length, the key, then the value.
std::string EncodeHashedValue(std::string_view key, std::string_view value) {
  std::string out;
  out.reserve(4 + key.size() + value.size());
  uint32_t n = static_cast<uint32_t>(key.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  out.append(key);
  out.append(value);
  return out;
}

// Splits a hashed record's value into (full key, value); false if malformed.
bool DecodeHashedValue(std::string_view raw, std::string_view* key, std::string_view* value) {
  if (raw.size() < 4) return false;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= uint32_t{static_cast<unsigned char>(raw[i])} << (8 * i);
  if (raw.size() - 4 < n) return false;
  *key = raw.substr(4, n);
  *value = raw.substr(4 + n);
  return true;
}

Status ErrorFor(const char* what, int rc, uint64_t map_size) {
  std::string msg = std::string("lmdb ") + what + ": " + mdb_strerror(rc);
  if (rc == MDB_MAP_FULL) {
    return Status::TooLarge(msg + " (the database reached map_size_mb=" +
                            std::to_string(map_size >> 20) + "; raise it in the config)");
  }
  if (rc == MDB_TXN_FULL) return Status::TooLarge(msg + " (too many writes in one update)");
  if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID) {
    return Status::Corruption(msg);
  }
  return Status::IoError(msg);
}

// Reads `key` through `txn`.
Result<std::string> TxnGet(MDB_txn* txn, MDB_dbi dbi, std::string_view key, uint64_t map_size) {
  RETURN_IF_ERROR(ValidateKey(key));
  std::string db_key = DbKey(key);
  MDB_val k = Val(db_key);
  MDB_val v;
  int rc = mdb_get(txn, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return Status::NotFound(std::string(key));
  if (rc != 0) return ErrorFor("get", rc, map_size);
  if (!IsHashed(db_key)) return std::string(View(v));
  std::string_view stored_key, value;
  if (!DecodeHashedValue(View(v), &stored_key, &value)) {
    return Status::Corruption("lmdb: malformed long-key record");
  }
  if (stored_key != key) return Status::Corruption("lmdb: long-key hash collision");
  return std::string(value);
}

Result<std::vector<std::string>> TxnList(MDB_txn* txn, MDB_dbi dbi, std::string_view prefix,
                                         uint64_t map_size) {
  MDB_cursor* cursor = nullptr;
  int rc = mdb_cursor_open(txn, dbi, &cursor);
  if (rc != 0) return ErrorFor("cursor", rc, map_size);
  std::string_view search = prefix.substr(0, kDirectMax);
  MDB_val k = Val(search);
  MDB_val v;
  std::vector<std::string> out;
  bool sorted = true;
  rc = mdb_cursor_get(cursor, &k, &v, search.empty() ? MDB_FIRST : MDB_SET_RANGE);
  for (; rc == 0; rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
    std::string_view db_key = View(k);
    if (!HasPrefix(db_key, search)) {
      rc = MDB_NOTFOUND;  // past the prefix: done
      break;
    }
    std::string_view key = db_key;
    if (IsHashed(db_key)) {
      std::string_view value;
      if (!DecodeHashedValue(View(v), &key, &value)) {
        mdb_cursor_close(cursor);
        return Status::Corruption("lmdb: malformed long-key record");
      }
      sorted = false;  // records sharing a hashed prefix are ordered by hash
    }
    if (HasPrefix(key, prefix)) out.emplace_back(key);
  }
  mdb_cursor_close(cursor);
  if (rc != MDB_NOTFOUND) return ErrorFor("list", rc, map_size);
  if (!sorted) std::sort(out.begin(), out.end());
  return out;
}

Result<uint64_t> TxnEpoch(MDB_txn* txn, MDB_dbi meta, uint64_t map_size) {
  MDB_val k = Val(kEpochKey);
  MDB_val v;
  int rc = mdb_get(txn, meta, &k, &v);
  if (rc == MDB_NOTFOUND) return uint64_t{0};
  if (rc != 0) return ErrorFor("read epoch", rc, map_size);
  if (v.mv_size != 8) return Status::Corruption("lmdb: malformed max_epoch record");
  uint64_t epoch = 0;
  const auto* p = static_cast<const unsigned char*>(v.mv_data);
  for (int i = 0; i < 8; ++i) epoch |= uint64_t{p[i]} << (8 * i);
  return epoch;
}

}  // namespace

// A pooled read-only transaction, renewed on construction and reset on destruction.
class LmdbBackend::ReadTxn {
 public:
  explicit ReadTxn(LmdbBackend* b) : b_(b), env_lock_(b->env_mu_) {
    {
      std::lock_guard<std::mutex> lock(b_->pool_mu_);
      if (!b_->read_pool_.empty()) {
        txn_ = b_->read_pool_.back();
        b_->read_pool_.pop_back();
      }
    }
    int rc = Start();
    if (rc == MDB_MAP_RESIZED) {
      Drop();
      env_lock_.unlock();
      b_->AdoptNewMapSize();
      env_lock_.lock();
      rc = Start();
    }
    if (rc != 0) {
      Drop();
      status_ = b_->MdbError("begin read", rc);
    }
  }
  ~ReadTxn() {
    if (!txn_) return;
    mdb_txn_reset(txn_);
    std::lock_guard<std::mutex> lock(b_->pool_mu_);
    b_->read_pool_.push_back(txn_);
  }
  ReadTxn(const ReadTxn&) = delete;
  ReadTxn& operator=(const ReadTxn&) = delete;

  const Status& status() const { return status_; }
  MDB_txn* txn() const { return txn_; }

 private:
  // Begins or renews the snapshot. liblmdb 0.9 picks the meta page by the parity of the
  // txnid it reads; if writers commit twice between that read and the meta copy, the
  // snapshot is newer than its txnid says and a later read may see an older state (reads
  // would go back in time; seen under load with a writer in another process). So: retry
  // while the newest committed txnid is two or more ahead of ours, which proves the copy
  // came from the meta page of our txnid. Bounded: under a write storm the last snapshot
  // is still a committed one.
  int Start() {
    int rc = 0;
    for (int attempt = 0; attempt < 64; ++attempt) {
      rc = txn_ ? mdb_txn_renew(txn_) : mdb_txn_begin(b_->env_, nullptr, MDB_RDONLY, &txn_);
      if (rc != 0) return rc;
      MDB_envinfo info;
      if (mdb_env_info(b_->env_, &info) != 0 || info.me_last_txnid < mdb_txn_id(txn_) + 2) {
        return 0;
      }
      mdb_txn_reset(txn_);
    }
    return txn_ ? mdb_txn_renew(txn_) : rc;
  }

  void Drop() {
    if (txn_) mdb_txn_abort(txn_);
    txn_ = nullptr;
  }

  LmdbBackend* b_;
  std::shared_lock<std::shared_mutex> env_lock_;
  MDB_txn* txn_ = nullptr;
  Status status_;
};

// The Txn an update function sees: a (nested) write transaction.
class LmdbBackend::WriteView final : public Txn {
 public:
  WriteView(LmdbBackend* b, MDB_txn* txn) : b_(b), txn_(txn) {}

  Result<std::string> Get(std::string_view key) override {
    return TxnGet(txn_, b_->data_dbi_, key, b_->options_.map_size_bytes);
  }
  Result<std::vector<std::string>> List(std::string_view prefix) override {
    return TxnList(txn_, b_->data_dbi_, prefix, b_->options_.map_size_bytes);
  }
  Status Put(std::string_view key, std::string_view value) override {
    RETURN_IF_ERROR(ValidateKey(key));
    std::string db_key = DbKey(key);
    std::string hashed;
    if (IsHashed(db_key)) {
      hashed = EncodeHashedValue(key, value);
      value = hashed;
    }
    MDB_val k = Val(db_key);
    MDB_val v = Val(value);
    return Check("put", mdb_put(txn_, b_->data_dbi_, &k, &v, 0));
  }
  Status Delete(std::string_view key) override {
    RETURN_IF_ERROR(ValidateKey(key));
    std::string db_key = DbKey(key);
    MDB_val k = Val(db_key);
    int rc = mdb_del(txn_, b_->data_dbi_, &k, nullptr);
    return Check("delete", rc == MDB_NOTFOUND ? 0 : rc);
  }

  // The first write error: LMDB marks the transaction unusable after one, so the update
  // fails with it even if the function ignored it.
  const Status& error() const { return error_; }

 private:
  Status Check(const char* what, int rc) {
    if (rc == 0) return Status::Ok();
    Status st = b_->MdbError(what, rc);
    if (error_.ok()) error_ = st;
    return st;
  }

  LmdbBackend* b_;
  MDB_txn* txn_;
  Status error_;
};

Result<std::unique_ptr<LmdbBackend>> LmdbBackend::Open(const BackendOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) return Status::IoError("create " + options.path + ": " + ec.message());
  MDB_env* env = nullptr;
  int rc = mdb_env_create(&env);
  if (rc != 0) return ErrorFor("env create", rc, options.map_size_bytes);
  auto fail = [&](const char* what) {
    mdb_env_close(env);
    return ErrorFor(what, rc, options.map_size_bytes).Annotate(options.path);
  };
  if ((rc = mdb_env_set_mapsize(env, options.map_size_bytes)) != 0) return fail("set map size");
  if ((rc = mdb_env_set_maxdbs(env, 4)) != 0) return fail("set max dbs");
  if ((rc = mdb_env_set_maxreaders(env, kMaxReaders)) != 0) return fail("set max readers");
  if ((rc = mdb_env_open(env, options.path.c_str(), MDB_NOTLS, 0644)) != 0) return fail("open");
  if (static_cast<size_t>(mdb_env_get_maxkeysize(env)) < kHashedLen) {
    mdb_env_close(env);
    return Status::Internal("liblmdb was built with a key size limit below 510 bytes");
  }
  int dead = 0;
  if ((rc = mdb_reader_check(env, &dead)) != 0) return fail("reader check");
  if (dead > 0) LOG_INFO("lmdb %s: cleared %d stale reader slot(s)", options.path.c_str(), dead);
  std::unique_ptr<LmdbBackend> backend(new LmdbBackend(options, env));
  RETURN_IF_ERROR(backend->OpenDatabases());
  size_t max_batch = options.group_commit ? static_cast<size_t>(options.max_batch) : 1;
  LmdbBackend* b = backend.get();
  backend->writer_ = std::make_unique<GroupWriter>(
      [b](std::vector<PendingUpdate>& group, std::vector<Status>* results) {
        b->CommitGroup(group, results);
      },
      max_batch);
  return backend;
}

LmdbBackend::LmdbBackend(const BackendOptions& options, MDB_env* env)
    : options_(options), env_(env) {}

LmdbBackend::~LmdbBackend() {
  writer_.reset();
  for (MDB_txn* txn : read_pool_) mdb_txn_abort(txn);
  mdb_env_close(env_);
}

Status LmdbBackend::MdbError(const char* what, int rc) const {
  return ErrorFor(what, rc, options_.map_size_bytes);
}

Status LmdbBackend::OpenDatabases() {
  std::shared_lock<std::shared_mutex> env_lock(env_mu_);
  // Standbys usually find the databases made already: open them in a read transaction so
  // they never wait for the active's writes. Only a new environment needs a write.
  for (unsigned flags : {unsigned{MDB_RDONLY}, 0u}) {
    MDB_txn* txn = nullptr;
    int rc = BeginTxn(nullptr, flags, &txn);
    if (rc != 0) return MdbError("begin", rc);
    unsigned create = flags == 0 ? MDB_CREATE : 0;
    if ((rc = mdb_dbi_open(txn, kDataDb, create, &data_dbi_)) != 0 ||
        (rc = mdb_dbi_open(txn, kMetaDb, create, &meta_dbi_)) != 0) {
      mdb_txn_abort(txn);
      if (rc == MDB_NOTFOUND && flags != 0) continue;
      return MdbError("open databases", rc);
    }
    rc = mdb_txn_commit(txn);  // commit, even read-only, keeps the handles
    return rc == 0 ? Status::Ok() : MdbError("commit", rc);
  }
  return Status::Internal("unreachable");
}

// REQUIRES: env_mu_ held shared (it is dropped and retaken around a resize).
int LmdbBackend::BeginTxn(MDB_txn* parent, unsigned flags, MDB_txn** txn) {
  int rc = mdb_txn_begin(env_, parent, flags, txn);
  if (rc == MDB_MAP_RESIZED && parent == nullptr) {
    env_mu_.unlock_shared();
    AdoptNewMapSize();
    env_mu_.lock_shared();
    rc = mdb_txn_begin(env_, parent, flags, txn);
  }
  return rc;
}

void LmdbBackend::AdoptNewMapSize() {
  std::unique_lock<std::shared_mutex> lock(env_mu_);
  int rc = mdb_env_set_mapsize(env_, 0);
  if (rc != 0)
    LOG_ERROR("lmdb %s: adopting a new map size: %s", options_.path.c_str(), mdb_strerror(rc));
}

Result<std::string> LmdbBackend::Get(std::string_view key) {
  RETURN_IF_ERROR(ValidateKey(key));
  ReadTxn read(this);
  RETURN_IF_ERROR(read.status());
  return TxnGet(read.txn(), data_dbi_, key, options_.map_size_bytes);
}

Result<std::vector<std::string>> LmdbBackend::List(std::string_view prefix) {
  ReadTxn read(this);
  RETURN_IF_ERROR(read.status());
  return TxnList(read.txn(), data_dbi_, prefix, options_.map_size_bytes);
}

Result<uint64_t> LmdbBackend::MaxEpoch() {
  ReadTxn read(this);
  RETURN_IF_ERROR(read.status());
  return TxnEpoch(read.txn(), meta_dbi_, options_.map_size_bytes);
}

Status LmdbBackend::Update(uint64_t epoch, UpdateFn fn) {
  return writer_->SubmitAndWait(epoch, std::move(fn));
}

void LmdbBackend::UpdateAsync(uint64_t epoch, UpdateFn fn, DoneFn done) {
  writer_->Submit(PendingUpdate{epoch, std::move(fn), std::move(done)});
}

Status LmdbBackend::RecordEpoch(uint64_t epoch) {
  // An update that writes nothing still records its epoch.
  return Update(epoch, [](Txn&) { return Status::Ok(); });
}

uint64_t LmdbBackend::CommitCount() const { return commits_.load(); }

void LmdbBackend::CommitGroup(std::vector<PendingUpdate>& group, std::vector<Status>* results) {
  results->assign(group.size(), Status::Ok());
  auto fail_all = [&](const Status& st) {
    for (auto& r : *results) {
      if (r.ok()) r = st;
    }
  };
  std::shared_lock<std::shared_mutex> env_lock(env_mu_);
  MDB_txn* txn = nullptr;
  int rc = BeginTxn(nullptr, 0, &txn);
  if (rc != 0) return fail_all(MdbError("begin write", rc));
  Result<uint64_t> recorded = TxnEpoch(txn, meta_dbi_, options_.map_size_bytes);
  if (!recorded.ok()) {
    mdb_txn_abort(txn);
    return fail_all(recorded.status());
  }
  uint64_t max_epoch = *recorded;
  // A lone update runs in the top transaction itself (no nesting needed to undo it).
  bool nest = group.size() > 1;
  bool any_ok = false;
  for (size_t i = 0; i < group.size(); ++i) {
    Status& result = (*results)[i];
    if (group[i].epoch < max_epoch) {
      result = StaleEpoch(group[i].epoch, max_epoch);
      continue;
    }
    MDB_txn* child = txn;
    if (nest && (rc = mdb_txn_begin(env_, txn, 0, &child)) != 0) {
      result = MdbError("begin nested", rc);
      continue;
    }
    WriteView view(this, child);
    result = group[i].fn(view);
    if (result.ok()) result = view.error();
    if (result.ok() && nest && (rc = mdb_txn_commit(child)) != 0) {
      result = MdbError("commit nested", rc);
    } else if (!result.ok() && nest) {
      mdb_txn_abort(child);
    }
    if (!result.ok()) {
      if (!nest) {
        mdb_txn_abort(txn);
        return;
      }
      continue;
    }
    any_ok = true;
    max_epoch = std::max(max_epoch, group[i].epoch);
  }
  if (!any_ok) {
    mdb_txn_abort(txn);
    return;
  }
  if (max_epoch != *recorded) {
    unsigned char buf[8];
    for (int i = 0; i < 8; ++i) buf[i] = static_cast<unsigned char>(max_epoch >> (8 * i));
    MDB_val k = Val(kEpochKey);
    MDB_val v{sizeof(buf), buf};
    if ((rc = mdb_put(txn, meta_dbi_, &k, &v, 0)) != 0) {
      mdb_txn_abort(txn);
      return fail_all(MdbError("write epoch", rc));
    }
  }
  if ((rc = mdb_txn_commit(txn)) != 0) return fail_all(MdbError("commit", rc));
  commits_.fetch_add(1);
}

}  // namespace halo::storage
