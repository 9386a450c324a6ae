// TcpListener: a listening TCP socket on an event loop that hands each accepted connection
// (non-blocking, close-on-exec) to a callback. Accept errors (EMFILE, ENFILE, ENOBUFS) pause
// accepting for 100 ms instead of spinning, with one warning each time. Both daemons listen
// through it. Loop thread only; destroying it closes the socket (no callback after that).
#pragma once

#include <event2/util.h>

#include <functional>
#include <memory>
#include <string>

#include "common/net/net_address.h"
#include "common/result.h"

struct event;
struct event_base;
struct evconnlistener;
struct sockaddr;

namespace halo::net {

class TcpListener {
 public:
  // The callback owns `fd` (it must close it or hand it on).
  using AcceptFn = std::function<void(evutil_socket_t fd, const sockaddr* peer)>;

  // Binds `addr` (port 0 picks a free port), listens with `backlog`, SO_REUSEADDR always and
  // SO_REUSEPORT when asked (several workers on one port). Errors: kIoError naming `what`
  // and the address (in use, no permission...).
  static Result<std::unique_ptr<TcpListener>> Create(event_base* base, const NetAddress& addr,
                                                     const std::string& what, int backlog,
                                                     bool reuse_port, AcceptFn on_accept);
  ~TcpListener();
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  // The bound port (the one picked for port 0).
  int port() const { return port_; }

 private:
  TcpListener(event_base* base, std::string what, AcceptFn on_accept);
  static void OnAccept(evconnlistener* l, evutil_socket_t fd, sockaddr* addr, int len, void* arg);
  static void OnAcceptError(evconnlistener* l, void* arg);
  static void OnResume(evutil_socket_t, short, void* arg);

  std::string what_;
  AcceptFn on_accept_;
  evconnlistener* listener_ = nullptr;
  event* resume_ = nullptr;
  int port_ = 0;
};

}  // namespace halo::net
