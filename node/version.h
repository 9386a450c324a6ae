// The halo version string, shown in the startup banner, sys/health and sys/seal-status.
#pragma once

namespace halo::node {

inline constexpr const char kHaloVersion[] = "0.1.0";

}  // namespace halo::node
