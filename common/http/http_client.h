// HttpClient: a buffered HTTP/1.1 request/response client on a libevent loop, over
// UpstreamConn (streaming response parser) and UpstreamPool (idle keep-alive connections per
// peer address, most recently used first), or, with HttpClientOptions::h2, over one
// multiplexed HTTP/2 session per peer (H2UpstreamSession). Used by the node's standby-to-active
// forwarder (node/http_forwarder.h) and the router's health probes and blocking leader queries
// (router/controller.h). One request per connection at a time (no pipelining); no limit on
// concurrent connections (each Send that finds no idle connection opens one).
//
// Every request ends in exactly one callback, on the loop thread, never inside Send(), with
// a ClientResult: the whole Response (any status), or a failure carrying the Reach of the
// last attempt and the UpstreamFailure that ended it:
//  - Reach::kNeverWritten (status kUnavailable, or kInvalidArgument for a request that
//    cannot be serialized): nothing left this process; safe to send elsewhere;
//  - anything else (status kTimeout): the request was written and no complete response came
//    back; the OUTCOME IS UNKNOWN and it must not be replayed blindly.
// The one transparent resend is DecideRetry's (common/http/retry_policy.h, kSamePeer): when
// a pooled connection turns out dead before any request byte was written, the request goes
// once more on a fresh connection. Nothing that was written is ever resent, whatever the
// method.
//
// Ownership and threading: loop thread only; the client owns its connections. Destroying it
// drops the callbacks of requests in flight without calling them. A callback may destroy
// the client.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/http/h2_options.h"
#include "common/http/h2_upstream_session.h"
#include "common/http/message.h"
#include "common/http/parser_options.h"
#include "common/http/upstream_outcome.h"
#include "common/http/upstream_pool.h"
#include "common/net/net_address.h"
#include "common/net/tls_context.h"
#include "common/status.h"

struct event_base;

namespace halo::http {

struct HttpClientOptions {
  int64_t connect_timeout_ms = 2000;  // also bounded by each Send's timeout
  int64_t max_idle_per_peer = 16;
  int max_peers = 64;  // distinct addresses whose connections are kept alive
  // Check a pooled connection for a close the loop has not seen yet before writing to it
  // (one MSG_PEEK recv). Only tests turn it off, to reach the resend-on-a-dead-connection path.
  bool verify_pooled = true;
  ParserOptions parser;  // response limits
  // TLS towards every peer (a client context, common/net/tls_context.h); nullptr:
  // plaintext. The name checked is the context's server_name, else the Host header's host.
  std::shared_ptr<const net::TlsContext> tls;
  // HTTP/2 to every peer: one multiplexed connection per peer (the node's standby-to-active
  // forwarding). A peer that does not offer h2 gets HTTP/1.1 from then on (the request is
  // resent, nothing having been sent).
  bool h2 = false;
  H2Options h2_options;
};

struct ClientRequest {
  std::string method = "GET";
  std::string target = "/";  // origin-form, e.g. "/v1/secret/data/a?version=2"
  Headers headers;           // Host is added when absent; Content-Length, Transfer-Encoding
                             // and Connection are the client's business and are replaced
  std::string body;
};

struct ClientResult {
  Status status;                       // ok: `response` is the peer's complete answer
  Response response;                   // ok only
  Reach reach = Reach::kNeverWritten;  // how far the last attempt got
  UpstreamFailure failure = UpstreamFailure::kConnect;  // !ok: what ended it
  int error_status = 0;  // !ok: what a proxy answers (503 never sent, 502 outcome unknown)

  bool ok() const { return status.ok(); }
  bool never_sent() const { return !ok() && reach == Reach::kNeverWritten; }
};

class HttpClient {
 public:
  using Callback = std::function<void(ClientResult)>;

  struct Stats {
    uint64_t connections_opened = 0;
    uint64_t requests = 0;
    uint64_t reused = 0;   // attempts made on a kept-alive connection
    uint64_t retried = 0;  // transparent resends (pooled connection dead before writing)
  };

  // REQUIRES: `base` outlives the client.
  explicit HttpClient(event_base* base, HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `request` to `addr` with `host_header` as Host (unless the request has one).
  // `timeout_ms` bounds the connect and then the longest silence from the peer while the
  // answer is awaited. `done` runs exactly once, later, on the loop thread.
  void Send(const net::NetAddress& addr, std::string_view host_header, ClientRequest request,
            int64_t timeout_ms, Callback done);

  // Closes every idle connection (requests in flight are not affected).
  void CloseIdle();
  // New connections use `tls` from now on (a certificate reload); idle ones are closed.
  void SetTls(std::shared_ptr<const net::TlsContext> tls) {
    options_.tls = std::move(tls);
    CloseIdle();
  }
  size_t idle_connections() const;
  size_t in_flight() const { return exchanges_.size(); }
  const Stats& stats() const { return stats_; }

 private:
  class Exchange;
  friend class Exchange;

  int SlotFor(const net::NetAddress& addr);
  std::string TlsServerName(const std::string& host_header) const;
  // Starts (or restarts) an attempt; `use_pool` false forces a fresh connection.
  void Start(Exchange* ex, bool use_pool);
  // A failure decided without a connection callback: delivered from the loop.
  void Defer(Exchange* ex, ClientResult result);
  // A connection could not even be started: 503 kConnect, delivered from the loop.
  void ConnectFailed(Exchange* ex);
  // A stream on the peer's HTTP/2 session (opened if needed); nullptr when the connect failed
  // at once. `*reused`: the session was already open.
  UpstreamStream* OpenH2(Exchange* ex, bool* reused);
  // Ends `ex` and calls its callback. False if the callback destroyed the client.
  bool Finish(Exchange* ex, ClientResult result);
  // The attempt on `ex` failed: resend (per DecideRetry) or finish.
  void Failed(Exchange* ex, UpstreamFailure why, Reach reach);

  event_base* base_;
  HttpClientOptions options_;
  UpstreamPool pool_;
  std::vector<net::NetAddress> peers_;  // index = pool slot
  // options_.h2: one session per slot; retired ones wait here for their last stream.
  std::vector<std::unique_ptr<H2UpstreamSession>> h2_;
  std::vector<std::unique_ptr<H2UpstreamSession>> h2_retired_;
  std::vector<bool> not_h2_;  // per slot: the peer does not offer h2
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Exchange>> exchanges_;
  std::shared_ptr<bool> alive_;
  Stats stats_;
};

}  // namespace halo::http
