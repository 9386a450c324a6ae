// halo-node: placeholder until the node daemon lands (issue 3).
#include <cstdio>
int main() {
  std::fprintf(stderr, "halo-node: not built yet\n");
  return 1;
}
