// UpstreamConn: one HTTP/1.1 connection from a worker to a node, used for one exchange at a
// time and kept alive between exchanges in the worker's UpstreamPool.
//
// The request side is the owner's business: it appends bytes to output() (evbuffer moves or
// small copies). The response side is parsed here with the streaming ResponseParser and
// reported to the owner as it arrives. Contract for owners, which keeps the object's
// lifetime simple: OnHead/OnBody run inside parsing and must not destroy this connection;
// OnComplete and OnError are tail calls (this object touches nothing after making them), so
// the owner may release or destroy the connection there.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/http/message.h"
#include "common/http/response_parser.h"
#include "router/net_address.h"

struct bufferevent;
struct evbuffer;
struct event_base;

namespace halo::router {

enum class UpstreamFailure : uint8_t {
  kConnect,      // never connected
  kClosed,       // EOF or reset
  kTimeout,      // connect or response timeout
  kBadResponse,  // unparsable response
};

class UpstreamConn;

class UpstreamOwner {
 public:
  virtual ~UpstreamOwner() = default;
  virtual void OnUpstreamConnected(UpstreamConn* c) = 0;
  // Return false to refuse the response (the exchange is then failed with
  // kBadResponse-like semantics through OnUpstreamRefused, before any byte reaches the client).
  virtual bool OnUpstreamHead(UpstreamConn* c, http::Response& resp) = 0;
  virtual void OnUpstreamBody(UpstreamConn* c, std::string_view data) = 0;
  virtual void OnUpstreamComplete(UpstreamConn* c, http::Response& resp) = 0;  // tail call
  virtual void OnUpstreamRefused(UpstreamConn* c) = 0;                         // tail call
  // `request_sent`: some request byte left the router. `response_started`: a response byte
  // arrived. Tail call.
  virtual void OnUpstreamError(UpstreamConn* c, UpstreamFailure why, bool request_sent,
                               bool response_started) = 0;
  // The output buffer drained (flow control for a paused client).
  virtual void OnUpstreamDrained(UpstreamConn* c) = 0;
};

class UpstreamConn {
 public:
  // The connection is not opened until Connect().
  UpstreamConn(event_base* base, int slot, const NetAddress& addr,
               const http::ParserOptions& parser_options);
  ~UpstreamConn();
  UpstreamConn(const UpstreamConn&) = delete;
  UpstreamConn& operator=(const UpstreamConn&) = delete;

  // Starts connecting; false if that failed at once (nothing to wait for).
  bool Connect(int64_t connect_timeout_ms);

  // Starts an exchange: the next response answers `method`. Reading is (re)enabled with
  // `response_timeout_ms` as the silence limit.
  void Attach(UpstreamOwner* owner, std::string_view method, int64_t response_timeout_ms);
  // Parks the connection (in the pool): any byte or close event just marks it dead.
  void Park();
  void Detach() { owner_ = nullptr; }

  evbuffer* output();
  // Call after appending to output(): accounts the bytes for "was anything sent".
  void Added(size_t n) { added_ += n; }
  void PauseReading();
  void ResumeReading();

  int slot() const { return slot_; }
  const NetAddress& address() const { return addr_; }
  bool connected() const { return connected_; }
  bool dead() const { return dead_; }
  // A completed exchange left the connection reusable (keep-alive, nothing extra received).
  bool reusable() const { return reusable_ && !dead_; }
  bool reused() const { return exchanges_ > 1; }
  bool request_sent() const;
  size_t output_length() const;

 private:
  class ParserCallbacks : public http::ResponseParser::Callbacks {
   public:
    explicit ParserCallbacks(UpstreamConn* c) : c_(c) {}
    void OnHead(http::Response& r) override;
    void OnBody(std::string_view d) override;
    void OnComplete(http::Response& r) override;

   private:
    UpstreamConn* c_;
  };

  static void OnRead(bufferevent* bev, void* arg);
  static void OnWrite(bufferevent* bev, void* arg);
  static void OnEvent(bufferevent* bev, short what, void* arg);
  // True when it made a tail call to the owner (then *this may be gone).
  bool HandleRead();
  void Fail(UpstreamFailure why);

  int slot_;
  NetAddress addr_;
  bufferevent* bev_ = nullptr;
  ParserCallbacks callbacks_;
  http::ResponseParser parser_;
  UpstreamOwner* owner_ = nullptr;
  bool connected_ = false;
  bool dead_ = false;
  bool reusable_ = false;
  bool refused_ = false;
  bool complete_ = false;
  bool response_started_ = false;
  uint64_t exchanges_ = 0;
  size_t added_ = 0;  // bytes appended to output in this exchange
};

}  // namespace halo::router
