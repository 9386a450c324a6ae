// Http1ServerConnection: one accepted HTTP/1.1 client connection, the server side of both
// daemons. Parses requests with the strict streaming parser (hard rejects: 400/413/414/417/
// 431/501/505, answered, then a lingering close), answers `Expect: 100-continue` (100 before
// the body is read; a final answer sent instead closes the connection after it), enforces
// the timeouts (first request, head, body silence, keep-alive idle, write progress: 408 or a
// close), holds each body's reservation in the process's BodyBudget (the declared length
// at the head, before the exchange sees the request; a chunked body as it arrives; 503 +
// Retry-After and a close when it does not fit), frames responses (Content-Length, chunked, or
// close-delimited for HTTP/1.0), keeps connections alive and serves pipelined requests one at a
// time, in order (the next one is not parsed until the current response is queued and the output is
// below a high-water mark). While a request is in flight the socket is still read (pipelined bytes
// are buffered up to a high-water mark), so a client that closes or resets is seen at once:
// the exchange is abandoned and the connection freed, even if the client only half-closed.
// What a request means is the ServerExchange's business: the router's
// ProxyExchange or the node's HandlerExchange, reached through the Downstream interface this
// class implements (the boundary an HTTP/2 stream or TLS will plug into).
//
// Lingering close (nginx's): after the last answer, if the client may still be sending, shut
// our sending side, read and drop input for linger_timeout, then close, so that the client
// reads the answer instead of a reset.
//
// Lifetime: created by the host on accept; deletes itself when the connection ends, only from
// its own loop callbacks (never inside a parser callback or a Downstream call), telling the
// host from its destructor. The host may delete it at any time (server teardown). Loop thread
// only; timers come from the host's TimerSource (a fake clock in tests).
#pragma once

#include <event2/util.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/http/downstream.h"
#include "common/http/framing.h"
#include "common/http/request_parser.h"
#include "common/http/server_connection.h"
#include "common/http/server_connection_host.h"
#include "common/net/stream_socket.h"
#include "common/timer.h"

struct event;
struct event_base;
struct sockaddr;

namespace halo::http {

class Http1ServerConnection : public ServerConnection,
                              private RequestParser::Callbacks,
                              private net::StreamSocket::Handler,
                              private Downstream {
 public:
  // Takes ownership of the accepted socket `fd`.
  Http1ServerConnection(event_base* base, TimerSource* timers, ServerConnectionHost* host,
                        std::shared_ptr<const ServerConnectionOptions> options, evutil_socket_t fd,
                        const sockaddr* peer);
  ~Http1ServerConnection() override;
  Http1ServerConnection(const Http1ServerConnection&) = delete;
  Http1ServerConnection& operator=(const Http1ServerConnection&) = delete;

  // Answers `status` with {"errors":[message]} before reading anything, then closes
  // (e.g. 503 over the connection limit). Call right after construction.
  void Refuse(int status, std::string_view message);
  // Drain: close now if idle, else after the exchange in progress.
  void BeginDrain() override;
  bool idle() const override { return phase_ == Phase::kIdle && !closing_; }

 private:
  enum class Phase : uint8_t { kIdle, kHead, kExchange };
  enum class TimerUse : uint8_t { kNone, kIdle, kHeader, kBody, kClose, kLinger };

  // RequestParser::Callbacks
  void OnHead(Request& req) override;
  void OnBody(std::string_view data) override;
  void OnComplete(Request& req) override;
  // StreamSocket::Handler
  void OnReadable() override;
  void OnDrained() override;
  void OnConnected() override {}
  void OnClosed(int err, bool connected) override;
  // Downstream
  void StartResponse(const Response& head) override;
  void ResponseBody(std::string_view data) override;
  size_t FlushResponse() override;
  void FinishResponse(const Headers& trailers) override;
  void LocalResponse(int status, std::string_view content_type, std::string_view body,
                     std::string_view extra_name, std::string_view extra_value,
                     bool close) override;
  void AbortResponse() override;
  void PauseRequestBody() override;
  void ResumeRequestBody() override;
  void CloseAfterResponse() override { keep_alive_ = false; }
  const std::string& client_ip() const override { return client_ip_; }
  bool secure() const override { return sock_->secure(); }
  const std::string& peer_address() const override { return peer_address_; }
  bool head_request() const override { return head_request_; }
  bool http2() const override { return false; }

  static void OnDeferred(evutil_socket_t fd, short what, void* arg);
  void OnTimer();
  void OnWriteTimeout();
  // The first bytes are the HTTP/2 connection preface: hand the socket to an
  // H2ServerConnection and delete *this (true). False: HTTP/1.1, or wait for more bytes.
  bool HandOffToH2();
  void ProcessInput();
  void HandleParseError();
  void ScheduleDeferred();
  void FinishExchange();
  void ResponseQueued();
  void CloseSoon();
  void Linger();
  void ArmTimer(TimerUse use, Duration d);
  void Flush();
  void CodecAnswer(int status, std::string_view message);
  bool KeepAliveAllowed() const;
  // The body budget (ServerConnectionOptions::body_budget): take `n` more bytes for the
  // request in progress; give back all of them.
  bool ReserveBody(uint64_t n);
  void ReleaseBody();
  // No room for this body: 503 + Retry-After, close (before its bytes are read).
  void RefuseBody();

  event_base* base_;
  TimerSource* timers_;
  ServerConnectionHost* host_;
  std::shared_ptr<const ServerConnectionOptions> options_;
  std::unique_ptr<net::StreamSocket> sock_;  // moves to an H2ServerConnection at the preface
  std::unique_ptr<Timer> timer_;
  std::unique_ptr<Timer> write_timer_;
  event* deferred_ = nullptr;  // finish an exchange / resume input from the loop
  TimerUse timer_use_ = TimerUse::kNone;
  std::string client_ip_;
  std::string peer_address_;
  RequestParser parser_;
  std::unique_ptr<ServerExchange> exchange_;
  Phase phase_ = Phase::kIdle;
  bool closing_ = false;
  bool in_process_ = false;
  bool input_paused_ = false;
  bool drain_ = false;
  bool lingering_ = false;
  bool linger_needed_ = false;
  bool wait_output_ = false;    // next request waits until the output drains
  bool pipeline_full_ = false;  // reading stopped: pipelined input at the high-water mark
  bool handed_off_ = false;     // the socket went to an H2ServerConnection
  size_t requests_ = 0;

  // --- the exchange in progress, codec side ---
  bool request_done_ = false;
  bool response_started_ = false;
  bool response_done_ = false;
  bool keep_alive_ = true;
  bool head_request_ = false;
  bool expect_continue_ = false;  // the client waits for 100 before sending its body
  bool request_chunked_ = false;
  uint64_t body_reserved_ = 0;  // held in options_->body_budget for this request
  int minor_version_ = 1;
  BodyFraming framing_ = BodyFraming::kNone;
  std::string scratch_;
};

}  // namespace halo::http
