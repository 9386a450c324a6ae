// RedisConn: one blocking connection to the Redis master (or, for reads, a replica) through
// hiredis, with every step bounded by RedisOptions::op_timeout. Used on backend threads
// only, never on an event loop.
//
// The connection is made lazily and remade after any failure: with `sentinels`, each
// command that needs a new connection asks the Sentinels for the master's address first, and
// a connection whose server answers READONLY (a demoted master), or whose Sentinel view
// changed (SentinelWatch saw +switch-master), is dropped before the next command.
//
// Outcomes of Command(): a reply (possibly an error reply) when the server answered;
// kUnavailable when nothing was sent (could not connect, AUTH or SELECT failed: the command
// certainly did not run); kTimeout when it was sent and no reply came (it may have run).
//
// Threading: not thread-safe; one owner thread at a time (RedisPool hands them out).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/redis/redis_options.h"
#include "common/redis/redis_reply.h"
#include "common/result.h"

struct redisContext;

namespace halo::redis {

enum class Role { kMaster, kReplica };

class RedisConn {
 public:
  // `generation`: bumped by SentinelWatch on +switch-master (may be null).
  RedisConn(RedisOptions options, Role role,
            std::shared_ptr<std::atomic<uint64_t>> generation = nullptr);
  ~RedisConn();
  RedisConn(const RedisConn&) = delete;
  RedisConn& operator=(const RedisConn&) = delete;

  Result<RedisReply> Command(const std::vector<std::string_view>& argv);
  // Sends all commands in one write and reads every reply (one round trip).
  Result<std::vector<RedisReply>> Pipeline(const std::vector<std::vector<std::string>>& cmds);

  // Connects now if not connected (kUnavailable with the reason otherwise).
  Status EnsureConnected();
  // The server's CLIENT ID for this connection; 0 when not connected.
  int64_t client_id() const { return client_id_; }
  // The server process's run_id (INFO server), new with every restart and different on each
  // server: a client id means something only together with it. Empty when not connected.
  const std::string& run_id() const { return run_id_; }
  // "<run_id>:<client id>": names this connection across servers and restarts.
  std::string ClientTag() const { return run_id_ + ":" + std::to_string(client_id_); }
  // "host:port" of the server last connected to.
  const std::string& server() const { return server_; }
  void Close();

 private:
  Status Connect();
  Result<std::string> FindServer();
  Result<RedisReply> Read();

  const RedisOptions options_;
  const Role role_;
  std::shared_ptr<std::atomic<uint64_t>> generation_;
  uint64_t seen_generation_ = 0;
  redisContext* ctx_ = nullptr;
  int64_t client_id_ = 0;
  std::string run_id_;
  std::string server_;
};

// Asks the Sentinels in turn for the address of `master_name`. kUnavailable naming each
// Sentinel's failure when none answers.
Result<std::string> AskSentinels(const RedisOptions& options);

// A bounded set of idle connections for threads that come and go (readers).
class RedisPool {
 public:
  RedisPool(RedisOptions options, Role role, std::shared_ptr<std::atomic<uint64_t>> generation);

  class Lease {
   public:
    Lease(RedisPool* pool, std::unique_ptr<RedisConn> conn) : pool_(pool), conn_(std::move(conn)) {}
    ~Lease() { pool_->Return(std::move(conn_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    RedisConn* operator->() { return conn_.get(); }
    RedisConn& operator*() { return *conn_; }

   private:
    RedisPool* pool_;
    std::unique_ptr<RedisConn> conn_;
  };
  Lease Get();

 private:
  void Return(std::unique_ptr<RedisConn> conn);

  const RedisOptions options_;
  const Role role_;
  std::shared_ptr<std::atomic<uint64_t>> generation_;
  std::mutex mu_;
  std::vector<std::unique_ptr<RedisConn>> idle_;
};

}  // namespace halo::redis
