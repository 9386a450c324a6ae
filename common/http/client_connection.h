// ClientConnection and PendingRequest: the per-connection and per-request state of
// HttpClientPool (internal). The pool holds all the logic; these carry the libevent objects
// and route their callbacks back to the pool. Loop thread only.
#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/http/http_client_pool.h"
#include "common/http/response_parser.h"

namespace halo::http::detail {

struct PendingRequest {
  enum class Phase { kQueued, kConnecting, kSent };

  PendingRequest(HttpClientPool* p, uint64_t i) : pool(p), id(i) {}
  ~PendingRequest() {
    if (timer) event_free(timer);
  }
  PendingRequest(const PendingRequest&) = delete;
  PendingRequest& operator=(const PendingRequest&) = delete;

  HttpClientPool* pool;
  uint64_t id;
  std::string method;
  std::string wire;  // the serialized request
  HttpClientPool::Callback done;
  event* timer = nullptr;
  Phase phase = Phase::kQueued;
  bool retried = false;
  ClientConnection* conn = nullptr;
  Status deferred;  // a failure decided inside Send(), delivered from the timer
};

class ClientConnection : public std::enable_shared_from_this<ClientConnection> {
 public:
  ClientConnection(HttpClientPool* pool, uint64_t id, bufferevent* bev,
                   const ParserOptions& parser_options);
  ~ClientConnection();
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  // Frees the socket and timer now (callbacks stop); the object may live on briefly.
  void Release();

  HttpClientPool* pool;
  const uint64_t id;
  bufferevent* bev;
  event* idle_timer = nullptr;
  ResponseParser parser;
  bool connected = false;
  bool reused = false;          // has completed at least one exchange
  bool response_bytes = false;  // some response byte arrived for `current`
  PendingRequest* current = nullptr;

 private:
  static void OnRead(bufferevent*, void* arg);
  static void OnEvent(bufferevent*, short what, void* arg);
  static void OnIdle(evutil_socket_t, short, void* arg);
};

}  // namespace halo::http::detail
