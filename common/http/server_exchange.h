// ServerExchange: what one request is to the HTTP server connection that carries it. The
// connection (Http1ServerConnection; an HTTP/2 stream later) parses and frames; the exchange
// decides what the answer is and gives it through the Downstream it was made with. The
// router's ProxyExchange and the node's HandlerExchange are the two implementations.
//
// Order of calls for each request: Begin, RequestBody* , RequestComplete; DownstreamDrained
// whenever queued response bytes have gone out; Abandon when the client goes away or the
// connection must close; Reset before the next request on the same connection. The exchange
// answers (Downstream::FinishResponse/LocalResponse/AbortResponse) at any point after Begin,
// even before the request is complete. Single-threaded: the connection's loop thread.
#pragma once

#include <string_view>

#include "common/http/headers.h"
#include "common/http/message.h"

namespace halo::http {

class ServerExchange {
 public:
  virtual ~ServerExchange() = default;

  // The request head is complete; `req` stays valid until Reset() (the exchange may move
  // from it once RequestComplete has been called). False refuses the request with 400
  // before anything started (e.g. a target that cannot be normalised safely).
  virtual bool Begin(Request& req) = 0;
  // A piece of the de-chunked request body (only valid during the call).
  virtual void RequestBody(std::string_view data) = 0;
  // The whole request has arrived.
  virtual void RequestComplete(const Headers& trailers) = 0;
  // The client took the queued response bytes (flow control).
  virtual void DownstreamDrained() = 0;
  // The client went away or the connection is closing: stop, release what is held.
  virtual void Abandon() = 0;
  // Ready for the next request.
  virtual void Reset() = 0;
  // The connection answered the current request itself (parse error 4xx/5xx, 408): for
  // the exchange's metrics. Called at most once per request, never after the exchange
  // answered.
  virtual void CodecAnswered(int status) = 0;
};

}  // namespace halo::http
