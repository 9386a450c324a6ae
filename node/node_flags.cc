#include "node/node_flags.h"

namespace halo::node {

Result<NodeFlags> ParseNodeFlags(const std::vector<std::string>& args) {
  NodeFlags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-help" || arg == "-h") {
      flags.help = true;
    } else if (arg == "--version" || arg == "-version") {
      flags.version = true;
    } else if (arg == "--check-config") {
      flags.check_config = true;
    } else if (arg == "--config" || arg == "-config") {
      if (i + 1 >= args.size()) return Status::InvalidArgument(arg + ": missing FILE");
      flags.config_path = args[++i];
    } else if (arg.rfind("--config=", 0) == 0 || arg.rfind("-config=", 0) == 0) {
      flags.config_path = arg.substr(arg.find('=') + 1);
    } else {
      return Status::InvalidArgument("unknown argument \"" + arg + "\"");
    }
  }
  if (!flags.help && !flags.version && flags.config_path.empty()) {
    return Status::InvalidArgument("--config FILE is required");
  }
  return flags;
}

}  // namespace halo::node
