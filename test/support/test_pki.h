// TestPki: a throw-away CA and leaf certificates for TLS tests, made by scripts/make-certs
// (the openssl CLI, as scripts/run-cluster --tls does) in a temp dir. Tests run from the
// repository root, where scripts/ is.
#pragma once

#include <string>
#include <vector>

#include "test/support/subprocess.h"

namespace halo::testing {

class TestPki {
 public:
  // A CA named `ca_name` and one leaf per name in `leaves` (SAN localhost, 127.0.0.1).
  TestPki(const std::string& ca_name, const std::vector<std::string>& leaves);
  // One more leaf (e.g. a renewed certificate); `days` -1 makes it already expired.
  bool AddLeaf(const std::string& name, int days = 365);
  bool ok() const { return ok_; }
  std::string ca() const { return dir_.Join("ca.pem"); }
  std::string cert(const std::string& name) const { return dir_.Join(name + ".pem"); }
  std::string key(const std::string& name) const { return dir_.Join(name + "-key.pem"); }
  const std::string& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
  std::string ca_name_;
  bool ok_ = false;
};

}  // namespace halo::testing
