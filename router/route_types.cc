#include "router/route_types.h"

namespace halo::router {

const char* RequestClassName(RequestClass c) { return c == RequestClass::kRead ? "read" : "write"; }

const char* WriteModeName(WriteMode m) {
  switch (m) {
    case WriteMode::kForward:
      return "forward";
    case WriteMode::kRedirect:
      return "redirect";
    case WriteMode::kAuto:
      return "auto";
  }
  return "?";
}

const char* ReadPolicyName(ReadPolicy p) {
  switch (p) {
    case ReadPolicy::kStandbys:
      return "standbys";
    case ReadPolicy::kActive:
      return "active";
    case ReadPolicy::kAny:
      return "any";
  }
  return "?";
}

std::optional<RequestClass> ParseRequestClass(std::string_view s) {
  if (s == "read") return RequestClass::kRead;
  if (s == "write") return RequestClass::kWrite;
  return std::nullopt;
}

std::optional<WriteMode> ParseWriteMode(std::string_view s) {
  if (s == "forward") return WriteMode::kForward;
  if (s == "redirect") return WriteMode::kRedirect;
  if (s == "auto") return WriteMode::kAuto;
  return std::nullopt;
}

std::optional<ReadPolicy> ParseReadPolicy(std::string_view s) {
  if (s == "standbys") return ReadPolicy::kStandbys;
  if (s == "active") return ReadPolicy::kActive;
  if (s == "any") return ReadPolicy::kAny;
  return std::nullopt;
}

}  // namespace halo::router
