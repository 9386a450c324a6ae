#include "common/redis/redis_conn.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include "common/logging.h"

namespace halo::redis {
namespace {

timeval ToTimeval(Duration d) {
  int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return timeval{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
}

RedisReply Copy(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(Copy(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
  }
  return out;
}

// A short-lived connection for discovery (Sentinel, INFO).
Result<RedisReply> OneShot(const std::string& addr, const std::vector<std::string_view>& argv,
                           Duration timeout) {
  std::string host;
  int port = 0;
  RETURN_IF_ERROR(SplitHostPort("address", addr, &host, &port));
  redisContext* c = redisConnectWithTimeout(host.c_str(), port, ToTimeval(timeout));
  if (c == nullptr || c->err) {
    std::string why = c ? c->errstr : "out of memory";
    if (c) redisFree(c);
    return Status::Unavailable(addr + ": " + why);
  }
  redisSetTimeout(c, ToTimeval(timeout));
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (std::string_view a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(args.size()), args.data(), lens.data()));
  if (r == nullptr) {
    std::string why = c->errstr;
    redisFree(c);
    return Status::Unavailable(addr + ": " + why);
  }
  RedisReply out = Copy(r);
  freeReplyObject(r);
  redisFree(c);
  return out;
}

std::string Field(const std::string& text, const std::string& name) {
  size_t at = text.find(name + "=");
  if (at == std::string::npos) return "";
  at += name.size() + 1;
  size_t end = text.find_first_of(",\r\n", at);
  return text.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// The value of `name:` on its own line of an INFO reply; "" if absent.
std::string InfoField(const std::string& info, const std::string& name) {
  size_t at = info.find("\n" + name + ":");
  if (at == std::string::npos) return "";
  at += name.size() + 2;
  size_t end = info.find_first_of("\r\n", at);
  return info.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// The first online replica listed by the master's INFO replication; "" if none.
std::string ReplicaFromInfo(const std::string& info) {
  size_t at = 0;
  while ((at = info.find("slave", at)) != std::string::npos) {
    size_t eol = info.find('\n', at);
    std::string line = info.substr(at, eol == std::string::npos ? std::string::npos : eol - at);
    at += 5;
    if (line.find(":ip=") == std::string::npos) continue;
    if (Field(line, "state") != "online") continue;
    return Field(line, "ip") + ":" + Field(line, "port");
  }
  return "";
}

}  // namespace

Result<std::string> AskSentinels(const RedisOptions& options) {
  std::string errors;
  for (const std::string& s : options.sentinels) {
    Result<RedisReply> r = OneShot(s, {"SENTINEL", "get-master-addr-by-name", options.master_name},
                                   options.op_timeout);
    if (!r.ok()) {
      errors += "; " + r.status().message();
      continue;
    }
    if (r->type != RedisReply::Type::kArray || r->elements.size() != 2) {
      errors += "; " + s + ": does not know master \"" + options.master_name + "\"";
      continue;
    }
    return r->elements[0].str + ":" + r->elements[1].str;
  }
  return Status::Unavailable("no Sentinel gave the master's address" + errors);
}

RedisConn::RedisConn(RedisOptions options, Role role,
                     std::shared_ptr<std::atomic<uint64_t>> generation)
    : options_(std::move(options)), role_(role), generation_(std::move(generation)) {}

RedisConn::~RedisConn() { Close(); }

void RedisConn::Close() {
  if (ctx_ != nullptr) redisFree(ctx_);
  ctx_ = nullptr;
  client_id_ = 0;
  run_id_.clear();
}

Result<std::string> RedisConn::FindServer() {
  std::string master = options_.address;
  if (master.empty()) {
    ASSIGN_OR_RETURN(master, AskSentinels(options_));
  }
  if (role_ == Role::kMaster) return master;
  Result<RedisReply> info = OneShot(master, {"INFO", "replication"}, options_.op_timeout);
  if (info.ok() && info->type == RedisReply::Type::kString) {
    std::string replica = ReplicaFromInfo(info->str);
    if (!replica.empty()) return replica;
  }
  return master;  // no online replica: read from the master
}

Status RedisConn::Connect() {
  Close();
  if (generation_) seen_generation_ = generation_->load();
  ASSIGN_OR_RETURN(std::string addr, FindServer());
  std::string host;
  int port = 0;
  RETURN_IF_ERROR(SplitHostPort("redis server", addr, &host, &port));
  ctx_ = redisConnectWithTimeout(host.c_str(), port, ToTimeval(options_.op_timeout));
  if (ctx_ == nullptr || ctx_->err) {
    std::string why = ctx_ ? ctx_->errstr : "out of memory";
    Close();
    return Status::Unavailable("redis " + addr + ": " + why);
  }
  server_ = addr;
  redisSetTimeout(ctx_, ToTimeval(options_.op_timeout));
  redisEnableKeepAlive(ctx_);
  auto fail = [&](const std::string& what, const Result<RedisReply>& r) {
    std::string why = r.ok() ? r->str : r.status().message();
    Close();
    return Status::Unavailable("redis " + addr + ": " + what + ": " + why);
  };
  if (!options_.password.empty()) {
    std::vector<std::string_view> auth = {"AUTH"};
    if (!options_.username.empty()) auth.push_back(options_.username);
    auth.push_back(options_.password);
    Result<RedisReply> r = Command(auth);
    if (!r.ok() || r->is_error()) return fail("AUTH", r);
  }
  if (options_.db != 0) {
    std::string db = std::to_string(options_.db);
    Result<RedisReply> r = Command({"SELECT", db});
    if (!r.ok() || r->is_error()) return fail("SELECT", r);
  }
  Result<RedisReply> id = Command({"CLIENT", "ID"});
  if (!id.ok() || id->type != RedisReply::Type::kInteger) return fail("CLIENT ID", id);
  client_id_ = id->integer;
  Result<RedisReply> info = Command({"INFO", "server"});
  if (!info.ok() || info->type != RedisReply::Type::kString) return fail("INFO server", info);
  run_id_ = InfoField(info->str, "run_id");
  if (role_ == Role::kMaster && !options_.sentinels.empty()) {
    // A Sentinel may still name a demoted master for a moment: check.
    Result<RedisReply> role = Command({"ROLE"});
    if (!role.ok() || role->type != RedisReply::Type::kArray || role->elements.empty() ||
        role->elements[0].str != "master") {
      return fail("ROLE", Status::Unavailable("not a master (yet)"));
    }
  }
  return Status::Ok();
}

Status RedisConn::EnsureConnected() {
  if (ctx_ != nullptr && generation_ && generation_->load() != seen_generation_) {
    LOG_INFO("redis: the Sentinels switched master; reconnecting");
    Close();
  }
  if (ctx_ != nullptr) return Status::Ok();
  return Connect();
}

Result<RedisReply> RedisConn::Read() {
  void* raw = nullptr;
  if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
    std::string why = ctx_->errstr;
    Close();
    return Status::Timeout("redis " + server_ + ": no reply (" + why + ")");
  }
  auto* r = static_cast<redisReply*>(raw);
  RedisReply out = Copy(r);
  freeReplyObject(r);
  if (out.IsErrorCode("READONLY") || out.IsErrorCode("LOADING") || out.IsErrorCode("MASTERDOWN")) {
    Close();  // a demoted or restarting server: find the master again next time
  }
  return out;
}

Result<RedisReply> RedisConn::Command(const std::vector<std::string_view>& argv) {
  RETURN_IF_ERROR(EnsureConnected());
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (std::string_view a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  if (redisAppendCommandArgv(ctx_, static_cast<int>(args.size()), args.data(), lens.data()) !=
      REDIS_OK) {
    Close();
    return Status::Unavailable("redis: out of memory");
  }
  return Read();
}

Result<std::vector<RedisReply>> RedisConn::Pipeline(
    const std::vector<std::vector<std::string>>& cmds) {
  RETURN_IF_ERROR(EnsureConnected());
  for (const std::vector<std::string>& cmd : cmds) {
    std::vector<const char*> args;
    std::vector<size_t> lens;
    for (const std::string& a : cmd) {
      args.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_, static_cast<int>(args.size()), args.data(), lens.data()) !=
        REDIS_OK) {
      Close();
      return Status::Unavailable("redis: out of memory");
    }
  }
  std::vector<RedisReply> out;
  for (size_t i = 0; i < cmds.size(); ++i) {
    ASSIGN_OR_RETURN(RedisReply r, Read());
    out.push_back(std::move(r));
  }
  return out;
}

RedisPool::RedisPool(RedisOptions options, Role role,
                     std::shared_ptr<std::atomic<uint64_t>> generation)
    : options_(std::move(options)), role_(role), generation_(std::move(generation)) {}

RedisPool::Lease RedisPool::Get() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<RedisConn> c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(c));
    }
  }
  return Lease(this, std::make_unique<RedisConn>(options_, role_, generation_));
}

void RedisPool::Return(std::unique_ptr<RedisConn> conn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < 16) idle_.push_back(std::move(conn));
}

}  // namespace halo::redis
