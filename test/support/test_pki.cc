#include "test/support/test_pki.h"

#include <doctest/doctest.h>

#include "test/support/testbed.h"

namespace halo::testing {

TestPki::TestPki(const std::string& ca_name, const std::vector<std::string>& leaves)
    : dir_("pki"), ca_name_(ca_name) {
  std::vector<std::string> argv = {"/usr/bin/env", "CA_CN=" + ca_name, "scripts/make-certs",
                                   dir_.path()};
  argv.insert(argv.end(), leaves.begin(), leaves.end());
  CommandResult r = RunCommand(argv);
  if (r.status != 0) MESSAGE("scripts/make-certs failed: " << r.output);
  ok_ = r.status == 0;
}

bool TestPki::AddLeaf(const std::string& name, int days) {
  CommandResult r =
      RunCommand({"/usr/bin/env", "CA_CN=" + ca_name_, "CERT_DAYS=" + std::to_string(days),
                  "scripts/make-certs", dir_.path(), name});
  if (r.status != 0) MESSAGE("scripts/make-certs failed: " << r.output);
  return r.status == 0;
}

}  // namespace halo::testing
