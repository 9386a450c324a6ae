#include "common/http/retry_policy.h"

namespace halo::http {
namespace {

RetryDecision Resend(bool exclude, bool fresh, bool replay, std::string_view why) {
  RetryDecision d;
  d.action = RetryAction::kResend;
  d.exclude_peer = exclude;
  d.fresh_connection = fresh;
  d.counts_as_replay = replay;
  d.reason = why;
  return d;
}

RetryDecision Fail(int status, bool unknown, std::string_view why) {
  RetryDecision d;
  d.action = RetryAction::kFail;
  d.status = status;
  d.outcome_unknown = unknown;
  d.reason = why;
  return d;
}

RetryDecision PassThrough(std::string_view why) {
  RetryDecision d;
  d.action = RetryAction::kPassThrough;
  d.reason = why;
  return d;
}

// An unknown outcome that is not replayed: 504 when the peer went silent, 502 otherwise.
RetryDecision Unknown(const RetryInput& in, std::string_view why) {
  return Fail(in.failure == UpstreamFailure::kTimeout ? 504 : 502, true, why);
}

RetryDecision DecideSamePeer(const RetryInput& in) {
  if (in.end != AttemptEnd::kFailed) return PassThrough("the peer's 503 stands");
  if (in.failure == UpstreamFailure::kInvalidRequest) {
    return Fail(503, false, "the request could not be written; never sent");
  }
  if (in.reach == Reach::kNeverWritten && in.failure == UpstreamFailure::kNotH2 && in.replayable) {
    return Resend(false, true, false, "the peer does not speak HTTP/2: again over HTTP/1.1");
  }
  if (in.reach == Reach::kNeverWritten) {
    if (in.pooled && in.failure != UpstreamFailure::kConnect && in.replayable) {
      return Resend(false, true, false,
                    "pooled connection dead before anything was written: once more on a fresh "
                    "connection");
    }
    return Fail(503, false, "never sent");
  }
  // Written (maybe answered in part), no complete response: never replayed, never a 503.
  return Fail(502, true, "sent, no complete response: outcome unknown");
}

RetryDecision DecideAnyNode(const RetryInput& in) {
  const bool read = in.kind == RequestKind::kRead;
  if (in.end != AttemptEnd::kFailed && in.client_chosen_status) {
    return PassThrough("503 chosen by the client's query: relayed as is");
  }
  if (in.end == AttemptEnd::kAnswered503) {
    if (read && in.replayable && in.other_peer && in.replays == 0) {
      return Resend(true, false, true, "read answered 503: once elsewhere");
    }
    return PassThrough("503 not marked \"not executed\": it may have run, relayed as is");
  }
  if (in.end == AttemptEnd::kNotExecuted) {
    if (!in.replayable || !in.other_peer) return PassThrough("503 and no resend possible");
    if (!read) return Resend(true, false, true, "503 not executed: held for the next active");
    if (in.replays == 0) return Resend(true, false, true, "503 not executed: once elsewhere");
    return PassThrough("503 and the read was already replayed");
  }
  if (in.reach == Reach::kNeverWritten && in.failure == UpstreamFailure::kNotH2 && in.replayable) {
    return Resend(false, true, false, "the node does not speak HTTP/2: again over HTTP/1.1");
  }
  if (in.reach == Reach::kNeverWritten) {
    if (!in.other_peer) return Fail(503, false, "never written and no node can take it");
    if (in.failure == UpstreamFailure::kConnect) {
      return Resend(true, false, false, "connect failed: another node");
    }
    if (!in.replayable) return Fail(503, false, "never written but no longer replayable");
    return Resend(true, false, false, "connection closed before any byte left: retried");
  }
  if (in.reach == Reach::kWrittenNoResponse && in.failure == UpstreamFailure::kReset) {
    // A node that read the whole request and then stopped closes with a FIN; a reset means
    // unread request bytes, so it never saw all of this request (the router never pipelines).
    if (!in.replayable) return Fail(502, true, "reset after a body that is no longer held");
    if (!in.other_peer) return Fail(503, false, "reset before reading it all, no node left");
    return Resend(true, false, false, "reset before any response byte: retried");
  }
  // Sent and the peer may have acted on it.
  if (read && in.replayable && in.other_peer && in.replays == 0) {
    return Resend(true, false, true, "read with an unknown outcome: once elsewhere");
  }
  return Unknown(in, "sent, no complete response: outcome unknown, not replayed");
}

}  // namespace

RetryDecision DecideRetry(const RetryInput& in) {
  if (in.response_forwarded) {
    RetryDecision d;
    d.action = RetryAction::kAbort;
    d.outcome_unknown = true;
    d.reason = "response bytes already reached the client";
    return d;
  }
  return in.scope == RetryScope::kSamePeer ? DecideSamePeer(in) : DecideAnyNode(in);
}

}  // namespace halo::http
