#include "storage/redis_backend.h"

#include <cstdlib>

#include "common/logging.h"
#include "common/redis/halo_library.h"

namespace halo::storage {

using redis::RedisReply;

namespace {

// The smallest string greater than every string starting with `prefix`; "" if none.
std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

Status ReplyError(const RedisReply& r, std::string_view what) {
  return Status::IoError("redis " + std::string(what) + ": " + r.str);
}

uint64_t StaleValue(const RedisReply& r) {
  return std::strtoull(r.str.c_str() + 6, nullptr, 10);  // "STALE <n>"
}

}  // namespace

// Reads committed data on the writer's connection (update functions run on its thread).
class RedisBackend::MasterView final : public ReadView {
 public:
  explicit MasterView(RedisBackend* b) : b_(b) {}
  Result<std::string> Get(std::string_view key) override {
    std::string k = b_->DataKey(key);
    ASSIGN_OR_RETURN(RedisReply r, b_->writer_conn_.Command({"GET", k}));
    if (r.is_error()) return ReplyError(r, "GET");
    if (r.is_nil()) return Status::NotFound("not found");
    return std::move(r.str);
  }
  Result<std::vector<std::string>> List(std::string_view prefix) override {
    std::string lo = "[" + std::string(prefix);
    std::string end = PrefixEnd(prefix);
    std::string hi = end.empty() ? "+" : "(" + end;
    ASSIGN_OR_RETURN(RedisReply r,
                     b_->writer_conn_.Command({"ZRANGE", b_->index_key_, lo, hi, "BYLEX"}));
    if (r.is_error()) return ReplyError(r, "ZRANGE");
    std::vector<std::string> keys;
    for (RedisReply& e : r.elements) keys.push_back(std::move(e.str));
    return keys;
  }

