// Vocabulary shared by the router's pure parts: request class, write mode, read policy.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace halo::router {

// What a request does to storage, as far as the router can tell before sending it. The node
// remains the final judge: a misclassified request is still answered correctly, only slower.
enum class RequestClass : uint8_t { kRead = 0, kWrite = 1 };
inline constexpr int kNumRequestClasses = 2;

// How a write reaches the active node.
//   kForward:  proxy it to the active (X-Vault-No-Request-Forwarding passed through).
//   kRedirect: answer 307 with Location = the active's advertised api_addr + path + query.
//   kAuto:     forward; redirect when the router cannot reach the active but it advertises
//              an address, or when the client sent X-Vault-No-Request-Forwarding.
enum class WriteMode : uint8_t { kForward = 0, kRedirect = 1, kAuto = 2 };

// Where reads go.
//   kStandbys: healthy unsealed standbys, falling back to the active when there are none.
//   kActive:   the active only (held like writes while there is none).
//   kAny:      every healthy unsealed node, active included.
enum class ReadPolicy : uint8_t { kStandbys = 0, kActive = 1, kAny = 2 };

const char* RequestClassName(RequestClass c);  // "read" | "write"
const char* WriteModeName(WriteMode m);        // "forward" | "redirect" | "auto"
const char* ReadPolicyName(ReadPolicy p);      // "standbys" | "active" | "any"
std::optional<RequestClass> ParseRequestClass(std::string_view s);
std::optional<WriteMode> ParseWriteMode(std::string_view s);
std::optional<ReadPolicy> ParseReadPolicy(std::string_view s);

}  // namespace halo::router
