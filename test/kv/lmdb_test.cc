// The KV v2 engine over the real LMDB backend (group commit, durable writes, fencing in the
// same transaction): the paths that matter end to end, and data surviving a reopen.
#include <doctest/doctest.h>

#include <thread>

#include "test/kv/test_util.h"
#include "test/storage/backend_fixtures.h"

namespace halo::kv::testing {
namespace {

using storage::testing::LmdbFixture;
using storage::testing::MustOpen;

TEST_SUITE("kv_lmdb") {
  TEST_CASE("KV v2 over lmdb: versions, delete, list, fencing, reopen") {
    LmdbFixture fixture;
    {
      KvHarness h(2, MustOpen(fixture), "kv2/secret/");
      REQUIRE(h.backend().RecordEpoch(3).ok());
      h.epoch = 3;
      REQUIRE(h.Put("data/a/b", R"({"data":{"v":1}})").status == 200);
      REQUIRE(h.Put("data/a/b", R"({"options":{"cas":1},"data":{"v":2}})").status == 200);
      REQUIRE(h.Put("data/c", R"({"data":{"v":3}})").status == 200);
      CHECK(h.Put("data/a/b", R"({"options":{"cas":1},"data":{"v":9}})").status == 400);
      REQUIRE(h.Put("delete/a/b", R"({"versions":[1]})").status == 204);
      CHECK(Js(Body(h.List("metadata/"))["data"]["keys"]) == R"(["a/","c"])");

      // Many concurrent writers, committed in groups.
      std::vector<std::thread> threads;
      std::atomic<int> ok{0};
      for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
          for (int i = 0; i < 5; ++i) {
            KvRequest req;
            req.op = KvOp::kWrite;
            req.path = "data/many/" + std::to_string(t);
            req.body = R"({"data":{"i":)" + std::to_string(i) + "}}";
            req.epoch = 3;
            if (h.Run(req).status == 200) ++ok;
          }
        });
      }
      for (auto& t : threads) t.join();
      CHECK(ok.load() == 20);

      // A newer active takes over; the old epoch can no longer write.
      REQUIRE(h.backend().RecordEpoch(4).ok());
      http::Response r = h.Put("data/c", R"({"data":{"v":4}})");
      CHECK(r.status == 503);
      CHECK(IsNotActive(r));
    }
    KvHarness h(2, MustOpen(fixture), "kv2/secret/");
    http::Response r = h.Get("data/a/b");
    REQUIRE(r.status == 200);
    CHECK(Js(Body(r)["data"]["data"]) == R"({"v":2})");
    CHECK(h.Get("data/a/b", {{"version", "1"}}).status == 404);
    CHECK(Js(Body(h.Get("data/c"))["data"]["data"]) == R"({"v":3})");
    CHECK(Js(Body(h.List("metadata/many"))["data"]["keys"]) == R"(["0","1","2","3"])");
    CHECK(V(Body(h.Get("metadata/many/2"))["data"]["current_version"]) == 5);
  }
}

}  // namespace
}  // namespace halo::kv::testing
