// Http1Connection: one client HTTP/1.1 connection on a worker: the codec side of the router.
//
// Parses requests with the strict streaming parser (hard rejects: 400/413/431/501/505 and
// close), enforces the header / idle timeouts (408) and lingering close, frames responses
// (Content-Length, chunked, or close-delimited for HTTP/1.0), keeps connections alive and
// serves pipelined requests one at a time. Everything about where a request goes is its
// ProxyExchange's business, reached through the Downstream interface this class implements
// (the boundary an HTTP/2 stream or a TLS transport will plug into).
//
// Lifetime: created by the worker on accept; deletes itself when the connection ends, only
// from its own loop callbacks (never inside a parser callback or a Downstream call).
#pragma once

#include <event2/util.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/http/downstream.h"
#include "common/http/request_parser.h"
#include "common/net/stream_socket.h"
#include "router/proxy_exchange.h"
#include "router/proxy_headers.h"
#include "router/route_settings.h"

struct event;
struct sockaddr;

namespace halo::router {

class Worker;

class Http1Connection : private http::RequestParser::Callbacks,
                        private net::StreamSocket::Handler,
                        private http::Downstream {
 public:
  Http1Connection(Worker* worker, evutil_socket_t fd, const sockaddr* peer);
  ~Http1Connection() override;
  Http1Connection(const Http1Connection&) = delete;
  Http1Connection& operator=(const Http1Connection&) = delete;

  // SIGTERM: close now if idle, else after the exchange in progress.
  void BeginDrain();

 private:
  enum class Phase : uint8_t { kIdle, kHead, kExchange };
  enum class TimerUse : uint8_t { kNone, kIdle, kHeader, kBody, kClose, kLinger };

  // http::RequestParser::Callbacks
  void OnHead(http::Request& req) override;
  void OnBody(std::string_view data) override;
  void OnComplete(http::Request& req) override;
  // StreamSocket::Handler
  void OnReadable() override;
  void OnDrained() override;
  void OnConnected() override {}
  void OnClosed(int err, bool connected) override;
  // http::Downstream
  void StartResponse(const http::Response& head) override;
  void ResponseBody(std::string_view data) override;
  size_t FlushResponse() override;
  void FinishResponse(const http::Headers& trailers) override;
  void LocalResponse(int status, std::string_view content_type, std::string_view body,
                     std::string_view extra_name, std::string_view extra_value,
                     bool close) override;
  void AbortResponse() override;
  void PauseRequestBody() override;
  void ResumeRequestBody() override;
  const std::string& client_ip() const override { return client_ip_; }
  bool head_request() const override { return head_request_; }

  static void OnTimer(evutil_socket_t fd, short what, void* arg);
  static void OnDeferred(evutil_socket_t fd, short what, void* arg);
  void ProcessInput();
  void HandleParseError();
  void ScheduleDeferred();
  void FinishExchange();
  void CloseSoon();
  void Linger();
  void ArmTimer(TimerUse use, int64_t ms);
  void CountLocal(int status);

  Worker* worker_;
  net::StreamSocket sock_;
  event* timer_ = nullptr;
  event* deferred_ = nullptr;  // finish an exchange / resume input from the loop
  TimerUse timer_use_ = TimerUse::kNone;
  std::string client_ip_;
  std::shared_ptr<const RouteSettings> settings_;  // of the connection (parser limits)
  std::unique_ptr<http::RequestParser> parser_;
  std::unique_ptr<ProxyExchange> exchange_;
  Phase phase_ = Phase::kIdle;
  bool closing_ = false;
  bool in_process_ = false;
  bool input_paused_ = false;
  bool drain_ = false;
  bool lingering_ = false;
  bool linger_needed_ = false;

  // --- the exchange in progress, codec side ---
  bool request_done_ = false;
  bool response_started_ = false;
  bool response_done_ = false;
  bool keep_alive_ = true;
  bool head_request_ = false;
  int minor_version_ = 1;
  BodyFraming framing_ = BodyFraming::kNone;
  int64_t start_us_ = 0;
  std::string scratch_;
};

}  // namespace halo::router