 private:
  RedisBackend* b_;
};

RedisBackend::RedisBackend(const redis::RedisOptions& options)
    : options_(options),
      epoch_key_(options.key_prefix + "epoch"),
      index_key_(options.key_prefix + "index"),
      generation_(std::make_shared<std::atomic<uint64_t>>(0)),
      master_pool_(options, redis::Role::kMaster, generation_),
      replica_pool_(options, redis::Role::kReplica, generation_),
      writer_conn_(options, redis::Role::kMaster, generation_) {}

RedisBackend::~RedisBackend() { writer_.reset(); }

Result<std::unique_ptr<RedisBackend>> RedisBackend::Open(const redis::RedisOptions& options) {
  std::unique_ptr<RedisBackend> b(new RedisBackend(options));
  {
    redis::RedisPool::Lease conn = b->master_pool_.Get();
    RETURN_IF_ERROR(redis::PrepareServer(*conn, options, "storage.redis"));
  }
  if (!options.sentinels.empty()) {
    b->watch_ = std::make_unique<redis::SentinelWatch>(options, b->generation_);
  }
  RedisBackend* raw = b.get();
  b->writer_ = std::make_unique<GroupWriter>(
      [raw](std::vector<PendingUpdate>& group, std::vector<Status>* results) {
        raw->CommitGroup(group, results);
      },
      1024);
  return b;
}

std::string RedisBackend::DataKey(std::string_view key) const {
  return options_.key_prefix + "k:" + std::string(key);
}

Result<RedisReply> RedisBackend::ReadCommand(const std::vector<std::string_view>& argv,
                                             bool replica) {
  redis::RedisPool& pool = replica && options_.read_from_replicas ? replica_pool_ : master_pool_;
  redis::RedisPool::Lease conn = pool.Get();
  Result<RedisReply> r = conn->Command(argv);
  // Reads are idempotent: one more try on a fresh connection (a server restart, a switch).
  if (!r.ok() || r->IsErrorCode("READONLY") || r->IsErrorCode("LOADING")) {
    r = conn->Command(argv);
  }
  return r;
}

Result<std::string> RedisBackend::Get(std::string_view key) {
  RETURN_IF_ERROR(ValidateKey(key));
  std::string k = DataKey(key);
  ASSIGN_OR_RETURN(RedisReply r, ReadCommand({"GET", k}, true));
  if (r.is_error()) return ReplyError(r, "GET");
  if (r.is_nil()) return Status::NotFound("not found");
  return std::move(r.str);
}

Result<std::vector<std::string>> RedisBackend::List(std::string_view prefix) {
  std::string lo = "[" + std::string(prefix);
  std::string end = PrefixEnd(prefix);
  std::string hi = end.empty() ? "+" : "(" + end;
  ASSIGN_OR_RETURN(RedisReply r, ReadCommand({"ZRANGE", index_key_, lo, hi, "BYLEX"}, true));
  if (r.is_error()) return ReplyError(r, "ZRANGE");
  std::vector<std::string> keys;
  keys.reserve(r.elements.size());
  for (RedisReply& e : r.elements) keys.push_back(std::move(e.str));
  return keys;
}

Status RedisBackend::Update(uint64_t epoch, UpdateFn fn) {
  return writer_->SubmitAndWait(epoch, std::move(fn));
}

void RedisBackend::UpdateAsync(uint64_t epoch, UpdateFn fn, DoneFn done) {
  writer_->Submit(PendingUpdate{epoch, std::move(fn), std::move(done)});
}

Result<uint64_t> RedisBackend::MaxEpoch() {
  ASSIGN_OR_RETURN(RedisReply r, ReadCommand({"GET", epoch_key_}, false));
  if (r.is_error()) return ReplyError(r, "GET");
  if (r.is_nil()) return uint64_t{0};
  return std::strtoull(r.str.c_str(), nullptr, 10);
}

Status RedisBackend::RecordEpoch(uint64_t epoch) {
  std::string e = std::to_string(epoch);
  redis::RedisPool::Lease conn = master_pool_.Get();
  ASSIGN_OR_RETURN(RedisReply r, conn->Command({"FCALL", "halo_record_epoch", "1", epoch_key_, e}));
  if (r.IsErrorCode("STALE")) return StaleEpoch(epoch, StaleValue(r));
  if (r.is_error()) return ReplyError(r, "FCALL halo_record_epoch");
  return Status::Ok();
}

void RedisBackend::CommitGroup(std::vector<PendingUpdate>& group, std::vector<Status>* results) {
  results->assign(group.size(), Status::Ok());
  ForEachEpochRun(group, [&](size_t begin, size_t end) { CommitRun(group, begin, end, results); });
}

void RedisBackend::CommitRun(std::vector<PendingUpdate>& group, size_t begin, size_t end,
                             std::vector<Status>* results) {
  const uint64_t epoch = group[begin].epoch;
  // Refuse a stale run before its functions run (and read); halo_commit checks again
  // atomically, since an epoch may be recorded in between.
  Result<RedisReply> recorded = writer_conn_.Command({"GET", epoch_key_});
  if (!recorded.ok()) {
    for (size_t i = begin; i < end; ++i) (*results)[i] = recorded.status();
    return;
  }
  uint64_t now = recorded->is_nil() ? 0 : std::strtoull(recorded->str.c_str(), nullptr, 10);
  if (epoch < now) {
    for (size_t i = begin; i < end; ++i) (*results)[i] = StaleEpoch(epoch, now);
    return;
  }
  MasterView view(this);
  OverlayTxn run(&view);
  std::vector<size_t> applied;
  for (size_t i = begin; i < end; ++i) {
    OverlayTxn txn(&run);
    Status s = group[i].fn(txn);
    if (!s.ok()) {
      (*results)[i] = s;
      continue;
    }
    txn.MergeInto(&run);
    applied.push_back(i);
  }
  if (applied.empty()) return;
  auto fail_all = [&](const Status& s) {
    for (size_t i : applied) (*results)[i] = s;
  };

  std::vector<std::string> keys;
  std::vector<std::string> args = {std::to_string(epoch),
                                   std::to_string(options_.key_prefix.size() + 2)};
  for (const auto& [key, value] : run.writes()) {
    keys.push_back(DataKey(key));
    args.push_back(value ? "p" : "d");
    args.push_back(value ? *value : std::string());
  }
  std::string numkeys = std::to_string(keys.size() + 2);
  std::vector<std::string_view> argv = {"FCALL", "halo_commit", numkeys, epoch_key_, index_key_};
  for (const std::string& k : keys) argv.push_back(k);
  for (const std::string& a : args) argv.push_back(a);
  Result<RedisReply> r = writer_conn_.Command(argv);
  commits_.fetch_add(1);
  if (!r.ok()) return fail_all(r.status());
  if (r->IsErrorCode("STALE")) return fail_all(StaleEpoch(epoch, StaleValue(*r)));
  if (r->is_error()) return fail_all(ReplyError(*r, "FCALL halo_commit"));
  if (options_.min_replicas_acked <= 0) return;

  std::string n = std::to_string(options_.min_replicas_acked);
  std::string ms = std::to_string(
      std::chrono::duration_cast<milliseconds>(options_.replica_wait_timeout).count());
  Result<RedisReply> w = writer_conn_.Command({"WAIT", n, ms});
  if (w.ok() && w->type == RedisReply::Type::kInteger &&
      w->integer >= options_.min_replicas_acked) {
    return;
  }
  std::string got = w.ok() ? std::to_string(w->integer) : w.status().message();
  LOG_WARN("redis: a commit group reached %s of %s replicas within %s ms; not acknowledged",
           got.c_str(), n.c_str(), ms.c_str());
  fail_all(Status::IoError("committed on the Redis master but acknowledged by " + got + " of " + n +
                           " replicas (min_replicas_acked) within replica_wait_timeout: it "
                           "may be lost if the master fails"));
}

}  // namespace halo::storage
