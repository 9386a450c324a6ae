// ProbeClient: one HTTP/1.1 GET over a fresh connection on an event loop, with a deadline.
// Used by the control plane for sys/health probes and the blocking sys/leader query; not on
// the data path (which streams through pooled connections instead).
//
// The callback runs exactly once on the loop thread with the whole response, or an error
// (kUnavailable: connect failed / reset; kTimeout: deadline; kInvalidArgument: bad
// response). Destroying the ProbeRequest before then cancels it silently. The callback may
// destroy the ProbeRequest.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/http/message.h"
#include "common/http/response_parser.h"
#include "common/net/net_address.h"
#include "common/result.h"

struct bufferevent;
struct event;
struct event_base;

namespace halo::router {

class ProbeRequest {
 public:
  using Callback = std::function<void(Result<http::Response>)>;

  // `host_header` is sent as Host. `max_body` bounds the response body.
  static std::unique_ptr<ProbeRequest> Get(event_base* base, const net::NetAddress& addr,
                                           std::string_view host_header,
                                           std::string_view path_and_query, int64_t timeout_ms,
                                           Callback cb);
  ~ProbeRequest();
  ProbeRequest(const ProbeRequest&) = delete;
  ProbeRequest& operator=(const ProbeRequest&) = delete;

 private:
  ProbeRequest(event_base* base, Callback cb);
  static void OnRead(bufferevent* bev, void* arg);
  static void OnEvent(bufferevent* bev, short what, void* arg);
  static void OnTimeout(int fd, short what, void* arg);
  // True when the request finished (the callback ran; *this may be gone).
  bool Feed();
  void Finish(Result<http::Response> result);
  void Release();

  event_base* base_;
  Callback cb_;
  bufferevent* bev_ = nullptr;
  event* timer_ = nullptr;
  http::ResponseParser parser_;
  bool got_bytes_ = false;
};

}  // namespace halo::router
