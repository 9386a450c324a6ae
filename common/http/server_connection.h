// ServerConnection: one accepted HTTP/1.1 connection of HttpServer (internal). Reads and
// parses requests, runs one at a time through the handler, writes responses in order,
// enforces the timeouts, and closes gracefully (shutdown(SHUT_WR), then drain input for up
// to linger_timeout, so a client that was still sending reads the answer instead of a RST).
//
// States: kReading (parsing; read enabled) -> kHandling (request in the handler; read
// disabled, so pipelined requests wait) -> kReading again after a keep-alive response, or
// kClosing (response queued, close after it drains) -> kLingering -> closed.
// Owned by HttpServer::conns_ (shared_ptr); responders hold weak_ptrs. Loop thread only.
#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "common/http/http_server.h"
#include "common/http/request_parser.h"

namespace halo::http::detail {

struct ResponderState {
  ~ResponderState();
  // Loop thread: hands the response to the connection if it still waits for it.
  void Deliver(Response response);

  std::weak_ptr<ServerConnection> conn;
  uint64_t seq = 0;
  std::shared_ptr<LoopTaskQueue> queue;
  std::thread::id loop_thread;
  std::atomic<bool> sent{false};
};

class ServerConnection : public std::enable_shared_from_this<ServerConnection>,
                         private RequestParser::Callbacks {
 public:
  ServerConnection(HttpServer* server, bufferevent* bev, uint64_t id, std::string peer);
  ~ServerConnection() override;
  ServerConnection(const ServerConnection&) = delete;
  ServerConnection& operator=(const ServerConnection&) = delete;

  uint64_t id() const { return id_; }
  // Starts reading (or, for `reject`, answers 503 and closes).
  void Start(bool reject);
  // The response to request `seq` (ignored if that request is no longer current).
  void OnResponse(uint64_t seq, Response response);
  // Server shutdown: close now if idle, else after the request in progress.
  void BeginShutdown();
  // Immediate close, no callbacks after.
  void Close();
  bool rejecting() const { return rejecting_; }

 private:
  enum class State { kReading, kHandling, kClosing, kLingering, kClosed };

  static void OnRead(bufferevent* bev, void* arg);
  static void OnWrite(bufferevent* bev, void* arg);
  static void OnEvent(bufferevent* bev, short what, void* arg);
  static void OnTimer(evutil_socket_t, short, void* arg);

  // RequestParser::Callbacks
  void OnHead(Request& request) override;
  void OnBody(std::string_view data) override;
  void OnComplete(Request& request) override;

  void ProcessInput();
  void Dispatch();
  void WriteResponse(Response response);
  // Answers `status` with an error body and closes after it.
  void FailAndClose(int status, std::string_view message);
  void AfterDrain();
  void StartLinger();
  void ArmTimer(Duration d);
  void ArmReadTimer();
  bool IdleBetweenRequests() const;

  HttpServer* server_;
  bufferevent* bev_;
  event* timer_ = nullptr;
  const uint64_t id_;
  const std::string peer_;
  RequestParser parser_;
  State state_ = State::kReading;
  Request* current_ = nullptr;  // parser_.request() once the head is in
  uint64_t seq_ = 0;            // of the request in the handler
  bool head_request_ = false;
  bool http11_ = true;
  bool keep_alive_ = true;
  bool in_process_ = false;  // ProcessInput is on the stack
  bool wait_drain_ = false;  // too much output queued: resume reading after it drains
  bool request_started_ = false;
  bool served_one_ = false;
  bool rejecting_ = false;
  size_t requests_ = 0;
  TimePoint head_deadline_{};
};

}  // namespace halo::http::detail
