#include "node/leader_watcher.h"

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <vector>

#include "test/support/subprocess.h"

namespace halo::node {
namespace {

using halo::testing::PollUntil;

TEST_CASE("LeaderViewFromHolder parses the lock value") {
  CHECK_FALSE(LeaderViewFromHolder(std::nullopt).known);
  LeaderView v = LeaderViewFromHolder(
      lock::Holder{R"({"api_addr":"http://h:1","node_id":"n","cluster_addr":"https://h:2"})", 9});
  CHECK(v.known);
  CHECK(v.api_addr == "http://h:1");
  CHECK(v.cluster_addr == "https://h:2");
  CHECK(v.epoch == 9);
  CHECK_FALSE(LeaderViewFromHolder(lock::Holder{"garbage", 3}).known);
}

TEST_CASE("LeaderWatcher reports each change once and keeps the view on errors") {
  std::mutex mu;
  Result<std::optional<lock::Holder>> current = std::optional<lock::Holder>();
  std::vector<LeaderView> seen;
  LeaderWatcher watcher(
      [&]() -> Result<std::optional<lock::Holder>> {
        std::lock_guard<std::mutex> lock(mu);
        return current;
      },
      std::chrono::milliseconds(2),
      [&](const LeaderView& v) {
        std::lock_guard<std::mutex> lock(mu);
        seen.push_back(v);
      });
  auto count = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return seen.size();
  };
  watcher.Start();
  REQUIRE(PollUntil([&] { return count() == 1; }, std::chrono::seconds(5)));
  {
    std::lock_guard<std::mutex> lock(mu);
    CHECK_FALSE(seen[0].known);
    current = std::optional<lock::Holder>(lock::Holder{R"({"api_addr":"http://a:1"})", 4});
  }
  REQUIRE(PollUntil([&] { return count() == 2; }, std::chrono::seconds(5)));
  {
    std::lock_guard<std::mutex> lock(mu);
    CHECK(seen[1].api_addr == "http://a:1");
    current = Status::Unavailable("backend down");
  }
  watcher.PollSoon();
  {
    std::lock_guard<std::mutex> lock(mu);
    current = std::optional<lock::Holder>(lock::Holder{R"({"api_addr":"http://b:1"})", 5});
  }
  REQUIRE(PollUntil([&] { return count() >= 3; }, std::chrono::seconds(5)));
  // PollSoon reports the current view again even though it did not change.
  size_t before = count();
  watcher.PollSoon();
  REQUIRE(PollUntil([&] { return count() == before + 1; }, std::chrono::seconds(5)));
  watcher.Stop();
  std::lock_guard<std::mutex> lock(mu);
  CHECK(seen.back().epoch == 5);
  CHECK(seen[seen.size() - 2].epoch == 5);
}

}  // namespace
}  // namespace halo::node
