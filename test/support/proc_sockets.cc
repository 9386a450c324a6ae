#include "test/support/proc_sockets.h"

#include <cstdio>
#include <fstream>
#include <string>

namespace halo::testing {

int TcpSocketsOnPort(int port, int state) {
  int count = 0;
  for (const char* path : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);  // the column titles
    while (std::getline(in, line)) {
      // "  sl  local_address rem_address   st ...": "0: 0100007F:1F90 0100007F:D2A4 08 ..."
      char local[64], remote[64];
      unsigned st = 0;
      if (std::sscanf(line.c_str(), " %*d: %63s %63s %x", local, remote, &st) != 3) continue;
      std::string l(local);
      size_t colon = l.rfind(':');
      if (colon == std::string::npos) continue;
      if (std::stoi(l.substr(colon + 1), nullptr, 16) == port && static_cast<int>(st) == state) {
        ++count;
      }
    }
  }
  return count;
}

}  // namespace halo::testing
