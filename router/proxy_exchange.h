// ProxyExchange: one client request on its way through the router, independent of the
// client's protocol (the Downstream it answers through).
//
// Begin() normalises the target, classifies the request and routes it: to a node (streamed
// through a pooled UpstreamConn), a 307, the router's own /_halo/* pages, a 503, or the
// worker's hold queue while no active node is known (failover_hold_ms, then dispatched in
// arrival order). Request bytes for the node accumulate in a replay buffer while the body is
// small enough (limits.retry_buffer_bytes), so a request that was never sent, a read that
// failed before any response byte, or a write a node refused with 503 (not executed) can be
// sent again; larger bodies stream through without being kept. A request whose outcome is
// unknown is never replayed (502/504).
//
// Owned by the connection (one per HTTP/1 connection, reused by every request on it via
// Reset()); single-threaded on its worker.
#pragma once

#include <event2/util.h>

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>

#include "common/http/downstream.h"
#include "common/http/message.h"
#include "common/http/upstream_conn.h"
#include "router/cluster_snapshot.h"
#include "router/request_target.h"
#include "router/route_settings.h"
#include "router/route_types.h"

struct evbuffer;
struct event;

namespace halo::router {

class Worker;

class ProxyExchange : private http::UpstreamOwner {
 public:
  ProxyExchange(Worker* worker, http::Downstream* downstream);
  ~ProxyExchange() override;
  ProxyExchange(const ProxyExchange&) = delete;
  ProxyExchange& operator=(const ProxyExchange&) = delete;

  // The request head is complete; `req` stays valid until Reset(). False when the target
  // cannot be normalised safely: the caller refuses the request (400) and nothing started.
  bool Begin(http::Request& req);
  // A piece of the de-chunked request body.
  void RequestBody(std::string_view data);
  // The whole request has arrived.
  void RequestComplete(const http::Headers& trailers);
  // The client took the queued response bytes: resume reading the node.
  void DownstreamDrained();
  // (Worker) a new cluster snapshot: a held request may be routable now.
  void Redispatch();
  // The client went away or the connection is closing: release the node connection (an
  // unfinished request to a node is cut, never completed later) and leave the hold queue.
  void Abandon();
  // Ready for the next request.
  void Reset();

  RequestClass cls() const { return cls_; }
  bool held() const { return held_; }
  std::list<ProxyExchange*>::iterator held_pos;  // the worker's hold-queue position

 private:
  // UpstreamOwner
  void OnUpstreamConnected(http::UpstreamConn* c) override;
  bool OnUpstreamHead(http::UpstreamConn* c, http::Response& resp) override;
  void OnUpstreamBody(http::UpstreamConn* c, std::string_view data) override;
  void OnUpstreamReadDone(http::UpstreamConn* c) override;
  void OnUpstreamComplete(http::UpstreamConn* c, http::Response& resp) override;
  void OnUpstreamRefused(http::UpstreamConn* c) override;
  void OnUpstreamError(http::UpstreamConn* c, http::UpstreamFailure why,
                       http::Reach reach) override;
  void OnUpstreamDrained(http::UpstreamConn* c) override;

  static void OnHoldTimer(evutil_socket_t fd, short what, void* arg);
  void Dispatch();
  void StartUpstream(int node_index);
  void ReleaseUpstream(bool reuse);
  void StopHolding();
  void AppendOut(const char* data, size_t len);
  void Flush();
  void PaceRequestBody();
  uint64_t ExcludeMask() const;
  void Answer(int status, std::string_view content_type, std::string_view body,
              std::string_view extra_name = {}, std::string_view extra_value = {},
              bool close = false);
  void AnswerUnavailable(std::string_view why);
  void AnswerHaloEndpoint();
  void CountDone(int slot, int status);

  Worker* worker_;
  http::Downstream* downstream_;
  event* hold_timer_ = nullptr;

  http::Request* req_ = nullptr;
  std::shared_ptr<const ClusterSnapshot> snap_;  // the snapshot node_index_ refers to
  std::shared_ptr<const RouteSettings> settings_;
  NormalizedTarget target_;
  RequestClass cls_ = RequestClass::kRead;
  WriteMode mode_ = WriteMode::kForward;
  bool no_forward_ = false;
  bool halo_endpoint_ = false;  // /_halo/*: answered at RequestComplete
  bool request_done_ = false;
  bool response_started_ = false;  // a byte of a node's response went to the client
  bool answered_ = false;          // the response is complete (or was made by the router)
  bool held_ = false;
  bool overflow_moved_ = false;  // body bytes beyond the replay buffer went to a node
  bool body_paused_ = false;
  int64_t hold_deadline_ms_ = 0;
  http::UpstreamConn* upstream_ = nullptr;
  bool upstream_paused_ = false;
  int node_index_ = -1;
  int slot_ = -1;
  int attempts_ = 0;
  int read_retries_ = 0;
  uint64_t exclude_slots_ = 0;  // nodes that failed this request (bit = slot)
  uint64_t exclude_version_ = 0;
  int status_ = 0;
  std::string replay_;  // framed request bytes (head + body) while replayable
  size_t sent_ = 0;     // bytes of replay_ written to the current upstream
  bool replayable_ = true;
  evbuffer* overflow_ = nullptr;
  http::Headers trailers_;
  int64_t start_us_ = 0;
  std::string scratch_;
};

}  // namespace halo::router
