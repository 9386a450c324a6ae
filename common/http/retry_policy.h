// DecideRetry: the one place both daemons decide whether a request that got no usable answer
// may be sent again. A pure function (no I/O, no clock, no state): a RetryInput describing
// the attempt in, a RetryDecision out. Callers act on the decision; they do not re-derive it.
//
// The rule behind every row: never replay an unknown outcome. A request is sent again only
// when the peer provably did not act on it (Reach::kNeverWritten, a reset before any
// response byte, a 503 marked "not executed"), or when it is a read (safe to run twice) that has
// not been replayed yet and no response byte reached the client.
//
// Two scopes:
//  - kAnyNode, the router's data path (router/README.md, "Retry rules"): a resend may go to
//    another node, or wait for the next active (the router's routing picks which);
//  - kSamePeer, HttpClient (the node's forwarder to the active, the router's probes): one
//    peer, whatever the method. Only what provably never left is sent again, and only once,
//    on a fresh connection, when a pooled connection turned out dead before anything was
//    written. Written and then closed/reset/timed out without a response is an unknown
//    outcome: 502, never 503.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/http/upstream_outcome.h"

namespace halo::http {

enum class RetryScope : uint8_t {
  kAnyNode,   // router data path: another node or the next active may take a resend
  kSamePeer,  // HttpClient: one peer only
};

// Whether the request may run twice without harm (the router's classification). kSamePeer
// ignores it: the forwarder never replays what may have been executed, reads included.
enum class RequestKind : uint8_t { kRead, kWrite };

// The response header with which a node says that its 503 means "not executed" (no active,
// sealed, shutting down, never sent to the active): value "1". A 503 without it may come from
// a request that ran (a forwarded answer, a client-chosen sys/health code): never replayed.
inline constexpr const char kNotExecutedHeader[] = "X-Halo-Not-Executed";

enum class AttemptEnd : uint8_t {
  kFailed,       // no complete response: see `failure` and `reach`
  kNotExecuted,  // the peer answered 503 marked with kNotExecutedHeader
  kAnswered503,  // the peer answered 503 without that marker: it may have acted
};

struct RetryInput {
  RetryScope scope = RetryScope::kSamePeer;
  RequestKind kind = RequestKind::kWrite;
  AttemptEnd end = AttemptEnd::kFailed;
  UpstreamFailure failure = UpstreamFailure::kConnect;  // kFailed only
  Reach reach = Reach::kNeverWritten;                   // kFailed only
  // The attempt ran on a kept-alive connection taken from a pool (not opened for it).
  bool pooled = false;
  // Every byte of the request is still held, so it can be written again.
  bool replayable = true;
  // Some response byte already went on to the client (a streaming proxy only).
  bool response_forwarded = false;
  // Replays already made for this request after an attempt the peer may have seen (a 503,
  // or a read sent again after an unknown outcome). Resends of never-written attempts do
  // not count: they are bounded by `pooled` (kSamePeer) or by excluding the node (kAnyNode).
  int replays = 0;
  // kAnyNode: another node (or, for a write, the next active) may take a resend.
  bool other_peer = true;
  // The status code was picked by the client (sys/health?activecode=...): never cluster state.
  bool client_chosen_status = false;
};

enum class RetryAction : uint8_t {
  kResend,       // send the request again (see exclude_peer, fresh_connection)
  kPassThrough,  // the peer's answer (the 503) stands: hand it to the client
  kFail,         // no resend: answer `status` (503 never executed; 502/504 outcome unknown)
  kAbort,        // the client already has part of a response: close its connection
};

struct RetryDecision {
  RetryAction action = RetryAction::kFail;
  int status = 0;                 // kFail: 502, 503 or 504
  bool exclude_peer = false;      // kResend: not to the same node (until the view changes)
  bool fresh_connection = false;  // kResend: on a new connection, not one from the pool
  bool counts_as_replay = false;  // kResend: add one to RetryInput::replays next time
  bool outcome_unknown = false;   // the peer may have acted on the request
  std::string_view reason;        // static text for logs
};

RetryDecision DecideRetry(const RetryInput& in);

}  // namespace halo::http
