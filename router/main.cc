// halo-router: the HA-aware request router in front of a halo-node cluster.
//   halo-router --config conf/router.json
// Only wiring lives here; see router/router_server.h.
#include <cstdio>
#include <cstring>
#include <string>

#include "router/router_server.h"

int main(int argc, char** argv) {
  std::string config;
  for (int i = 1; i < argc; ++i) {
    if ((std::strcmp(argv[i], "--config") == 0 || std::strcmp(argv[i], "-config") == 0) &&
        i + 1 < argc) {
      config = argv[++i];
    } else if (std::strncmp(argv[i], "--config=", 9) == 0) {
      config = argv[i] + 9;
    } else {
      std::fprintf(stderr, "usage: %s --config FILE\n", argv[0]);
      return 2;
    }
  }
  if (config.empty()) {
    std::fprintf(stderr, "usage: %s --config FILE\n", argv[0]);
    return 2;
  }
  auto server = halo::router::RouterServer::Create(config);  // c-ares resolver
  if (!server.ok()) {
    std::fprintf(stderr, "halo-router: %s\n", server.status().ToString().c_str());
    return 1;
  }
  return (*server)->Run();
}
