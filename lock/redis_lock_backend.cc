#include "lock/redis_lock_backend.h"

#include <cstdlib>

#include "common/logging.h"
#include "common/redis/halo_library.h"

namespace halo::lock {

using redis::RedisReply;

namespace {

std::string Ms(Duration d) {
  int64_t ms = std::chrono::duration_cast<milliseconds>(d).count();
  return std::to_string(ms < 1 ? 1 : ms);
}

constexpr Duration kWaitPoll = milliseconds(50);

}  // namespace

RedisLockBackend::RedisLockBackend(const redis::RedisOptions& options)
    : options_(options),
      lock_key_(options.key_prefix + "lock"),
      counter_key_(options.key_prefix + "lock-epoch"),
      generation_(std::make_shared<std::atomic<uint64_t>>(0)),
      owner_(options, redis::Role::kMaster, generation_),
      reader_(options, redis::Role::kMaster, generation_) {}

RedisLockBackend::~RedisLockBackend() = default;

Result<std::unique_ptr<RedisLockBackend>> RedisLockBackend::Open(
    const redis::RedisOptions& options) {
  std::unique_ptr<RedisLockBackend> b(new RedisLockBackend(options));
  RETURN_IF_ERROR(redis::PrepareServer(b->owner_, options, "ha_storage.redis"));
  if (!options.sentinels.empty()) {
    b->watch_ = std::make_unique<redis::SentinelWatch>(options, b->generation_);
  }
  return b;
}

Result<Lease> RedisLockBackend::CallAcquire(const AcquireRequest& req,
                                            const std::string& dead_token,
                                            std::string* holder_token) {
  std::lock_guard<std::mutex> lock(owner_mu_);
  RETURN_IF_ERROR(owner_.EnsureConnected());
  std::string ttl = Ms(req.ttl);
  std::string min_epoch = std::to_string(req.min_epoch);
  std::string client = owner_.ClientTag();
  ASSIGN_OR_RETURN(RedisReply r,
                   owner_.Command({"FCALL", "halo_lock_acquire", "2", lock_key_, counter_key_,
                                   req.token, req.value, ttl, min_epoch, client, dead_token}));
  if (r.is_error()) return Status::IoError("redis halo_lock_acquire: " + r.str);
  if (r.type != RedisReply::Type::kArray || r.elements.size() != 2) {
    return Status::IoError("redis halo_lock_acquire: unexpected reply");
  }
  if (r.elements[0].integer == 1)
    return Lease{static_cast<uint64_t>(r.elements[1].integer), req.token};
  *holder_token = r.elements[1].str;
  return Status::Conflict("the lock is held by another node");
}

bool RedisLockBackend::HolderConnected(const std::string& token) {
  std::lock_guard<std::mutex> lock(reader_mu_);
  Result<RedisReply> h = reader_.Command({"HMGET", lock_key_, "token", "client"});
  if (!h.ok() || h->type != RedisReply::Type::kArray || h->elements.size() != 2) return true;
  if (h->elements[0].str != token) return true;  // changed meanwhile: try again next round
  // "<run_id>:<client id>": an id given by another server, or before a restart, says nothing
  // about connections on this one (the holder re-tags the lock at its next renewal).
  const std::string& tag = h->elements[1].str;
  size_t colon = tag.rfind(':');
  if (colon == std::string::npos || tag.compare(0, colon, reader_.run_id()) != 0) return true;
  std::string client = tag.substr(colon + 1);
  if (client.empty() || client == "0") return true;
  Result<RedisReply> list = reader_.Command({"CLIENT", "LIST", "ID", client});
  if (!list.ok()) return true;
  if (list->is_error()) {
    if (!warned_client_list_) {
      LOG_WARN(
          "ha_storage.redis: CLIENT LIST is refused (%s): a crashed active's lock is "
          "taken only after its TTL",
          list->str.c_str());
      warned_client_list_ = true;
    }
    return true;
  }
  return !list->str.empty();
}

Result<Lease> RedisLockBackend::AcquireOnce(const AcquireRequest& req) {
  std::string holder;
  Result<Lease> got = CallAcquire(req, "", &holder);
  if (got.ok() || !got.status().IsConflict()) return got;
  if (HolderConnected(holder)) return got;
  LOG_INFO("ha_storage.redis: the lock holder's connection is gone: taking the lock over");
  std::string still;
  return CallAcquire(req, holder, &still);
}

Result<Lease> RedisLockBackend::TryAcquire(const AcquireRequest& req, Duration timeout) {
  (void)timeout;  // every step is bounded by op_timeout
  RETURN_IF_ERROR(ValidateLockValue(req.value));
  return PollAcquire([&] { return AcquireOnce(req); }, req.wait, kWaitPoll, gate_);
}

Status RedisLockBackend::Renew(const Lease& lease, Duration ttl, Duration timeout) {
  (void)timeout;
  std::lock_guard<std::mutex> lock(owner_mu_);
  RETURN_IF_ERROR(owner_.EnsureConnected());
  std::string ms = Ms(ttl);
  std::string client = owner_.ClientTag();
  ASSIGN_OR_RETURN(RedisReply r, owner_.Command({"FCALL", "halo_lock_renew", "1", lock_key_,
                                                 lease.token, ms, client}));
  if (r.is_error()) return Status::IoError("redis halo_lock_renew: " + r.str);
  if (r.integer == 1) return Status::Ok();
  return Status::Conflict("the lock is no longer ours");
}

Status RedisLockBackend::Release(const Lease& lease, Duration timeout) {
  (void)timeout;
  std::lock_guard<std::mutex> lock(owner_mu_);
  ASSIGN_OR_RETURN(RedisReply r,
                   owner_.Command({"FCALL", "halo_lock_release", "1", lock_key_, lease.token}));
  if (r.is_error()) return Status::IoError("redis halo_lock_release: " + r.str);
  return Status::Ok();
}

Result<std::optional<Holder>> RedisLockBackend::ReadHolder(Duration timeout) {
  (void)timeout;
  std::lock_guard<std::mutex> lock(reader_mu_);
  ASSIGN_OR_RETURN(RedisReply r, reader_.Command({"HMGET", lock_key_, "value", "epoch"}));
  if (r.is_error()) return Status::IoError("redis HMGET: " + r.str);
  if (r.type != RedisReply::Type::kArray || r.elements.size() != 2 || r.elements[0].is_nil()) {
    return std::optional<Holder>();
  }
  return std::optional<Holder>(
      Holder{r.elements[0].str, std::strtoull(r.elements[1].str.c_str(), nullptr, 10)});
}

void RedisLockBackend::Interrupt() { gate_.Interrupt(); }

}  // namespace halo::lock
