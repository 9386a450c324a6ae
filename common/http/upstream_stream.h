// UpstreamStream: one attempt to send a request to a peer and read its answer, whatever
// carries it: an HTTP/1.1 connection used for one exchange at a time (UpstreamConn), or a
// stream multiplexed on an HTTP/2 session (H2UpstreamStream). The owner (the router's
// ProxyExchange, HttpClient) writes the request as HTTP/1.1 bytes into output() and calls
// Send(); an HTTP/2 stream re-frames them (they are the owner's own, already validated
// bytes), so replay buffers and body streaming are the same for both protocols.
//
// The owner hears back through UpstreamOwner. Contract, which keeps lifetimes simple:
// OnUpstreamHead/Body/ReadDone/Drained must not destroy the stream; OnUpstreamComplete,
// Refused and Error are tail calls (the stream touches nothing after making them), so the
// owner may release or destroy it there. Failures come back only through OnUpstreamError,
// as an UpstreamFailure plus the Reach of the request. Single-threaded (its loop).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/http/message.h"
#include "common/http/upstream_outcome.h"

struct evbuffer;

namespace halo::http {

class UpstreamStream;

class UpstreamOwner {
 public:
  virtual ~UpstreamOwner() = default;
  virtual void OnUpstreamConnected(UpstreamStream* s) = 0;
  // Return false to refuse the response before any byte of it reaches the client; the
  // exchange then ends through OnUpstreamRefused.
  virtual bool OnUpstreamHead(UpstreamStream* s, Response& resp) = 0;
  virtual void OnUpstreamBody(UpstreamStream* s, std::string_view data) = 0;
  // End of one batch of response bytes (a good moment to flush towards the client).
  virtual void OnUpstreamReadDone(UpstreamStream* s) = 0;
  virtual void OnUpstreamComplete(UpstreamStream* s, Response& resp) = 0;  // tail call
  virtual void OnUpstreamRefused(UpstreamStream* s) = 0;                   // tail call
  // The exchange failed before a complete response: `why` ended it, `reach` says whether
  // the peer can have seen the request (common/http/upstream_outcome.h). Tail call.
  virtual void OnUpstreamError(UpstreamStream* s, UpstreamFailure why, Reach reach) = 0;
  // A write that could not finish at once has now finished (flow control).
  virtual void OnUpstreamDrained(UpstreamStream* s) = 0;
};

class UpstreamStream {
 public:
  virtual ~UpstreamStream() = default;
  // Starts an exchange: the next response answers `method`; `response_timeout_ms` is the
  // longest silence from the peer while the answer is awaited.
  virtual void Attach(UpstreamOwner* owner, std::string_view method,
                      int64_t response_timeout_ms) = 0;
  virtual void Detach() = 0;
  // The request as HTTP/1.1 bytes; Send(n) after appending `n` of them writes them now.
  virtual evbuffer* output() = 0;
  virtual void Send(size_t n) = 0;
  // Response pacing (the client reads slower than the peer answers).
  virtual void PauseReading() = 0;
  virtual void ResumeReading() = 0;
  // Request bytes may be written now (else OnUpstreamConnected follows).
  virtual bool connected() const = 0;
  // How far the current exchange got (see Reach).
  virtual Reach reach() const = 0;
  // Request bytes accepted and not yet on the wire.
  virtual size_t output_length() const = 0;
  // A completed exchange left the carrier reusable (HTTP/1.1 keep-alive; HTTP/2: always).
  virtual bool reusable() const = 0;
  // Why the connection could not be set up, when TLS said why ("" otherwise).
  virtual const std::string& tls_error() const = 0;
  // The peer slot (a router node) this stream goes to.
  virtual int slot() const = 0;
  // "http1" or "h2".
  virtual const char* protocol() const = 0;
};

}  // namespace halo::http
