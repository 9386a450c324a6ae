// The node's local sys/* endpoints as pure functions over a NodeSnapshot (no I/O), answered
// by every node itself and never forwarded: sys/health, sys/leader, sys/seal-status. Shapes
// and status codes follow OpenBao (see conf/README.md and the API notes in node/README.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/http/message.h"
#include "common/http/url.h"
#include "common/result.h"
#include "node/node_snapshot.h"

namespace halo::node {

// GET/HEAD sys/health. Codes: uninitcode (501), sealedcode (503), standbycode (429) unless
// standbyok, else activecode (200), checked in that order. 400 for a bad parameter, 405 for
// another method. HEAD: the same status, no body.
http::Response HandleHealth(std::string_view method, const http::QueryParams& query,
                            const NodeSnapshot& snapshot);

// GET sys/leader: ha_enabled, is_self, active_time (when self), leader_address,
// leader_cluster_address, and halo's "index" (the leader's epoch).
http::Response HandleLeader(const NodeSnapshot& snapshot);

// GET sys/seal-status.
http::Response HandleSealStatus(const NodeSnapshot& snapshot);

// The blocking form of sys/leader: "?index=N&wait=30s". Present when `index` is given.
struct LeaderWait {
  bool blocking = false;
  uint64_t index = 0;
  int64_t wait_ms = 0;
};
inline constexpr int64_t kDefaultLeaderWaitMs = 30'000;
inline constexpr int64_t kMaxLeaderWaitMs = 300'000;  // 5m
// kInvalidArgument for a non-numeric index or a bad duration; wait is capped at the max.
Result<LeaderWait> ParseLeaderWait(const http::QueryParams& query);

// RFC 3339 UTC with nanoseconds, as Go prints time.Time ("2026-01-02T03:04:05.123456Z").
std::string FormatRfc3339(int64_t wall_micros);

}  // namespace halo::node
