// halo-node: parse flags, load the config, build the Node, print the banner, run.
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/logging.h"
#include "node/node.h"
#include "node/node_config.h"
#include "node/node_flags.h"
#include "node/version.h"

int main(int argc, char** argv) {
  using namespace halo;
  std::vector<std::string> args(argv + 1, argv + argc);
  Result<node::NodeFlags> flags = node::ParseNodeFlags(args);
  if (!flags.ok()) {
    std::fprintf(stderr, "halo-node: %s\n\n%s", flags.status().message().c_str(), node::kNodeUsage);
    return 2;
  }
  if (flags->help) {
    std::fputs(node::kNodeUsage, stdout);
    return 0;
  }
  if (flags->version) {
    std::printf("halo-node v%s\n", node::kHaloVersion);
    return 0;
  }
  Result<node::NodeConfig> config = node::LoadNodeConfig(flags->config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "halo-node: error loading configuration: %s\n",
                 config.status().message().c_str());
    return 1;
  }
  if (flags->check_config) {
    std::printf("halo-node v%s: configuration %s OK\n", node::kHaloVersion,
                flags->config_path.c_str());
    return 0;
  }
  SetLogLevel(config->log_level);
  if (!config->log_tag.empty()) SetLogTag(config->log_tag);
  signal(SIGPIPE, SIG_IGN);

  Result<std::unique_ptr<node::Node>> node = node::Node::Create(std::move(config).value());
  if (!node.ok()) {
    std::fprintf(stderr, "halo-node: error starting: %s\n", node.status().ToString().c_str());
    return 1;
  }
  std::string banner = (*node)->Banner();
  std::fputs(banner.c_str(), stdout);
  std::fputs("==> halo-node server started! Log data will stream in below:\n\n", stdout);
  std::fflush(stdout);
  return (*node)->Run();
}
