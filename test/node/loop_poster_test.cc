#include "node/loop_poster.h"

#include <doctest/doctest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace halo::node {
namespace {

TEST_CASE("LoopPoster runs tasks from other threads on the loop, in order") {
  event_base* base = event_base_new();
  std::shared_ptr<LoopPoster> poster = *LoopPoster::Create(base);
  std::vector<int> ran;
  std::thread::id loop_thread = std::this_thread::get_id();
  bool wrong_thread = false;
  std::thread t([&] {
    for (int i = 0; i < 100; ++i) {
      poster->Post([&, i] {
        if (std::this_thread::get_id() != loop_thread) wrong_thread = true;
        ran.push_back(i);
      });
    }
  });
  t.join();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (ran.size() < 100 && std::chrono::steady_clock::now() < deadline) {
    event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
  }
  REQUIRE(ran.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(ran[i] == i);
  CHECK_FALSE(wrong_thread);

  poster->Close();
  CHECK_FALSE(poster->Post([&] { ran.push_back(-1); }));
  event_base_loop(base, EVLOOP_NONBLOCK);
  CHECK(ran.size() == 100);
  poster.reset();
  event_base_free(base);
}

}  // namespace
}  // namespace halo::node
