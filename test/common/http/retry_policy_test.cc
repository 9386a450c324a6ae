#include "common/http/retry_policy.h"

#include <doctest/doctest.h>

namespace halo::http {
namespace {

RetryInput Router(RequestKind kind, UpstreamFailure why, Reach reach) {
  RetryInput in;
  in.scope = RetryScope::kAnyNode;
  in.kind = kind;
  in.failure = why;
  in.reach = reach;
  return in;
}

RetryInput Router503(RequestKind kind) {
  RetryInput in;
  in.scope = RetryScope::kAnyNode;
  in.kind = kind;
  in.end = AttemptEnd::kNotExecuted;
  return in;
}

RetryInput Forwarder(UpstreamFailure why, Reach reach, bool pooled) {
  RetryInput in;
  in.scope = RetryScope::kSamePeer;
  in.kind = RequestKind::kWrite;
  in.failure = why;
  in.reach = reach;
  in.pooled = pooled;
  return in;
}

constexpr RequestKind kKinds[] = {RequestKind::kRead, RequestKind::kWrite};

// ---- router/README.md "Retry rules", one test case per row ----

TEST_CASE("DecideRetry router: connect failed (never written) -> another node") {
  for (RequestKind k : kKinds) {
    RetryDecision d = DecideRetry(Router(k, UpstreamFailure::kConnect, Reach::kNeverWritten));
    CHECK(d.action == RetryAction::kResend);
    CHECK(d.exclude_peer);
    CHECK_FALSE(d.counts_as_replay);
    CHECK_FALSE(d.outcome_unknown);
    // However many resends came before: never written is never a replay.
    RetryInput again = Router(k, UpstreamFailure::kConnect, Reach::kNeverWritten);
    again.replays = 3;
    CHECK(DecideRetry(again).action == RetryAction::kResend);
    // Nowhere to go (no other node, no hold budget for a write): 503, safe for the client.
    RetryInput none = Router(k, UpstreamFailure::kConnect, Reach::kNeverWritten);
    none.other_peer = false;
    RetryDecision n = DecideRetry(none);
    CHECK(n.action == RetryAction::kFail);
    CHECK(n.status == 503);
    CHECK_FALSE(n.outcome_unknown);
  }
}

TEST_CASE("DecideRetry router: pooled connection closed before any byte left -> retried") {
  for (RequestKind k : kKinds) {
    for (UpstreamFailure why : {UpstreamFailure::kClosed, UpstreamFailure::kReset}) {
      RetryInput in = Router(k, why, Reach::kNeverWritten);
      in.pooled = true;
      RetryDecision d = DecideRetry(in);
      CHECK(d.action == RetryAction::kResend);
      CHECK_FALSE(d.counts_as_replay);
      CHECK_FALSE(d.outcome_unknown);
    }
  }
}

TEST_CASE("DecideRetry router: reset before any response byte -> retried") {
  for (RequestKind k : kKinds) {
    RetryDecision d = DecideRetry(Router(k, UpstreamFailure::kReset, Reach::kWrittenNoResponse));
    CHECK(d.action == RetryAction::kResend);
    CHECK(d.exclude_peer);
    CHECK_FALSE(d.counts_as_replay);
    // The body streamed through and is gone: it cannot be written again.
    RetryInput gone = Router(k, UpstreamFailure::kReset, Reach::kWrittenNoResponse);
    gone.replayable = false;
    RetryDecision g = DecideRetry(gone);
    CHECK(g.action == RetryAction::kFail);
    CHECK(g.status == 502);
  }
  // A reset after response bytes arrived is not this row: the node did read the request.
  RetryDecision late =
      DecideRetry(Router(RequestKind::kWrite, UpstreamFailure::kReset, Reach::kResponseStarted));
  CHECK(late.action == RetryAction::kFail);
  CHECK(late.status == 502);
}

TEST_CASE("DecideRetry router: node answered 503 marked not executed") {
  SUBCASE("read: once elsewhere, then the 503 stands") {
    RetryDecision d = DecideRetry(Router503(RequestKind::kRead));
    CHECK(d.action == RetryAction::kResend);
    CHECK(d.exclude_peer);
    CHECK(d.counts_as_replay);
    RetryInput again = Router503(RequestKind::kRead);
    again.replays = 1;
    CHECK(DecideRetry(again).action == RetryAction::kPassThrough);
  }
  SUBCASE("write: held, retried on the next active (every time)") {
    RetryInput in = Router503(RequestKind::kWrite);
    in.replays = 5;
    RetryDecision d = DecideRetry(in);
    CHECK(d.action == RetryAction::kResend);
    CHECK(d.exclude_peer);
    in.other_peer = false;  // the hold budget is spent
    CHECK(DecideRetry(in).action == RetryAction::kPassThrough);
  }
  SUBCASE("not replayable: the 503 stands") {
    for (RequestKind k : kKinds) {
      RetryInput in = Router503(k);
      in.replayable = false;
      CHECK(DecideRetry(in).action == RetryAction::kPassThrough);
    }
  }
}

TEST_CASE("DecideRetry router: node answered 503 without the not-executed marker") {
  RetryInput read = Router503(RequestKind::kRead);
  read.end = AttemptEnd::kAnswered503;
  SUBCASE("read: once elsewhere (idempotent), then the 503 stands") {
    RetryDecision d = DecideRetry(read);
    CHECK(d.action == RetryAction::kResend);
    CHECK(d.exclude_peer);
    CHECK(d.counts_as_replay);
    read.replays = 1;
    CHECK(DecideRetry(read).action == RetryAction::kPassThrough);
  }
  SUBCASE("write: relayed as is, never replayed (it may have run)") {
    RetryInput w = read;
    w.kind = RequestKind::kWrite;
    RetryDecision d = DecideRetry(w);
    CHECK(d.action == RetryAction::kPassThrough);
    CHECK_FALSE(d.exclude_peer);
  }
}

TEST_CASE("DecideRetry router: a 503 the client chose (sys/health codes) -> relayed as is") {
  for (RequestKind k : kKinds) {
    for (AttemptEnd end : {AttemptEnd::kNotExecuted, AttemptEnd::kAnswered503}) {
      RetryInput in = Router503(k);
      in.end = end;
      in.client_chosen_status = true;
      CHECK(DecideRetry(in).action == RetryAction::kPassThrough);
    }
  }
}

TEST_CASE("DecideRetry router: FIN or timeout after sent, no response byte") {
  for (UpstreamFailure why : {UpstreamFailure::kClosed, UpstreamFailure::kTimeout}) {
    CAPTURE(UpstreamFailureName(why));
    // read: once elsewhere
    RetryDecision r = DecideRetry(Router(RequestKind::kRead, why, Reach::kWrittenNoResponse));
    CHECK(r.action == RetryAction::kResend);
    CHECK(r.exclude_peer);
    CHECK(r.counts_as_replay);
    RetryInput twice = Router(RequestKind::kRead, why, Reach::kWrittenNoResponse);
    twice.replays = 1;
    RetryDecision t = DecideRetry(twice);
    CHECK(t.action == RetryAction::kFail);
    CHECK(t.status == (why == UpstreamFailure::kTimeout ? 504 : 502));
    // write: 502 / 504, never replayed
    RetryInput w = Router(RequestKind::kWrite, why, Reach::kWrittenNoResponse);
    w.pooled = true;
    RetryDecision d = DecideRetry(w);
    CHECK(d.action == RetryAction::kFail);
    CHECK(d.status == (why == UpstreamFailure::kTimeout ? 504 : 502));
    CHECK(d.outcome_unknown);
  }
}

TEST_CASE("DecideRetry router: failure after response bytes reached the client -> abort") {
  for (RequestKind k : kKinds) {
    for (Reach reach : {Reach::kResponseStarted, Reach::kWrittenNoResponse}) {
      RetryInput in = Router(k, UpstreamFailure::kClosed, reach);
      in.response_forwarded = true;
      RetryDecision d = DecideRetry(in);
      CHECK(d.action == RetryAction::kAbort);
      CHECK(d.outcome_unknown);
    }
  }
}

// ---- the node forwarder (HttpClient, kSamePeer), one test case per rule ----

TEST_CASE("DecideRetry forwarder: connect failed -> never sent (503), no resend to the same peer") {
  RetryDecision d = DecideRetry(Forwarder(UpstreamFailure::kConnect, Reach::kNeverWritten, false));
  CHECK(d.action == RetryAction::kFail);
  CHECK(d.status == 503);
  CHECK_FALSE(d.outcome_unknown);
}

TEST_CASE(
    "DecideRetry forwarder: pooled connection dead before anything was written -> once, "
    "fresh") {
  for (UpstreamFailure why :
       {UpstreamFailure::kClosed, UpstreamFailure::kReset, UpstreamFailure::kTimeout}) {
    RetryDecision d = DecideRetry(Forwarder(why, Reach::kNeverWritten, true));
    CHECK(d.action == RetryAction::kResend);
    CHECK(d.fresh_connection);
    CHECK_FALSE(d.exclude_peer);
    // The resend runs on a fresh connection (pooled = false): that one is not resent again.
    RetryDecision again = DecideRetry(Forwarder(why, Reach::kNeverWritten, false));
    CHECK(again.action == RetryAction::kFail);
    CHECK(again.status == 503);
  }
}

TEST_CASE("DecideRetry forwarder: written, then closed/reset/timeout without a response -> 502") {
  for (UpstreamFailure why :
       {UpstreamFailure::kClosed, UpstreamFailure::kReset, UpstreamFailure::kTimeout}) {
    for (bool pooled : {false, true}) {
      for (RequestKind k : kKinds) {  // reads too: the forwarder replays nothing it wrote
        RetryInput in = Forwarder(why, Reach::kWrittenNoResponse, pooled);
        in.kind = k;
        RetryDecision d = DecideRetry(in);
        CHECK(d.action == RetryAction::kFail);
        CHECK(d.status == 502);
        CHECK(d.outcome_unknown);
      }
    }
  }
}

TEST_CASE("DecideRetry forwarder: response started but cut short or malformed -> 502") {
  for (UpstreamFailure why : {UpstreamFailure::kClosed, UpstreamFailure::kBadResponse}) {
    RetryDecision d = DecideRetry(Forwarder(why, Reach::kResponseStarted, true));
    CHECK(d.action == RetryAction::kFail);
    CHECK(d.status == 502);
    CHECK(d.outcome_unknown);
  }
}

TEST_CASE("DecideRetry forwarder: a request that cannot be written is never sent") {
  RetryDecision d =
      DecideRetry(Forwarder(UpstreamFailure::kInvalidRequest, Reach::kNeverWritten, true));
  CHECK(d.action == RetryAction::kFail);
  CHECK(d.status == 503);
}

TEST_CASE("DecideRetry forwarder: a 503 from the peer is its answer") {
  RetryInput in = Forwarder(UpstreamFailure::kConnect, Reach::kResponseStarted, true);
  for (AttemptEnd end : {AttemptEnd::kNotExecuted, AttemptEnd::kAnswered503}) {
    in.end = end;
    CHECK(DecideRetry(in).action == RetryAction::kPassThrough);
  }
}

}  // namespace
TEST_CASE("DecideRetry: the peer does not speak HTTP/2 -> the same peer again, fresh") {
  for (RequestKind k : kKinds) {
    RetryDecision d = DecideRetry(Router(k, UpstreamFailure::kNotH2, Reach::kNeverWritten));
    CHECK(d.action == RetryAction::kResend);
    CHECK_FALSE(d.exclude_peer);  // the node is fine: it takes HTTP/1.1
    CHECK(d.fresh_connection);
    CHECK_FALSE(d.counts_as_replay);
  }
  RetryDecision f = DecideRetry(Forwarder(UpstreamFailure::kNotH2, Reach::kNeverWritten, false));
  CHECK(f.action == RetryAction::kResend);
  CHECK(f.fresh_connection);
}

TEST_CASE("DecideRetry router: an HTTP/2 stream refused or reset") {
  // REFUSED_STREAM and GOAWAY above the stream id come as closed, never written: resent.
  for (RequestKind k : kKinds) {
    RetryDecision d = DecideRetry(Router(k, UpstreamFailure::kClosed, Reach::kNeverWritten));
    CHECK(d.action == RetryAction::kResend);
    CHECK_FALSE(d.counts_as_replay);
  }
  // A reset after the request went out comes as closed, written: a write is an unknown
  // outcome (502), a read goes once elsewhere.
  RetryDecision w =
      DecideRetry(Router(RequestKind::kWrite, UpstreamFailure::kClosed, Reach::kWrittenNoResponse));
  CHECK(w.action == RetryAction::kFail);
  CHECK(w.status == 502);
  CHECK(w.outcome_unknown);
  RetryDecision r =
      DecideRetry(Router(RequestKind::kRead, UpstreamFailure::kClosed, Reach::kWrittenNoResponse));
  CHECK(r.action == RetryAction::kResend);
  CHECK(r.counts_as_replay);
}

}  // namespace halo::http
