// NodeApi: the node's HTTP API, independent of the socket layer. The server hands it each
// parsed request and a reply function; NodeApi decides, per OpenBao's rules:
//  - sys/health, sys/leader (also as a blocking query), sys/seal-status: answered locally;
//  - everything else needs the root token (X-Vault-Token or Authorization: Bearer), else 403;
//  - route, method and token are decided from the head (node/head_check.h): CheckHead
//    refuses a request with a body before the body is read;
//  - requests to a mount go to its KV engine: locally on the active node, reads locally on a
//    standby (unless disable_standby_reads), everything else to the active node: forwarded
//    with the hop marker, or 307 to its api_addr (X-Vault-No-Request-Forwarding or
//    disable_request_forwarding), or 503 when no active node is known or when the request
//    was already forwarded once;
//  - sys/step-down: steps down on the active node, forwarded like a write from a standby.
// Writes carry the active term's fencing epoch and are accepted only while
// hooks.may_write(epoch) holds; a write the storage refuses for a stale epoch is answered
// 503, never acknowledged.
//
// Blocking sys/leader: GET /v1/sys/leader?index=N&wait=30s answers at once when the known
// leader's epoch ("index") differs from N, otherwise when the leader view next changes
// (new holder, holder gone, this node activated or stood down) or after `wait`.
//
// Threading: every method runs on the event loop thread of `base`. KV writes complete on a
// backend thread and come back through `poster` (a LoopTaskQueue on `base`).
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/http/message.h"
#include "common/http/url.h"
#include "common/loop_task_queue.h"
#include "common/thread_pool.h"
#include "kv/request.h"
#include "node/api_route.h"
#include "node/forwarder.h"
#include "node/node_config.h"
#include "node/node_snapshot.h"
#include "storage/backend.h"

namespace halo::node {

// The client header that asks a standby for a 307 instead of forwarding.
inline constexpr const char kNoForwardHeader[] = "X-Vault-No-Request-Forwarding";

class NodeApi {
 public:
  using ReplyFn = std::function<void(http::Response)>;
  // Registers `cancel` to run (on the loop thread) if the client goes away before it is
  // answered; NodeApi calls it at most once, for a request it parks (sys/leader blocking).
  using OnAbandonedFn = std::function<void(std::function<void()> cancel)>;

  struct Hooks {
    std::function<bool(uint64_t epoch)> may_write;  // Elector::MayWrite (true without HA)
    std::function<bool()> step_down;                // Elector::StepDown; false if not active
  };

  // REQUIRES: every pointer outlives this object; `config` is validated.
  NodeApi(const NodeConfig& config, storage::Backend* backend, Forwarder* forwarder,
          std::shared_ptr<LoopTaskQueue> poster, event_base* base, Hooks hooks, Clock* clock);
  ~NodeApi();
  NodeApi(const NodeApi&) = delete;
  NodeApi& operator=(const NodeApi&) = delete;

  // Answers `request` through `reply`, exactly once (possibly before Handle returns), unless
  // the cancel given to `on_abandoned` ran first.
  void Handle(http::Request request, ReplyFn reply, const OnAbandonedFn& on_abandoned = {});
  // Parked blocking sys/leader queries.
  size_t parked_waiters() const { return waiters_.size(); }
  // The head of a request with a body, before the body is read: the refusal to send
  // instead (400 bad path or query, 403, 404, 405, 503 shutting down), or nullopt to read
  // the body and Handle() the request.
  std::optional<http::Response> CheckHead(const http::Request& head) const;

  // HA state changes, from the node's election wiring.
  void SetActive(uint64_t epoch, int64_t since_micros);
  void SetStandby();
  // The lock holder as last seen by the watcher. Ignored while this node is active (it is
  // the leader) and when older than the view held (a lagging read).
  void SetLeader(const LeaderView& view);
  void SetHaEnabled(bool enabled) { ha_enabled_ = enabled; }

