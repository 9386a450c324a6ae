// Reach and UpstreamFailure: how far one attempt to send a request to a peer got, and what
// ended it. Every retry decision in both daemons (common/http/retry_policy.h) reads these,
// never the failure alone: whether a request may be sent again depends on whether the peer
// can have seen it, and only Reach says that.
//
// Plain values, no ownership or threading concerns. UpstreamConn (common/http/upstream_conn.h)
// reports them with every failure; HttpClient (common/http/http_client.h) hands them on.
#pragma once

#include <cstdint>

namespace halo::http {

// How far the request got. Ordered: each value implies the ones before it.
enum class Reach : uint8_t {
  // No request byte left this process (connect failed, or the connection died before the
  // kernel took anything). The peer cannot have acted on it: always safe to send again.
  kNeverWritten,
  // Some or all request bytes were handed to the kernel, and no response byte came back.
  // The peer may have read and executed it, or not: the outcome is unknown (except after a
  // reset, which says the peer did not read everything; see DecideRetry).
  kWrittenNoResponse,
  // At least one response byte arrived: the peer received the request and started to
  // answer. It may well have executed it.
  kResponseStarted,
};

// What ended an attempt that got no complete response.
enum class UpstreamFailure : uint8_t {
  kConnect,         // never connected (refused, unreachable, connect timeout)
  kClosed,          // EOF: the peer closed its side (FIN)
  kReset,           // reset (ECONNRESET/EPIPE): the peer did not read all the request bytes
  kTimeout,         // no answer within the response timeout
  kBadResponse,     // unparsable response
  kInvalidRequest,  // the request could not be serialized (bad header): nothing was attempted
  kNotH2,           // the peer does not speak HTTP/2 (ALPN, or no SETTINGS): nothing was sent
};

// Stable lower-case names for logs and error messages.
constexpr const char* ReachName(Reach r) {
  switch (r) {
    case Reach::kNeverWritten:
      return "never written";
    case Reach::kWrittenNoResponse:
      return "written, no response byte";
    case Reach::kResponseStarted:
      return "response started";
  }
  return "?";
}

constexpr const char* UpstreamFailureName(UpstreamFailure f) {
  switch (f) {
    case UpstreamFailure::kConnect:
      return "connect failed";
    case UpstreamFailure::kClosed:
      return "connection closed";
    case UpstreamFailure::kReset:
      return "connection reset";
    case UpstreamFailure::kTimeout:
      return "no answer in time";
    case UpstreamFailure::kBadResponse:
      return "bad response";
    case UpstreamFailure::kInvalidRequest:
      return "invalid request";
    case UpstreamFailure::kNotH2:
      return "the peer does not speak HTTP/2";
  }
  return "?";
}

}  // namespace halo::http
