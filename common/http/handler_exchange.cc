#include "common/http/handler_exchange.h"

#include <algorithm>

#include "common/http/serializer.h"
#include "common/http/syntax.h"
#include "common/logging.h"

namespace halo::http {

namespace detail {

// One request's completion, shared by every copy of its HttpResponder.
struct ResponderState {
  ~ResponderState() {
    if (sent.load() || !queue) return;
    // Every copy is gone without an answer: the client gets 500 instead of waiting forever.
    // Always posted (this may run on any thread, or inside the handler).
    queue->Post([x = exchange, s = seq]() {
      if (*x) (*x)->Deliver(s, ErrorResponse(500, "the request was not answered"));
    });
  }
  void Deliver(Response r) {
    if (*exchange) (*exchange)->Deliver(seq, std::move(r));
  }

  std::shared_ptr<HandlerExchange*> exchange;
  uint64_t seq = 0;
  std::shared_ptr<LoopTaskQueue> queue;
  std::thread::id loop_thread;
  std::atomic<bool> sent{false};
  std::function<void()> on_abandoned;  // loop thread only
};

}  // namespace detail

void HttpResponder::Send(Response response) const {
  if (!state_ || state_->sent.exchange(true)) return;
  if (std::this_thread::get_id() == state_->loop_thread) {
    state_->Deliver(std::move(response));
    return;
  }
  std::shared_ptr<detail::ResponderState> st = state_;
  st->queue->Post([st, r = std::move(response)]() mutable { st->Deliver(std::move(r)); });
}

void HttpResponder::SendError(int status, std::string_view message) const {
  Send(ErrorResponse(status, message));
}

void HttpResponder::OnAbandoned(std::function<void()> cancel) const {
  if (state_) state_->on_abandoned = std::move(cancel);
}

HandlerExchange::HandlerExchange(Downstream* downstream, HttpHandler* handler,
                                 std::shared_ptr<LoopTaskQueue> queue, HttpServer::Stats* stats)
    : downstream_(downstream),
      handler_(handler),
      queue_(std::move(queue)),
      stats_(stats),
      self_(std::make_shared<HandlerExchange*>(this)),
      loop_thread_(std::this_thread::get_id()) {}

HandlerExchange::~HandlerExchange() { *self_ = nullptr; }

bool HandlerExchange::Begin(Request& req) {
  req_ = &req;
  answered_at_head_ = false;
  if (req.content_length > 0 || req.chunked) {
    if (std::optional<Response> early = handler_->CheckHead(req)) {
      ++stats_->requests;
      ++stats_->answered_at_head;
      answered_at_head_ = true;
      downstream_->CloseAfterResponse();  // the unread body makes the connection unusable
      Write(std::move(*early));           // tail
      return true;
    }
  }
  if (req.content_length > 0) {
    req.body.reserve(static_cast<size_t>(std::min<int64_t>(req.content_length, 1 << 20)));
  }
  return true;
}

void HandlerExchange::RequestBody(std::string_view data) {
  if (!answered_at_head_) req_->body.append(data);
}

void HandlerExchange::RequestComplete(const Headers&) {
  if (answered_at_head_) return;
  Request request = std::move(*req_);  // trailers included
  request.remote_addr = downstream_->peer_address();
  ++stats_->requests;
  auto rs = std::make_shared<detail::ResponderState>();
  rs->exchange = self_;
  rs->seq = ++seq_;
  rs->queue = queue_;
  rs->loop_thread = loop_thread_;
  waiting_ = true;
  current_ = rs;
  handler_->Handle(std::move(request), HttpResponder(std::move(rs)));  // may answer at once
}

void HandlerExchange::Abandon() {
  bool was_waiting = waiting_;
  waiting_ = false;
  ++seq_;  // a late answer finds no request
  std::shared_ptr<detail::ResponderState> st = current_.lock();
  current_.reset();
  if (!was_waiting || !st || st->sent.load() || !st->on_abandoned) return;
  std::function<void()> cancel = std::move(st->on_abandoned);
  st->on_abandoned = nullptr;
  cancel();  // last: it may drop the handler's responder copies (and so `st`'s owners)
}

void HandlerExchange::Reset() {
  Abandon();
  req_ = nullptr;
  answered_at_head_ = false;
}

void HandlerExchange::Deliver(uint64_t seq, Response response) {
  if (!waiting_ || seq != seq_) return;
  waiting_ = false;
  Write(std::move(response));
}

void HandlerExchange::Write(Response response) {
  bool valid = response.reason.find_first_of("\r\n") == std::string::npos;
  for (Headers::Field f : response.headers) {
    if (!IsWritableField(f.name, f.value)) valid = false;
  }
  if (!valid) {
    LOG_WARN("http: handler produced an invalid response (status %d)", response.status);
    response = ErrorResponse(500, "invalid response");
    downstream_->CloseAfterResponse();
  }
  for (std::string_view v : response.headers.GetAll("connection")) {
    if (ListContainsToken(v, "close")) downstream_->CloseAfterResponse();
  }
  response.headers.Remove("content-length");
  response.content_length = static_cast<int64_t>(response.body.size());
  response.chunked = false;
  bool head = downstream_->head_request();
  if (head) response.headers.Add("Content-Length", std::to_string(response.body.size()));
  downstream_->StartResponse(response);
  if (!head) downstream_->ResponseBody(response.body);
  downstream_->FinishResponse({});  // tail: the connection may reset this exchange next
}

}  // namespace halo::http
