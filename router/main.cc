// halo-router: placeholder until the node daemon lands (issue 4).
#include <cstdio>
int main() {
  std::fprintf(stderr, "halo-router: not built yet\n");
  return 1;
}
