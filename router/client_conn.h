// ClientConn: one client (downstream) HTTP/1.1 connection on a worker, and the exchange in
// progress on it: parse (strict, streaming) -> normalise -> classify -> route -> stream the
// request to a node and the response back, or answer locally (307, 503, 4xx, /_halo/*).
//
// One exchange at a time: pipelined requests wait in the input buffer until the response
// before them is complete. Request bytes for the node accumulate in a replay buffer while
// the body is small enough (limits.retry_buffer_bytes), so a request that was never sent, or
// a read that failed before any response byte, or a write a standby refused with 503, can be
// sent again; larger bodies stream through without being kept. A request whose outcome is
// unknown is never replayed (502/504).
//
// Lifetime: created by the worker on accept, deletes itself when the connection ends.
// Deletion only happens from its own libevent callbacks (never inside a parser callback).
#pragma once

#include <event2/util.h>

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>

#include "common/http/request_parser.h"
#include "router/cluster_snapshot.h"
#include "router/proxy_headers.h"
#include "router/request_target.h"
#include "router/route_settings.h"
#include "router/stream_socket.h"
#include "router/upstream_conn.h"

struct evbuffer;
struct event;
struct sockaddr;

namespace halo::router {

class Worker;

class ClientConn : private http::RequestParser::Callbacks,
                   private UpstreamOwner,
                   private StreamSocket::Handler {
 public:
  ClientConn(Worker* worker, evutil_socket_t fd, const sockaddr* peer);
  ~ClientConn() override;
  ClientConn(const ClientConn&) = delete;
  ClientConn& operator=(const ClientConn&) = delete;

  // Called by the worker when a held request may be routable now (new snapshot).
  void Redispatch();
  // SIGTERM: close now if idle, else after the exchange in progress.
  void BeginDrain();

  std::list<ClientConn*>::iterator held_pos;  // the worker's held-queue position

 private:
  enum class Phase : uint8_t { kIdle, kHead, kExchange };
  enum class TimerUse : uint8_t { kNone, kIdle, kHeader, kBody, kHold, kClose, kLinger };

  // http::RequestParser::Callbacks
  void OnHead(http::Request& req) override;
  void OnBody(std::string_view data) override;
  void OnComplete(http::Request& req) override;
  // UpstreamOwner
  void OnUpstreamConnected(UpstreamConn* c) override;
  bool OnUpstreamHead(UpstreamConn* c, http::Response& resp) override;
  void OnUpstreamBody(UpstreamConn* c, std::string_view data) override;
  void OnUpstreamReadDone(UpstreamConn* c) override;
  void OnUpstreamComplete(UpstreamConn* c, http::Response& resp) override;
  void OnUpstreamRefused(UpstreamConn* c) override;
  void OnUpstreamError(UpstreamConn* c, UpstreamFailure why, bool request_sent,
                       bool response_started) override;
  void OnUpstreamDrained(UpstreamConn* c) override;

  // StreamSocket::Handler
  void OnReadable() override;
  void OnDrained() override;
  void OnConnected() override {}
  void OnClosed(int err, bool connected) override;

  static void OnTimer(evutil_socket_t fd, short what, void* arg);
  void FlushClient();
  void Linger();

  void ProcessInput();
  void HandleParseError();
  void Dispatch();
  void StartUpstream(int node_index);
  void AppendOut(const char* data, size_t len);
  void Flush();
  void ReleaseUpstream(bool reuse);
  void PauseInput();
  void ResumeInput();
  void AnswerLocal(int status, std::string_view content_type, std::string_view body,
                   std::string_view extra_name = {}, std::string_view extra_value = {},
                   bool close = false);
  void AnswerUnavailable(std::string_view why);
  void AnswerHaloEndpoint();
  void ResponseDone();
  void FinishExchange();
  void ResetExchange();
  void CloseSoon();
  void ArmTimer(TimerUse use, int64_t ms);
  void StopHolding();
  uint64_t ExcludeMask() const;
  void CountDone(int slot, int status);

  Worker* worker_;
  StreamSocket sock_;
  event* timer_ = nullptr;
  TimerUse timer_use_ = TimerUse::kNone;
  std::string client_ip_;
  std::shared_ptr<const RouteSettings> settings_;  // of the connection (parser limits)
  std::unique_ptr<http::RequestParser> parser_;
  Phase phase_ = Phase::kIdle;
  bool closing_ = false;
  bool in_process_ = false;
  bool input_paused_ = false;
  bool drain_ = false;
  bool lingering_ = false;
  bool linger_needed_ = false;

  // --- the exchange in progress ---
  http::Request* req_ = nullptr;
  std::shared_ptr<const ClusterSnapshot> snap_;  // the snapshot node_index_ refers to
  std::shared_ptr<const RouteSettings> xsettings_;
  NormalizedTarget target_;
  RequestClass cls_ = RequestClass::kRead;
  WriteMode mode_ = WriteMode::kForward;
  bool no_forward_ = false;
  bool local_ = false;             // answered by the router (/_halo/*, 307, 503, errors)
  bool request_done_ = false;      // the parser reached the end of the request
  bool response_started_ = false;  // a response byte went to the client
  bool response_done_ = false;
  bool keep_alive_ = true;
  bool held_ = false;
  bool overflow_moved_ = false;  // body bytes beyond the replay buffer went to a node
  int64_t hold_deadline_ms_ = 0;
  UpstreamConn* upstream_ = nullptr;
  bool upstream_paused_ = false;
  int node_index_ = -1;
  int slot_ = -1;
  int attempts_ = 0;
  int read_retries_ = 0;
  uint64_t exclude_slots_ = 0;  // nodes that failed this request (bit = slot)
  uint64_t exclude_version_ = 0;
  int status_ = 0;
  BodyFraming framing_ = BodyFraming::kNone;
  std::string replay_;  // framed request bytes (head + body) while replayable
  size_t sent_ = 0;     // bytes of replay_ written to the current upstream
  bool replayable_ = true;
  evbuffer* overflow_ = nullptr;
  int64_t start_us_ = 0;
  std::string scratch_;
};

}  // namespace halo::router
