// RedisServer: a real redis-server for tests, on a port picked at run time, with its data
// (AOF, appendfsync always) in a temporary directory; stopped and removed on destruction.
// Start() fails the test (REQUIRE) when redis-server is missing or does not answer.
#pragma once

#include <string>
#include <vector>

#include "common/redis/redis_options.h"
#include "test/support/subprocess.h"

namespace halo::testing {

class RedisServer {
 public:
  // `extra`: more redis-server arguments, e.g. {"--appendonly", "no"}.
  explicit RedisServer(std::vector<std::string> extra = {}, std::string bind = "127.0.0.1");
  ~RedisServer();

  void Start();             // (re)starts on the same port and data directory
  void Stop(int sig = 15);  // SIGTERM: clean; SIGKILL: a crash
  void Signal(int sig) { proc_.Signal(sig); }
  int port() const { return port_; }
  std::string address() const { return bind_ + ":" + std::to_string(port_); }
  // Options for a backend on this server, with a fresh key prefix per call by default.
  redis::RedisOptions Options(const std::string& key_prefix = "") const;
  // Runs redis-cli against the server; returns its stdout (trimmed).
  std::string Cli(const std::vector<std::string>& args) const;

 private:
  TempDir dir_{"halo-redis"};
  std::vector<std::string> extra_;
  std::string bind_;
  int port_;
  Subprocess proc_;
};

// The redis-server command line every test uses: AOF with appendfsync always (what halo
// requires), no RDB snapshots, listening on bind:port, data in `dir`.
std::vector<std::string> DurableRedisArgv(const std::string& bind, int port,
                                          const std::string& dir);

// One redis-server for the whole test run, started on first use and stopped at exit; tests
// sharing it use distinct key prefixes (Options() gives each call its own).
RedisServer& SharedRedisServer();

}  // namespace halo::testing
