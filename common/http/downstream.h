// Downstream: the client side of one exchange, as a ServerExchange sees it. This is the codec
// boundary: Http1ServerConnection implements it for an HTTP/1.1 connection (framing,
// keep-alive, pipelining, timeouts), H2ServerStream for one HTTP/2 stream, so routing,
// holding, retrying and upstream streaming are the same code for both.
//
// Contract: the calls that end the response (FinishResponse, LocalResponse, AbortResponse)
// are the exchange's last action in the current call chain (it touches nothing afterwards),
// because the downstream may reset the exchange for the next request once it also has the
// whole request. The downstream never deletes itself or the exchange inside these calls.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/http/headers.h"
#include "common/http/message.h"

namespace halo::http {

class Downstream {
 public:
  virtual ~Downstream() = default;

  // A response head (a node's, or a handler's). The codec drops hop-by-hop fields and picks the
  // framing.
  virtual void StartResponse(const Response& head) = 0;
  // A piece of the (de-chunked) body, queued; FlushResponse() sends what is queued.
  virtual void ResponseBody(std::string_view data) = 0;
  // Sends what is queued; returns the bytes the client has not taken yet (flow control: the
  // exchange pauses the node above a high-water mark and resumes on OnDownstreamDrained).
  virtual size_t FlushResponse() = 0;
  // The streamed response ended (trailers for chunked answers).
  virtual void FinishResponse(const Headers& trailers) = 0;
  // A whole small response made by the server itself (307, 503, 502/504, /_halo/*). `close` ends
  // the connection after it.
  virtual void LocalResponse(int status, std::string_view content_type, std::string_view body,
                             std::string_view extra_name, std::string_view extra_value,
                             bool close) = 0;
  // The response broke after it started: the client must see an incomplete message.
  virtual void AbortResponse() = 0;
  // Request body pacing (stop and resume delivering body bytes to the exchange).
  virtual void PauseRequestBody() = 0;
  virtual void ResumeRequestBody() = 0;

  // The connection must close after this response (a handler's "Connection: close").
  virtual void CloseAfterResponse() = 0;

  virtual const std::string& client_ip() const = 0;
  // The client came over TLS.
  virtual bool secure() const = 0;
  // "ip:port" of the client ("[ip]:port" for IPv6).
  virtual const std::string& peer_address() const = 0;
  // The client speaks HTTP/2 (an H2ServerStream), not HTTP/1.x.
  virtual bool http2() const = 0;
  // The request asked for HEAD (local answers carry no body).
  virtual bool head_request() const = 0;
};

}  // namespace halo::http
