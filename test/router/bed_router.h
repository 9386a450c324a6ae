// BedRouter: the router of a multi-host test as one host of the test bed sees it
// (test/support/testbed.h): its status page, API calls with the root token, the steady
// FailoverLoad and the "nothing lost" read-back, each run on a thread inside that host's
// namespace (sockets keep the namespace they were made in; the load's threads inherit it).
// StartBedNode: halo-node on a bed host with the listener, api_addr and root token these
// tests share. One home for what the fault matrices and the upgrade test all need.
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/http/message.h"
#include "test/router/failover_load.h"
#include "test/support/subprocess.h"
#include "test/support/testbed.h"

namespace halo::router::testing {

class BedRouter {
 public:
  // The router's client port and admin port, reached from `host` on 127.0.0.1 (the router
  // runs in that host).
  BedRouter(halo::testing::Testbed* bed, int host, int port, int admin_port)
      : bed_(bed), host_(host), port_(port), admin_port_(admin_port) {}

  // GET /_halo/status parsed; not an object when it does not answer 200.
  rapidjson::Document Status() const;
  // The active's name once the router sees an active and at least `routable` routable
  // nodes; "" if not within `timeout`.
  std::string WaitActive(int routable, std::chrono::milliseconds timeout) const;
  // One request with the root token, on a fresh connection.
  std::optional<http::Response> Call(const std::string& method, const std::string& target,
                                     const std::string& body = "") const;
  std::unique_ptr<FailoverLoad> StartLoad(int writers, int readers,
                                          std::chrono::milliseconds op_timeout) const;
  // Acknowledged writes that do not read back with their value (one keep-alive connection).
  int Lost(const std::vector<AckedWrite>& acked) const;

 private:
  halo::testing::Testbed* bed_;
  int host_, port_, admin_port_;
};

// Writes node<n>.json into `dir` and starts halo-node in bed host `host` on
// <address(host)>:<port>. `storage` holds the config's storage members, e.g.
// R"("storage":{"lmdb":{...}})" (plus "ha_storage" when the lock is elsewhere).
halo::testing::Subprocess StartBedNode(halo::testing::Testbed& bed, int host, int n, int port,
                                       const halo::testing::TempDir& dir,
                                       const std::string& storage, const std::string& cluster);

}  // namespace halo::router::testing
