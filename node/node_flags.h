// Command-line flags of halo-node: `--config FILE` (also `--config=FILE`, and OpenBao's
// `-config FILE` / `-config=FILE`), `--check-config`, `--version`, `--help`.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace halo::node {

struct NodeFlags {
  std::string config_path;
  bool help = false;
  bool version = false;
  bool check_config = false;  // load and validate --config, then exit (0 valid, 1 not)
};

// kInvalidArgument naming the flag for an unknown flag, a missing value, or no --config
// (unless --help or --version).
Result<NodeFlags> ParseNodeFlags(const std::vector<std::string>& args);

inline constexpr const char kNodeUsage[] =
    "usage: halo-node --config FILE\n"
    "\n"
    "Runs one halo node: an OpenBao-compatible KV API with HA (active/standby) over a\n"
    "storage-backed lock. Config keys: conf/README.md. HALO_ROOT_TOKEN overrides root_token.\n"
    "SIGTERM/SIGINT: finish in-flight requests, step down, release the lock, exit 0.\n"
    "\n"
    "  --config FILE   the JSON config file (required)\n"
    "  --check-config  validate the --config file with this build and exit: 0 valid, 1 not\n"
    "                  (scripts/rolling-upgrade runs it before restarting any node)\n"
    "  --version       print the version and exit\n"
    "  --help          this text\n";

}  // namespace halo::node
