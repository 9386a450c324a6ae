// Parsing the nodes' sys/health and sys/leader answers (OpenBao shapes) into plain structs.
//
// sys/health: 200 active, 429 unsealed standby, 503 sealed, 501 not initialised; the JSON
// body's initialized / sealed / standby are authoritative when present (a body that
// contradicts the code wins, as the router anchors advise). sys/leader: ha_enabled, is_self,
// leader_address (the active's api_addr) and the blocking-query `index`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace halo::router {

enum class NodeRole : uint8_t { kUnknown, kActive, kStandby, kSealed, kUninitialized };
const char* NodeRoleName(NodeRole r);  // "unknown", "active", "standby", "sealed", "uninitialized"

struct HealthInfo {
  int status = 0;
  bool initialized = false;
  bool sealed = true;
  bool standby = true;
  NodeRole role = NodeRole::kUnknown;
};

struct LeaderInfo {
  bool ha_enabled = false;
  bool is_self = false;
  std::string leader_address;  // empty when no leader is known
  int64_t index = -1;          // -1 when the node sends none (no blocking query support)
};

// kInvalidArgument when neither the code nor the body makes sense (e.g. 404, garbage).
Result<HealthInfo> ParseHealthResponse(int status, std::string_view body);
// kUnavailable for 503 (sealed) and other non-200 codes; kInvalidArgument for a bad body.
Result<LeaderInfo> ParseLeaderResponse(int status, std::string_view body);

// "http://127.0.0.1:8210/" -> "127.0.0.1:8210" (scheme and path dropped); "" when unparsable.
std::string AuthorityOf(std::string_view url);

}  // namespace halo::router
