// Identifier helpers shared by the node and the KV engines: the 8-4-4-4-12 hex text of a
// 128-bit value (UUIDs: request ids, cluster and mount ids) and 64-bit FNV-1a, which the node
// uses to derive ids every node of a cluster computes alike. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace halo {

// FNV-1a's offset basis, the usual `seed` for Fnv1a.
inline constexpr uint64_t kFnv1aOffsetBasis = 14695981039346656037ULL;

// 64-bit FNV-1a of `text`, starting from `seed`.
uint64_t Fnv1a(std::string_view text, uint64_t seed = kFnv1aOffsetBasis);

// "hhhhhhhh-hhhh-hhhh-hhhh-hhhhhhhhhhhh" (lower-case): `hi` gives the first 16 digits, `lo`
// the last 16.
std::string UuidText(uint64_t hi, uint64_t lo);
// The same, appended to `out` (no allocation when it has room: the router's request ids).
void AppendUuidText(uint64_t hi, uint64_t lo, std::string* out);

}  // namespace halo
