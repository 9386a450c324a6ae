#include "common/http/client_connection.h"

namespace halo::http::detail {

ClientConnection::ClientConnection(HttpClientPool* p, uint64_t i, bufferevent* b,
                                   const ParserOptions& parser_options)
    : pool(p), id(i), bev(b), parser(parser_options) {
  idle_timer = evtimer_new(bufferevent_get_base(bev), &ClientConnection::OnIdle, this);
  bufferevent_setcb(bev, &ClientConnection::OnRead, nullptr, &ClientConnection::OnEvent, this);
}

ClientConnection::~ClientConnection() { Release(); }

void ClientConnection::Release() {
  if (idle_timer) {
    event_free(idle_timer);
    idle_timer = nullptr;
  }
  if (bev) {
    bufferevent_free(bev);
    bev = nullptr;
  }
}

void ClientConnection::OnRead(bufferevent*, void* arg) {
  auto self = static_cast<ClientConnection*>(arg)->shared_from_this();
  self->pool->OnConnRead(self.get());
}

void ClientConnection::OnEvent(bufferevent*, short what, void* arg) {
  auto self = static_cast<ClientConnection*>(arg)->shared_from_this();
  self->pool->OnConnEvent(self.get(), what);
}

void ClientConnection::OnIdle(evutil_socket_t, short, void* arg) {
  auto self = static_cast<ClientConnection*>(arg)->shared_from_this();
  self->pool->OnIdleTimeout(self.get());
}

}  // namespace halo::http::detail
