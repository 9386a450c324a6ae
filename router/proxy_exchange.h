// ProxyExchange: one client request on its way through the router, independent of the
// client's protocol (the Downstream it answers through).
//
// Begin() normalises the target, classifies the request and routes it: to a node (streamed
// through a pooled http::UpstreamConn), a 307, the router's own /_halo/* pages, a 503, or the
// worker's hold queue while no active node is known (failover_hold_ms, then dispatched in
// arrival order). Request bytes for the node accumulate in a replay buffer while the body is
// small enough (limits.retry_buffer_bytes), so a request that was never sent, a read that
// failed before any response byte, or a write a node refused with a 503 marked not executed can be
// sent again; larger bodies stream through without being kept. A request whose outcome is
// unknown is never replayed (502/504).
//
// The ServerExchange of a router connection (common/http/server_exchange.h): owned by it,
// reused by every request on it via Reset(), which resets all per-request state at once
// (State, assigned fresh). It sees the worker only through ExchangeContext, and time only
// through the context's TimerSource. Single-threaded on its worker.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/http/downstream.h"
#include "common/http/message.h"
#include "common/http/retry_policy.h"
#include "common/http/server_exchange.h"
#include "common/timer.h"
#include "router/cluster_snapshot.h"
#include "router/exchange_context.h"
#include "router/metrics.h"
#include "router/request_target.h"
#include "router/route_settings.h"
#include "router/route_types.h"

struct evbuffer;

namespace halo::router {

class ProxyExchange final : public http::ServerExchange, private http::UpstreamOwner {
 public:
  // Which listener the connection came in on: the client listener proxies (its /_halo/*
  // paths are 404); the admin listener serves only the router's pages (router/README.md).
  enum class Listener { kClient, kAdmin };
  ProxyExchange(ExchangeContext* ctx, http::Downstream* downstream, Listener listener);
  ~ProxyExchange() override;
  ProxyExchange(const ProxyExchange&) = delete;
  ProxyExchange& operator=(const ProxyExchange&) = delete;

  // The request head is complete; `req` stays valid until Reset(). False when the target
  // cannot be normalised safely: the caller refuses the request (400) and nothing started.
  bool Begin(http::Request& req) override;
  // A piece of the de-chunked request body.
  void RequestBody(std::string_view data) override;
  // The whole request has arrived.
  void RequestComplete(const http::Headers& trailers) override;
  // The client took the queued response bytes: resume reading the node.
  void DownstreamDrained() override;
  // (Worker) a new cluster snapshot: a held request may be routable now.
  void Redispatch();
  // The client went away or the connection is closing: release the node connection (an
  // unfinished request to a node is cut, never completed later) and leave the hold queue.
  void Abandon() override;
  // Ready for the next request.
  void Reset() override;
  // The connection answered this request itself (a parse error, a timeout).
  void CodecAnswered(int status) override { CountDone(kLocalSlot, status); }

  RequestClass cls() const { return st_.cls; }
  bool held() const { return st_.held; }
  std::list<ProxyExchange*>::iterator held_pos;  // the worker's hold-queue position

 private:
  // http::UpstreamOwner
  void OnUpstreamConnected(http::UpstreamStream* c) override;
  bool OnUpstreamHead(http::UpstreamStream* c, http::Response& resp) override;
  void OnUpstreamBody(http::UpstreamStream* c, std::string_view data) override;
  void OnUpstreamReadDone(http::UpstreamStream* c) override;
  void OnUpstreamComplete(http::UpstreamStream* c, http::Response& resp) override;
  void OnUpstreamRefused(http::UpstreamStream* c) override;
  void OnUpstreamError(http::UpstreamStream* c, http::UpstreamFailure why,
                       http::Reach reach) override;
  void OnUpstreamDrained(http::UpstreamStream* c) override;

  void OnHoldTimer();
  void Dispatch();
  void StartUpstream(int node_index);
  void ReleaseUpstream(bool reuse);
  void StopHolding();
  // What DecideRetry needs to know about this request and its current attempt.
  http::RetryInput RetryBase() const;
  void ExcludeCurrentNode();
  void AppendOut(const char* data, size_t len);
  void Flush();
  void PaceRequestBody();
  uint64_t ExcludeMask() const;
  void Answer(int status, std::string_view content_type, std::string_view body,
              std::string_view extra_name = {}, std::string_view extra_value = {},
              bool close = false);
  void AnswerUnavailable(std::string_view why);
  void AnswerHaloEndpoint();
  // Counts the finished request in the metrics and writes its access line (if on).
  void CountDone(int slot, int status);
  void LogAccess(int slot, int status);

  // Everything about the request in progress; Reset() assigns a fresh one.
  struct State {
    http::Request* req = nullptr;
    std::shared_ptr<const ClusterSnapshot> snap;  // the snapshot node_index refers to
    std::shared_ptr<const RouteSettings> settings;
    RequestClass cls = RequestClass::kRead;
    WriteMode mode = WriteMode::kForward;
    bool no_forward = false;
    bool health_query = false;   // sys/health: its status is the client's choice, not state
    bool halo_endpoint = false;  // /_halo/*: answered at RequestComplete
    bool request_done = false;
    bool response_started = false;  // a byte of a node's response went to the client
    bool answered = false;          // the response is complete (or was made by the router)
    bool held = false;
    bool overflow_moved = false;  // body bytes beyond the replay buffer went to a node
    bool body_paused = false;
    bool replayable = true;
    bool upstream_paused = false;
    bool blocking_query = false;  // counted in RouterCounters::blocking_queries
    TimePoint start{};
    std::optional<TimePoint> hold_deadline;  // one hold budget per request
    http::UpstreamStream* upstream = nullptr;
    bool upstream_pooled = false;  // it reuses a pooled connection or an open session
    int node_index = -1;
    int slot = -1;
    int attempts = 0;
    int replays = 0;             // resends after an attempt the node may have seen (DecideRetry)
    uint64_t exclude_slots = 0;  // nodes that failed this request (bit = slot)
    uint64_t exclude_version = 0;
    int status = 0;
    size_t sent = 0;  // bytes of replay_ written to the current upstream
    // For the access log (router/access_line.h).
    int rule = -1;            // the deciding classifier rule; -1 the method default
    int upstream_status = 0;  // the answering node's status; 0 none
    uint64_t request_bytes = 0, response_bytes = 0;
    TimePoint held_since{};
    Duration held_for{};   // time spent in the hold queue, all holds
    int64_t start_ms = 0;  // wall clock at Begin (only with the access log on)
    bool logged = false;
  };

  ExchangeContext* ctx_;
  http::Downstream* downstream_;
  const Listener listener_;
  std::unique_ptr<Timer> hold_timer_;
  State st_;
  // Buffers kept across requests (capacity reused), emptied by Reset() or rewritten by Begin().
  NormalizedTarget target_;  // of the request in progress (set by every Begin)
  std::string replay_;       // framed request bytes (head + body) while replayable
  evbuffer* overflow_ = nullptr;
  http::Headers trailers_;
  std::string scratch_;
  std::string request_id_;  // the access log's id for the request in progress
  std::string log_line_;
};

}  // namespace halo::router
