// HandlerExchange: the node's ServerExchange. It shows the head of a request with a body to
// HttpHandler::CheckHead first (an answer there is sent at once, with Connection: close, and
// the body is never read: the same early final answer `Expect: 100-continue` gets), else
// collects the whole request (head and body) and hands it to the HttpHandler with an
// HttpResponder; the response, given later and from
// any thread, is written through the Downstream with Content-Length framing (HEAD: the
// length announced, no body). Handler-made fields that cannot be written (CR, LF, NUL, a
// bad name) turn the answer into a 500; a "Connection: close" field closes the connection
// after the answer. When the client goes away before the answer (Abandon), the handler's
// HttpResponder::OnAbandoned callback runs. Owned by its Http1ServerConnection; loop thread only,
// except HttpResponder::Send (see common/http/http_server.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <thread>

#include "common/http/downstream.h"
#include "common/http/http_server.h"
#include "common/http/server_exchange.h"

namespace halo::http {

class HandlerExchange final : public ServerExchange {
 public:
  HandlerExchange(Downstream* downstream, HttpHandler* handler,
                  std::shared_ptr<LoopTaskQueue> queue, HttpServer::Stats* stats);
  ~HandlerExchange() override;
  HandlerExchange(const HandlerExchange&) = delete;
  HandlerExchange& operator=(const HandlerExchange&) = delete;

  bool Begin(Request& req) override;
  void RequestBody(std::string_view data) override;
  void RequestComplete(const Headers& trailers) override;
  void DownstreamDrained() override {}
  void Abandon() override;
  void Reset() override;
  void CodecAnswered(int) override {}

  // Loop thread: the answer to request `seq` (dropped unless that request is current and
  // unanswered).
  void Deliver(uint64_t seq, Response response);

 private:
  // Writes `response` through the downstream (the exchange's last action).
  void Write(Response response);

  Downstream* downstream_;
  HttpHandler* handler_;
  std::shared_ptr<LoopTaskQueue> queue_;
  HttpServer::Stats* stats_;
  // Cleared when this exchange is destroyed: posted answers check it on the loop thread.
  std::shared_ptr<HandlerExchange*> self_;
  std::thread::id loop_thread_;
  Request* req_ = nullptr;
  uint64_t seq_ = 0;
  bool waiting_ = false;  // the handler has the request and has not answered
  // The current request's completion, to tell its handler when the client goes away.
  std::weak_ptr<detail::ResponderState> current_;
  bool answered_at_head_ = false;
};

}  // namespace halo::http
