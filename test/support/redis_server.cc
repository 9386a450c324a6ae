#include "test/support/redis_server.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <stdio.h>

#include <atomic>

namespace halo::testing {
namespace {

std::string RunCapture(const std::vector<std::string>& argv) {
  std::string cmd;
  for (const std::string& a : argv) cmd += "'" + a + "' ";
  cmd += "2>/dev/null";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace

RedisServer::RedisServer(std::vector<std::string> extra, std::string bind)
    : extra_(std::move(extra)), bind_(std::move(bind)), port_(PickFreePort()) {}

std::vector<std::string> DurableRedisArgv(const std::string& bind, int port,
                                          const std::string& dir) {
  return {"/usr/bin/redis-server",
          "--port",
          std::to_string(port),
          "--bind",
          bind,
          "--dir",
          dir,
          "--appendonly",
          "yes",
          "--appendfsync",
          "always",
          "--save",
          "",
          "--protected-mode",
          "no"};
}

RedisServer::~RedisServer() { Stop(SIGKILL); }

void RedisServer::Start() {
  std::vector<std::string> argv = DurableRedisArgv(bind_, port_, dir_.path());
  argv.insert(argv.end(), {"--daemonize", "no", "--logfile", dir_.Join("redis.log")});
  argv.insert(argv.end(), extra_.begin(), extra_.end());
  proc_ = Subprocess::Start(argv);
  REQUIRE(proc_.started());
  bool up = PollUntil([&] { return Cli({"PING"}) == "PONG"; }, std::chrono::seconds(20));
  REQUIRE_MESSAGE(up, "redis-server did not answer on " << address());
}

void RedisServer::Stop(int sig) {
  if (proc_.started()) proc_.Stop(sig);
}

redis::RedisOptions RedisServer::Options(const std::string& key_prefix) const {
  static std::atomic<int> seq{0};
  redis::RedisOptions o;
  o.address = address();
  o.key_prefix = key_prefix.empty() ? "t" + std::to_string(seq++) + "/" : key_prefix;
  return o;
}

std::string RedisServer::Cli(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"/usr/bin/redis-cli", "-h", bind_, "-p", std::to_string(port_)};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCapture(argv);
}

RedisServer& SharedRedisServer() {
  static RedisServer server;
  static bool started = (server.Start(), true);
  (void)started;
  return server;
}

}  // namespace halo::testing