  NodeSnapshot Snapshot() const;
  uint64_t write_epoch() const { return write_epoch_; }

  // Shutdown: parked sys/leader queries are answered now; every later request gets 503
  // "node is shutting down" with Connection: close.
  void BeginShutdown();
  // Requests received and not yet answered.
  size_t in_flight() const { return in_flight_; }

 private:
  // A parked blocking sys/leader query.
  struct Waiter {
    NodeApi* api = nullptr;
    uint64_t id = 0;
    std::string client;  // IP address, for the per-client cap
    LeaderView seen;
    bool seen_active = false;
    ReplyFn reply;
    event* timer = nullptr;
  };
  void Dispatch(http::Request& request, const ReplyFn& reply, const OnAbandonedFn& on_abandoned);
  // What the head alone decides: a refusal, or nullopt with the parsed query and the route.
  std::optional<http::Response> Precheck(const http::Request& request, http::QueryParams* query,
                                         Route* route) const;
  void HandleLeaderQuery(const http::Request& request, const http::QueryParams& query,
                         const ReplyFn& reply, const OnAbandonedFn& on_abandoned);
  void HandleStepDown(http::Request& request, const ReplyFn& reply);
  // Builds the engine request once, asks the engine whether it writes, and runs it here or
  // sends it to the active node.
  void HandleMount(const Route& route, http::Request& request, const http::QueryParams& query,
                   const ReplyFn& reply);
  // Runs `kv` on `engine`; a write's answer comes back through `poster_`.
  void RunEngine(kv::SecretsEngine& engine, const kv::KvRequest& kv, bool writes,
                 const ReplyFn& reply);
  // A request this standby must not answer itself: forward, 307 or 503.
  void SendToActive(http::Request& request, const ReplyFn& reply);
  // The epoch writes may use now, or 0 when this node must not write.
  uint64_t CurrentWriteEpoch() const;
  bool Authorized(const http::Request& request) const;
  void WakeWaiters();
  static void OnWaiterTimeout(evutil_socket_t, short, void* arg);
  // Answers parked waiter `id` (if it is still parked) with the current leader view.
  void FinishWaiter(uint64_t id);
  // Frees `w`'s timer, uncounts it and returns its reply; once `w` is out of waiters_.
  ReplyFn TakeWaiter(Waiter& w);

  const NodeConfig& config_;
  storage::Backend* const backend_;
  Forwarder* const forwarder_;
  std::shared_ptr<LoopTaskQueue> poster_;
  event_base* const base_;
  const Hooks hooks_;
  Clock* const clock_;
  std::map<std::string, std::unique_ptr<kv::SecretsEngine>> engines_;  // by mount path
  std::string cluster_id_;
  std::string hop_marker_;  // X-Halo-Forwarded between nodes (HopMarker in node/auth.h)

  bool ha_enabled_ = true;
  uint64_t write_epoch_ = 0;     // the term this node is active in; 0 = standby
  uint64_t released_epoch_ = 0;  // the last term this node held; its holder reads are stale
  int64_t active_since_micros_ = 0;
  LeaderView leader_;
  bool shutting_down_ = false;
  size_t in_flight_ = 0;
  std::map<uint64_t, Waiter> waiters_;  // parked sys/leader queries, by id (arrival order)
  uint64_t next_waiter_id_ = 0;
  std::unordered_map<std::string, size_t> waiters_per_client_;
  // Shared with posted write completions: false once this object is gone.
  std::shared_ptr<bool> alive_;
  // Reads of a backend with RemoteReads() (redis) run here, off the loop. Declared last:
  // destroyed first, finishing queued reads while the engines still exist.
  std::unique_ptr<ThreadPool> readers_;
};

// A stable identifier for the cluster, derived from its name (every node computes the same
// one): 8-4-4-4-12 hex digits.
std::string ClusterIdFor(std::string_view cluster_name);

}  // namespace halo::node
