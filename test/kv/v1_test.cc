// KV v1 engine: OpenBao's passthrough backend behaviour.
#include <doctest/doctest.h>

#include "test/kv/test_util.h"

namespace halo::kv::testing {
namespace {

TEST_SUITE("kv_v1") {
  TEST_CASE("put, get, delete") {
    KvHarness h(1);
    http::Response w = h.Put("app/db", R"({"user":"u","nested":{"b":2,"a":1},"n":1.5})");
    CHECK(w.status == 204);
    CHECK(w.body.empty());
    http::Response r = h.Get("app/db");
    REQUIRE(r.status == 200);
    rapidjson::Document d = Body(r);
    CheckEnvelope(d, kKvV1DefaultLeaseSeconds);
    CHECK(V(d["lease_duration"]) == 2764800);
    CHECK(Js(d["data"]) == R"({"n":1.5,"nested":{"a":1,"b":2},"user":"u"})");
    CHECK(d["warnings"].IsNull());
    // A write replaces the whole map.
    REQUIRE(h.Put("app/db", R"({"only":"this"})").status == 204);
    CHECK(Js(Body(h.Get("app/db"))["data"]) == R"({"only":"this"})");
    CHECK(h.Delete("app/db").status == 204);
    r = h.Get("app/db");
    CHECK(r.status == 404);
    CHECK(r.body == R"({"errors":[]})");
    CHECK(h.Delete("app/db").status == 204);
  }

  TEST_CASE("ttl in the data sets lease_duration") {
    KvHarness h(1);
    REQUIRE(h.Put("t1", R"({"ttl":"1h","v":1})").status == 204);
    CHECK(V(Body(h.Get("t1"))["lease_duration"]) == 3600);
    REQUIRE(h.Put("t2", R"({"ttl":90})").status == 204);
    CHECK(V(Body(h.Get("t2"))["lease_duration"]) == 90);
    REQUIRE(h.Put("t3", R"({"lease":"2m"})").status == 204);
    CHECK(V(Body(h.Get("t3"))["lease_duration"]) == 120);
    REQUIRE(h.Put("t4", R"({"ttl":"soon"})").status == 204);
    CHECK(V(Body(h.Get("t4"))["lease_duration"]) == 2764800);
  }

  TEST_CASE("write errors") {
    KvHarness h(1);
    http::Response r = h.Put("x", "{}");
    CHECK(r.status == 400);
    CHECK(Errors(r) == R"(["missing data fields"])");
    CHECK(Errors(h.Put("x", "")) == R"(["missing data fields"])");
    r = h.Put("x", "{oops");
    CHECK(r.status == 400);
    CHECK(Errors(r) == R"(["error parsing JSON"])");
    CHECK(h.Put("x", "[1]").status == 400);
    r = h.Put("", R"({"a":1})");
    CHECK(r.status == 400);
    CHECK(Errors(r) == R"(["missing path"])");
    CHECK(h.Get("x").status == 404);
  }

  TEST_CASE("list and scan") {
    KvHarness h(1);
    CHECK(h.List("").status == 404);
    for (const char* p : {"a", "b/c", "b/d/e", "c"}) REQUIRE(h.Put(p, R"({"v":1})").status == 204);
    http::Response r = h.List("");
    REQUIRE(r.status == 200);
    rapidjson::Document d = Body(r);
    CheckEnvelope(d);
    CHECK(Js(d["data"]) == R"({"keys":["a","b/","c"]})");
    CHECK(Js(Body(h.List("b"))["data"]["keys"]) == R"(["c","d/"])");
    CHECK(Js(Body(h.List("b/"))["data"]["keys"]) == R"(["c","d/"])");
    CHECK(h.List("a").status == 404);
    CHECK(h.List("nope/").status == 404);
    CHECK(Js(Body(h.Call(KvOp::kScan, ""))["data"]["keys"]) == R"(["a","b/c","b/d/e","c"])");
    // Reading a folder is not reading a secret.
    CHECK(h.Get("b").status == 404);
  }

  TEST_CASE("patch is not supported; its content type is still checked first") {
    KvHarness h(1);
    REQUIRE(h.Put("x", R"({"a":1})").status == 204);
    http::Response r = h.Patch("x", R"({"a":2})");
    CHECK(r.status == 405);
    CHECK(r.body == R"({"errors":["1 error occurred:\n\t* unsupported operation\n\n"]})");
    CHECK(h.Patch("x", R"({"a":2})", "text/plain").status == 415);
  }

  TEST_CASE("query parameters on a read are ignored with a warning") {
    KvHarness h(1);
    REQUIRE(h.Put("x", R"({"a":1})").status == 204);
    http::Response r = h.Get("x", {{"foo", "1"}, {"bar", "2"}});
    REQUIRE(r.status == 200);
    CHECK(Js(Body(r)["warnings"]) ==
          R"(["Endpoint ignored these unrecognized parameters: [bar foo]"])");
  }

  TEST_CASE("a write with a stale fencing epoch is refused") {
    KvHarness h(1);
    h.epoch = 3;
    REQUIRE(h.Put("x", R"({"a":1})").status == 204);
    REQUIRE(h.backend().RecordEpoch(4).ok());
    http::Response r = h.Put("x", R"({"a":2})");
    CHECK(r.status == 503);
    CHECK(IsNotActive(r));
    CHECK(IsNotActive(h.Delete("x")));
    CHECK(Js(Body(h.Get("x"))["data"]) == R"({"a":1})");
    h.epoch = 4;
    CHECK(h.Put("x", R"({"a":2})").status == 204);
    CHECK(Js(Body(h.Get("x"))["data"]) == R"({"a":2})");
  }

  TEST_CASE("identity and storage layout") {
    KvHarness h(1);
    CHECK(h.engine().Version() == 1);
    REQUIRE(h.Put("dir/x", R"({"b":1,"a":2})").status == 204);
    Result<std::string> raw = h.backend().Get("kv/secret/dir/x");
    REQUIRE(raw.ok());
    CHECK(*raw == R"({"a":2,"b":1})");
  }
}

}  // namespace
}  // namespace halo::kv::testing
