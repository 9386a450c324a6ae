#include "common/net/tcp_listener.h"

#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/logging.h"

namespace halo::net {

TcpListener::TcpListener(event_base* base, std::string what, AcceptFn on_accept)
    : what_(std::move(what)), on_accept_(std::move(on_accept)) {
  resume_ = evtimer_new(base, &TcpListener::OnResume, this);
}

TcpListener::~TcpListener() {
  if (listener_) evconnlistener_free(listener_);
  if (resume_) event_free(resume_);
}

Result<std::unique_ptr<TcpListener>> TcpListener::Create(event_base* base, const NetAddress& addr,
                                                         const std::string& what, int backlog,
                                                         bool reuse_port, AcceptFn on_accept) {
  std::unique_ptr<TcpListener> l(new TcpListener(base, what, std::move(on_accept)));
  int fd = socket(addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::FromErrno("socket for " + what, errno);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (bind(fd, addr.sa(), addr.len) != 0 || listen(fd, backlog) != 0) {
    int err = errno;
    close(fd);
    return Status::FromErrno("listen " + what, err);
  }
  l->listener_ = evconnlistener_new(base, &TcpListener::OnAccept, l.get(),
                                    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
  if (!l->listener_) {
    close(fd);
    return Status::IoError("evconnlistener_new failed for " + what);
  }
  evconnlistener_set_error_cb(l->listener_, &TcpListener::OnAcceptError);
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    l->port_ = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                        : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  }
  return l;
}

void TcpListener::OnAccept(evconnlistener*, evutil_socket_t fd, sockaddr* addr, int, void* arg) {
  auto* self = static_cast<TcpListener*>(arg);
  evutil_make_socket_closeonexec(fd);
  self->on_accept_(fd, addr);  // may destroy *this
}

void TcpListener::OnAcceptError(evconnlistener* l, void* arg) {
  auto* self = static_cast<TcpListener*>(arg);
  int err = EVUTIL_SOCKET_ERROR();
  LOG_WARN("%s: accept failed: %s; pausing accepts for 100 ms", self->what_.c_str(),
           evutil_socket_error_to_string(err));
  evconnlistener_disable(l);
  timeval tv = {0, 100 * 1000};
  evtimer_add(self->resume_, &tv);
}

void TcpListener::OnResume(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<TcpListener*>(arg);
  if (self->listener_) evconnlistener_enable(self->listener_);
}

}  // namespace halo::net
