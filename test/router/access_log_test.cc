#include "router/access_log.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "test/support/subprocess.h"

namespace halo::router {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST_CASE("AccessLog writes lines to a file, and Reopen follows a rotated file") {
  halo::testing::TempDir dir;
  RouterCounters counters;
  AccessLogConfig cfg;
  cfg.enabled = true;
  cfg.path = dir.path() + "/access.log";
  Result<std::unique_ptr<AccessLog>> log = AccessLog::Open(cfg, &counters);
  REQUIRE_MESSAGE(log.ok(), log.status().ToString());
  (*log)->Append("{\"n\":1}\n");
  (*log)->Append("{\"n\":2}\n");
  (*log)->Flush();
  CHECK(ReadAll(cfg.path) == "{\"n\":1}\n{\"n\":2}\n");
  // logrotate: move the file away, then SIGUSR1 -> Reopen.
  std::filesystem::rename(cfg.path, cfg.path + ".1");
  (*log)->Append("{\"n\":3}\n");  // still to the old (moved) file
  (*log)->Reopen();
  (*log)->Flush();
  (*log)->Append("{\"n\":4}\n");
  (*log)->Flush();
  CHECK(ReadAll(cfg.path + ".1") == "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
  CHECK(ReadAll(cfg.path) == "{\"n\":4}\n");
  CHECK(counters.access_log_lines.load() == 4);
  CHECK(counters.access_log_dropped.load() == 0);
  CHECK(counters.access_log_reopen_failures.load() == 0);
  // A reopen that fails keeps the old file and counts.
  std::filesystem::remove(cfg.path);
  std::filesystem::create_directory(cfg.path);  // a directory cannot be opened for writing
  (*log)->Reopen();
  (*log)->Append("{\"n\":5}\n");
  (*log)->Flush();
  CHECK(counters.access_log_reopen_failures.load() == 1);
}

TEST_CASE("AccessLog drops (and counts) lines past its buffer instead of blocking") {
  halo::testing::TempDir dir;
  RouterCounters counters;
  AccessLogConfig cfg;
  cfg.enabled = true;
  cfg.path = dir.path() + "/access.log";
  cfg.buffer_bytes = 4096;
  cfg.flush_interval_ms = 60000;  // the writer sleeps: the buffer only fills
  Result<std::unique_ptr<AccessLog>> log = AccessLog::Open(cfg, &counters);
  REQUIRE(log.ok());
  std::string line(99, 'x');
  line.push_back('\n');
  for (int i = 0; i < 100; ++i) (*log)->Append(line);
  CHECK(counters.access_log_lines.load() == 40);  // 40 x 100 bytes fit in 4096
  CHECK(counters.access_log_dropped.load() == 60);
  (*log)->Flush();
  CHECK(ReadAll(cfg.path).size() == 4000);
}

TEST_CASE("AccessLog::Open names the path and the OS error") {
  RouterCounters counters;
  AccessLogConfig cfg;
  cfg.enabled = true;
  cfg.path = "/nonexistent-dir/halo/access.log";
  Result<std::unique_ptr<AccessLog>> log = AccessLog::Open(cfg, &counters);
  REQUIRE_FALSE(log.ok());
  CHECK(log.status().message().find(
            "access_log.path: cannot open /nonexistent-dir/halo/access.log") != std::string::npos);
  CHECK(log.status().message().find("No such file") != std::string::npos);
}

}  // namespace
}  // namespace halo::router
