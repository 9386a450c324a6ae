// StreamSocket: a non-blocking TCP socket on an event loop with input and output evbuffers,
// the data path's replacement for bufferevent. The difference is the syscall count per
// request: reads are one recv (recvmsg) into reserved evbuffer space (no FIONREAD ioctl
// first), and writes go out at once from Flush() (send, or sendmsg for several chunks), so
// EPOLLOUT is only armed when the kernel did not take everything. Steady-state keep-alive traffic
// makes no epoll_ctl calls.
//
// Handler callbacks run from the loop (never from inside Flush() or the other methods), so
// a handler may delete the socket's owner there as long as it touches nothing afterwards.
// Single-threaded (the owning worker's loop).
#pragma once

#include <event2/util.h>

#include <cstddef>

#include "common/net/net_address.h"

struct event;
struct event_base;
struct evbuffer;

namespace halo::net {

class StreamSocket {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // Bytes were appended to input().
    virtual void OnReadable() = 0;
    // A Flush() that could not finish has now written everything (output() is empty).
    virtual void OnDrained() = 0;
    // Connect() completed.
    virtual void OnConnected() = 0;
    // The peer closed its side (err 0: reading stops, writing still works) or the socket
    // failed (errno: nothing works any more); `connected` tells whether a connection was
    // ever established. Input that arrived before is still in input().
    virtual void OnClosed(int err, bool connected) = 0;
  };

  StreamSocket(event_base* base, Handler* handler);
  ~StreamSocket();  // closes the socket
  StreamSocket(const StreamSocket&) = delete;
  StreamSocket& operator=(const StreamSocket&) = delete;

  // Takes an accepted (connected) socket; reading starts enabled.
  void Adopt(evutil_socket_t fd);
  // Starts a non-blocking connect; false if the socket could not even be created.
  bool Connect(const NetAddress& addr);

  evbuffer* input() { return input_; }
  evbuffer* output() { return output_; }
  void EnableRead();
  void DisableRead();
  bool reading() const { return reading_; }
  // Writes as much of output() as the kernel takes now. A failure is reported later
  // through OnClosed (from the loop).
  void Flush();
  bool connected() const { return connected_; }
  bool closed() const { return closed_; }
  bool read_eof() const { return read_eof_; }
  // For an idle keep-alive socket: true if the peer already closed it (or sent something,
  // which an idle HTTP/1.1 server must not). One non-blocking MSG_PEEK recv.
  bool PeerClosedOrTalking();
  // Half-close: shut down our sending side (after the last response) and keep reading.
  void ShutdownWrite();
  evutil_socket_t fd() const { return fd_; }

 private:
  static void OnReadEvent(evutil_socket_t fd, short what, void* arg);
  static void OnWriteEvent(evutil_socket_t fd, short what, void* arg);
  void Setup(evutil_socket_t fd);
  void ReportClosed(int err);  // from the loop only
  void ScheduleClose(int err);

  event_base* base_;
  Handler* handler_;
  evutil_socket_t fd_ = -1;
  event* rev_ = nullptr;
  event* wev_ = nullptr;
  evbuffer* input_;
  evbuffer* output_;
  bool reading_ = false;
  bool writing_ = false;  // EPOLLOUT armed
  bool connecting_ = false;
  bool connected_ = false;
  bool closed_ = false;
  bool read_eof_ = false;
  int pending_error_ = -1;  // a write error waiting to be reported (-1: none)
};

}  // namespace halo::net
