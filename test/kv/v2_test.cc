// KV v2 engine: every path, operation, status code and response shape, against OpenBao's
// builtin/logical/kv behaviour.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "kv/time.h"
#include "test/kv/test_util.h"

namespace halo::kv::testing {
namespace {

const std::string kStart = "2023-11-14T22:13:20Z";  // FakeClock's initial wall time

TEST_SUITE("kv_v2") {
  TEST_CASE("write then read: status, envelope and shapes") {
    KvHarness h(2);
    http::Response w = h.Put("data/app/db", R"({"data":{"user":"u","pass":"p","n":3}})");
    REQUIRE(w.status == 200);
    CHECK_FALSE(IsNotActive(w));
    rapidjson::Document wd = Body(w);
    CheckEnvelope(wd);
    CHECK(wd["warnings"].IsNull());
    CHECK(Js(wd["data"]) == R"({"created_time":")" + kStart +
                                R"(","custom_metadata":null,"deletion_time":"","destroyed":false,)"
                                R"("version":1})");
    CHECK(Keys(wd["data"]) == std::vector<std::string>{"created_time", "custom_metadata",
                                                       "deletion_time", "destroyed", "version"});

    http::Response r = h.Get("data/app/db");
    REQUIRE(r.status == 200);
    rapidjson::Document rd = Body(r);
    CheckEnvelope(rd);
    CHECK(Keys(rd["data"]) == std::vector<std::string>{"data", "metadata"});
    CHECK(Js(rd["data"]["data"]) == R"({"n":3,"pass":"p","user":"u"})");
    CHECK(Js(rd["data"]["metadata"]) == Js(wd["data"]));
    // Two responses never share a request id.
    CHECK(std::string(rd["request_id"].GetString()) != wd["request_id"].GetString());
  }

  TEST_CASE("nanosecond timestamps come out as RFC 3339 in UTC") {
    KvHarness h(2);
    h.clock().Advance(std::chrono::microseconds(945319));
    http::Response w = h.Put("data/t", R"({"data":{"a":1}})");
    CHECK(Js(Body(w)["data"]["created_time"]) == "\"2023-11-14T22:13:20.945319Z\"");
  }

  TEST_CASE("versions: each write adds one; ?version=N reads it") {
    KvHarness h(2);
    for (int i = 1; i <= 3; ++i) {
      http::Response w = h.Put("data/k", R"({"data":{"v":)" + std::to_string(i) + "}}");
      REQUIRE(w.status == 200);
      CHECK(Body(w)["data"]["version"].GetInt() == i);
    }
    CHECK(Js(Body(h.Get("data/k"))["data"]["data"]) == R"({"v":3})");
    http::Response v1 = h.Get("data/k", {{"version", "1"}});
    REQUIRE(v1.status == 200);
    CHECK(Js(Body(v1)["data"]["data"]) == R"({"v":1})");
    CHECK(Body(v1)["data"]["metadata"]["version"].GetInt() == 1);
    // version=0 (and negative) means the latest, as OpenBao's verParam > 0 check.
    CHECK(V(Body(h.Get("data/k", {{"version", "0"}}))["data"]["metadata"]["version"]) == 3);
    CHECK(V(Body(h.Get("data/k", {{"version", "-2"}}))["data"]["metadata"]["version"]) == 3);
    http::Response missing = h.Get("data/k", {{"version", "9"}});
    CHECK(missing.status == 404);
    CHECK(missing.body == R"({"errors":[]})");
  }

  TEST_CASE("read of a missing secret is 404 with an empty errors list") {
    KvHarness h(2);
    http::Response r = h.Get("data/nope");
    CHECK(r.status == 404);
    CHECK(r.body == R"({"errors":[]})");
    CHECK(h.Get("subkeys/nope").status == 404);
    CHECK(h.Get("metadata/nope").status == 404);
  }

  TEST_CASE("bad input: JSON, types, missing fields") {
    KvHarness h(2);
    http::Response r = h.Put("data/x", "{not json");
    CHECK(r.status == 400);
    CHECK(Errors(r) == R"(["error parsing JSON"])");
    CHECK(h.Put("data/x", "[1,2]").status == 400);
    CHECK(h.Put("data/x", R"("str")").status == 400);
    CHECK(h.Put("data/x", R"({"data":{}} trailing)").status == 400);

    r = h.Put("data/x", R"({"data":"str"})");
    CHECK(r.status == 400);
    CHECK(Errors(r).find("Field validation failed: error converting input str for field "
                         "\\\"data\\\"") != std::string::npos);
    r = h.Put("data/x", R"({"options":{}})");
    CHECK(r.status == 400);
    CHECK(Errors(r) == R"(["no data provided"])");
    r = h.Put("data/x", "");
    CHECK(Errors(r) == R"(["no data provided"])");
    r = h.Put("data/x", R"({"data":null})");
    CHECK(Errors(r) == R"(["no data provided"])");
    r = h.Put("data/x", R"({"data":{"a":1},"options":"cas"})");
    CHECK(r.status == 400);
    CHECK(Errors(r).find("for field \\\"options\\\"") != std::string::npos);
    r = h.Put("data/", R"({"data":{"a":1}})");
    CHECK(r.status == 400);
    CHECK(Errors(r) == R"(["missing path"])");

    r = h.Get("data/x", {{"version", "abc"}});
    CHECK(r.status == 400);
    CHECK(Errors(r).find("for field \\\"version\\\"") != std::string::npos);
    // Nothing was written by any of the above.
    CHECK(h.Get("metadata/x").status == 404);
  }

  TEST_CASE("unrecognised parameters are ignored with OpenBao's warning") {
    KvHarness h(2);
    http::Response w = h.Put("data/x", R"({"data":{"a":1},"zeta":1,"alpha":true})");
    REQUIRE(w.status == 200);
    CHECK(Js(Body(w)["warnings"]) ==
          R"(["Endpoint ignored these unrecognized parameters: [alpha zeta]"])");
    http::Response r = h.Get("data/x", {{"foo", "bar"}});
    REQUIRE(r.status == 200);
    CHECK(Js(Body(r)["warnings"]) ==
          R"(["Endpoint ignored these unrecognized parameters: [foo]"])");
    w = h.Put("data/x", R"({"data":{"a":2},"path":"elsewhere"})");
    REQUIRE(w.status == 200);
    CHECK(Js(Body(w)["warnings"]).find("captured from the endpoint's path: [path]") !=
          std::string::npos);
    CHECK(h.Get("data/elsewhere").status == 404);
  }

  TEST_CASE("check-and-set") {
    KvHarness h(2);
    // cas=0: only when the key does not exist.
    REQUIRE(h.Put("data/c", R"({"options":{"cas":0},"data":{"a":1}})").status == 200);
    http::Response r = h.Put("data/c", R"({"options":{"cas":0},"data":{"a":2}})");
    CHECK(r.status == 400);
    CHECK(Errors(r) == R"(["check-and-set parameter did not match the current version"])");
    CHECK(h.Put("data/c", R"({"options":{"cas":1},"data":{"a":2}})").status == 200);
    CHECK(h.Put("data/c", R"({"options":{"cas":"2"},"data":{"a":3}})").status == 200);
    r = h.Put("data/c", R"({"options":{"cas":"abc"},"data":{"a":4}})");
    CHECK(r.status == 400);
    CHECK(Errors(r) == R"(["error parsing check-and-set parameter"])");
    r = h.Put("data/c", R"({"options":{"cas":1.5},"data":{"a":4}})");
    CHECK(Errors(r) == R"(["error parsing check-and-set parameter"])");
    CHECK(V(Body(h.Get("data/c"))["data"]["metadata"]["version"]) == 3);

    SUBCASE("cas_required on the mount") {
      REQUIRE(h.Put("config", R"({"cas_required":true})").status == 204);
      r = h.Put("data/c", R"({"data":{"a":5}})");
      CHECK(r.status == 400);
      CHECK(Errors(r) == R"(["check-and-set parameter required for this call"])");
      CHECK(h.Put("data/c", R"({"options":{"cas":3},"data":{"a":5}})").status == 200);
      // options without cas counts as absent.
      CHECK(h.Put("data/c", R"({"options":{},"data":{"a":6}})").status == 400);
    }
    SUBCASE("cas_required on the key") {
      REQUIRE(h.Put("metadata/c", R"({"cas_required":true})").status == 204);
      CHECK(h.Put("data/c", R"({"data":{"a":5}})").status == 400);
      CHECK(h.Put("data/other", R"({"data":{"a":5}})").status == 200);
      CHECK(h.Put("data/c", R"({"options":{"cas":3},"data":{"a":5}})").status == 200);
    }
  }

  TEST_CASE("max_versions prunes the oldest versions") {
    KvHarness h(2);
    SUBCASE("default keeps 10") {
      for (int i = 0; i < 12; ++i) REQUIRE(h.Put("data/m", R"({"data":{"a":1}})").status == 200);
      rapidjson::Document md = Body(h.Get("metadata/m"));
      CHECK(V(md["data"]["current_version"]) == 12);
      CHECK(V(md["data"]["oldest_version"]) == 3);
      CHECK(md["data"]["versions"].MemberCount() == 10);
      CHECK_FALSE(md["data"]["versions"].HasMember("2"));
      CHECK(md["data"]["versions"].HasMember("3"));
      CHECK(h.Get("data/m", {{"version", "2"}}).status == 404);
      CHECK(h.Get("data/m", {{"version", "3"}}).status == 200);
    }
    SUBCASE("mount max_versions") {
      REQUIRE(h.Put("config", R"({"max_versions":3})").status == 204);
      for (int i = 1; i <= 5; ++i) {
        REQUIRE(h.Put("data/m", R"({"data":{"i":)" + std::to_string(i) + "}}").status == 200);
      }
      rapidjson::Document md = Body(h.Get("metadata/m"));
      CHECK(V(md["data"]["oldest_version"]) == 3);
      CHECK(Keys(md["data"]["versions"]) == std::vector<std::string>{"3", "4", "5"});
      CHECK(h.Get("data/m", {{"version", "2"}}).status == 404);
      CHECK(Js(Body(h.Get("data/m", {{"version", "3"}}))["data"]["data"]) == R"({"i":3})");
    }
    SUBCASE("key max_versions lowered later prunes on the next write") {
      for (int i = 0; i < 5; ++i) REQUIRE(h.Put("data/m", R"({"data":{"a":1}})").status == 200);
      REQUIRE(h.Put("metadata/m", R"({"max_versions":2})").status == 204);
      // Metadata writes do not prune by themselves.
      CHECK(Body(h.Get("metadata/m"))["data"]["versions"].MemberCount() == 5);
      REQUIRE(h.Put("data/m", R"({"data":{"a":2}})").status == 200);
      rapidjson::Document md = Body(h.Get("metadata/m"));
      CHECK(V(md["data"]["max_versions"]) == 2);
      CHECK(Keys(md["data"]["versions"]) == std::vector<std::string>{"5", "6"});
      CHECK(V(md["data"]["oldest_version"]) == 5);
    }
  }

  TEST_CASE("soft delete of the latest version, then undelete") {
    KvHarness h(2);
    h.PutVersions("data/s", 2);
    http::Response d = h.Delete("data/s");
    CHECK(d.status == 204);
    CHECK(d.body.empty());
    // Deleted at once, even at the same clock reading.
    http::Response r = h.Get("data/s");
    CHECK(r.status == 404);
    rapidjson::Document rd = Body(r);
    CheckEnvelope(rd);
    CHECK(rd["data"]["data"].IsNull());
    CHECK(V(rd["data"]["metadata"]["deletion_time"]) == kStart.c_str());
    CHECK(V(rd["data"]["metadata"]["destroyed"]) == false);
    CHECK(V(rd["data"]["metadata"]["version"]) == 2);
    // The older version is still there; deleting again is a no-op 204.
    CHECK(h.Get("data/s", {{"version", "1"}}).status == 200);
    CHECK(h.Delete("data/s").status == 204);
    // Deleting a secret that does not exist is 204 too.
    CHECK(h.Delete("data/never").status == 204);

    REQUIRE(h.Put("undelete/s", R"({"versions":[2]})").status == 204);
    r = h.Get("data/s");
    REQUIRE(r.status == 200);
    CHECK(Js(Body(r)["data"]["data"]) == R"({"a":2})");
    CHECK(V(Body(r)["data"]["metadata"]["deletion_time"]) == "");
  }

  TEST_CASE("delete, undelete and destroy of given versions") {
    KvHarness h(2);
    for (int i = 1; i <= 3; ++i) {
      REQUIRE(h.Put("data/v", R"({"data":{"i":)" + std::to_string(i) + "}}").status == 200);
    }
    CHECK(h.Put("delete/v", R"({"versions":[1,2]})").status == 204);
    CHECK(h.Get("data/v", {{"version", "1"}}).status == 404);
    CHECK(h.Get("data/v", {{"version", "2"}}).status == 404);
    CHECK(h.Get("data/v").status == 200);
    // Versions may come as a comma list or strings.
    CHECK(h.Put("undelete/v", R"({"versions":"1"})").status == 204);
    CHECK(h.Get("data/v", {{"version", "1"}}).status == 200);
    CHECK(h.Put("undelete/v", R"({"versions":["2"]})").status == 204);
    CHECK(h.Get("data/v", {{"version", "2"}}).status == 200);

    CHECK(h.Put("destroy/v", R"({"versions":"1,3"})").status == 204);
    http::Response r = h.Get("data/v", {{"version", "1"}});
    CHECK(r.status == 404);
    CHECK(V(Body(r)["data"]["metadata"]["destroyed"]) == true);
    CHECK(Body(r)["data"]["data"].IsNull());
    CHECK(h.Get("data/v").status == 404);  // latest (3) destroyed
    // Undelete does not bring back destroyed data.
    CHECK(h.Put("undelete/v", R"({"versions":[1]})").status == 204);
    CHECK(h.Get("data/v", {{"version", "1"}}).status == 404);
    rapidjson::Document md = Body(h.Get("metadata/v"));
    CHECK(V(md["data"]["versions"]["1"]["destroyed"]) == true);
    CHECK(V(md["data"]["versions"]["2"]["destroyed"]) == false);
    CHECK(V(md["data"]["versions"]["3"]["destroyed"]) == true);
    // Unknown versions and keys are ignored.
    CHECK(h.Put("delete/v", R"({"versions":[42]})").status == 204);
    CHECK(h.Put("destroy/none", R"({"versions":[1]})").status == 204);
    // The data of a destroyed version is gone from storage.
    Result<std::string> raw = h.backend().Get("kv/secret/s/v");
    REQUIRE(raw.ok());
    CHECK(raw->find("\"i\":1") == std::string::npos);
    CHECK(raw->find("\"i\":2") != std::string::npos);
  }

  TEST_CASE("versions parameter errors") {
    KvHarness h(2);
    REQUIRE(h.Put("data/v", R"({"data":{"a":1}})").status == 200);
    http::Response r = h.Put("delete/v", "{}");
    CHECK(r.status == 400);
    CHECK(Errors(r) == R"(["No version number provided"])");
    CHECK(Errors(h.Put("undelete/v", R"({"versions":[]})")) == R"(["No version number provided"])");
    CHECK(Errors(h.Put("destroy/v", "{}")) == R"(["no version number provided"])");
    r = h.Put("destroy/v", R"({"versions":["x"]})");
    CHECK(r.status == 400);
    CHECK(Errors(r).find("Field validation failed") != std::string::npos);
    CHECK(h.Get("data/v").status == 200);
  }

  TEST_CASE("metadata read shape") {
    KvHarness h(2);
    REQUIRE(h.Put("data/md", R"({"data":{"a":1}})").status == 200);
    h.clock().Advance(std::chrono::seconds(5));
    REQUIRE(h.Put("data/md", R"({"data":{"a":2}})").status == 200);
    http::Response r = h.Get("metadata/md");
    REQUIRE(r.status == 200);
    rapidjson::Document d = Body(r);
    CheckEnvelope(d);
    CHECK(Keys(d["data"]) ==
          std::vector<std::string>{"cas_required", "created_time", "current_metadata_version",
                                   "current_version", "custom_metadata", "delete_version_after",
                                   "max_versions", "metadata_cas_required", "oldest_version",
                                   "updated_time", "versions"});
    CHECK(
        Js(d["data"]) ==
        R"({"cas_required":false,"created_time":"2023-11-14T22:13:20Z",)"
        R"("current_metadata_version":0,"current_version":2,)"
        R"("custom_metadata":null,"delete_version_after":"0s","max_versions":0,)"
        R"("metadata_cas_required":false,"oldest_version":0,"updated_time":"2023-11-14T22:13:25Z","versions":{)"
        R"("1":{"created_time":"2023-11-14T22:13:20Z","deletion_time":"","destroyed":false},)"
        R"("2":{"created_time":"2023-11-14T22:13:25Z","deletion_time":"","destroyed":false}}})");
  }

  TEST_CASE("metadata versions are ordered as Go orders map keys") {
    KvHarness h(2);
    REQUIRE(h.Put("metadata/o", R"({"max_versions":20})").status == 204);
    for (int i = 0; i < 11; ++i) REQUIRE(h.Put("data/o", R"({"data":{"a":1}})").status == 200);
    rapidjson::Document d = Body(h.Get("metadata/o"));
    std::vector<std::string> keys = Keys(d["data"]["versions"]);
    REQUIRE(keys.size() == 11);
    CHECK(keys[0] == "1");
    CHECK(keys[1] == "10");
    CHECK(keys[2] == "11");
    CHECK(keys[3] == "2");
  }

  TEST_CASE("metadata write: settings and custom_metadata") {
    KvHarness h(2);
    http::Response w =
        h.Put("metadata/cm", R"({"max_versions":5,"cas_required":false,)"
                             R"("delete_version_after":"3h25m19s",)"
                             R"("custom_metadata":{"owner":"jdoe","n":7,"b":true}})");
    CHECK(w.status == 204);
    CHECK(w.body.empty());
    rapidjson::Document d = Body(h.Get("metadata/cm"));
    CHECK(V(d["data"]["max_versions"]) == 5);
    CHECK(V(d["data"]["delete_version_after"]) == "3h25m19s");
    CHECK(V(d["data"]["current_version"]) == 0);
    CHECK(V(d["data"]["created_time"]) == kStart.c_str());
    CHECK(V(d["data"]["updated_time"]) == kStart.c_str());
    CHECK(Js(d["data"]["versions"]) == "{}");
    CHECK(Js(d["data"]["custom_metadata"]) == R"({"b":"1","n":"7","owner":"jdoe"})");
    // A metadata-only key has no data yet.
    CHECK(h.Get("data/cm").status == 404);
    // Writes carry custom_metadata in their version info, and reads too.
    http::Response put = h.Put("data/cm", R"({"options":{"cas":0},"data":{"a":1}})");
    REQUIRE(put.status == 200);
    CHECK(Js(Body(put)["data"]["custom_metadata"]) == R"({"b":"1","n":"7","owner":"jdoe"})");
    CHECK(Js(Body(h.Get("data/cm"))["data"]["metadata"]["custom_metadata"]) ==
          R"({"b":"1","n":"7","owner":"jdoe"})");
    // Durations: a number of seconds; an empty map clears custom_metadata.
    REQUIRE(h.Put("metadata/cm", R"({"delete_version_after":90,"custom_metadata":{}})").status ==
            204);
    d = Body(h.Get("metadata/cm"));
    CHECK(V(d["data"]["delete_version_after"]) == "1m30s");
    CHECK(d["data"]["custom_metadata"].IsNull());
    // Nothing to change: 204, nothing written.
    CHECK(h.Put("metadata/cm", "{}").status == 204);
    CHECK(h.Put("metadata/fresh", "{}").status == 204);
    CHECK(h.Get("metadata/fresh").status == 404);
  }

  TEST_CASE("metadata write validation") {
    KvHarness h(2);
    http::Response r = h.Put("metadata/", R"({"max_versions":1})");
    CHECK(r.status == 400);
    CHECK(Errors(r) == R"(["missing path"])");
    r = h.Put("metadata/x", R"({"custom_metadata":{"k":""}})");
    CHECK(r.status == 400);
    CHECK(Errors(r) ==
          R"(["1 error occurred:\n\t* custom_metadata validation failed: length of value for )"
          R"(key \"k\" is 0 but must be 0 < len(value) <= 512\n\n"])");
    std::string many = "{";
    for (int i = 0; i < 65; ++i) many += (i ? "," : "") + ("\"k" + std::to_string(i) + "\":\"v\"");
    many += "}";
    r = h.Put("metadata/x", R"({"custom_metadata":)" + many + "}");
    CHECK(r.status == 400);
    CHECK(Errors(r).find("payload must contain at most 64 keys, provided 65") != std::string::npos);
    r = h.Put("metadata/x", R"({"custom_metadata":{"k":{"nested":1}}})");
    CHECK(r.status == 400);
    CHECK(Errors(r).find("custom_metadata validation failed") != std::string::npos);
    r = h.Put("metadata/x", R"({"custom_metadata":{"a":"\u0001","":"v"}})");
    CHECK(r.status == 400);
    CHECK(Errors(r).find("2 errors occurred") != std::string::npos);
    r = h.Put("metadata/x", R"({"max_versions":"many"})");
    CHECK(r.status == 400);
    r = h.Put("metadata/x", R"({"delete_version_after":"-5s"})");
    CHECK(r.status == 400);
    CHECK(Errors(r).find("negative") != std::string::npos);
    r = h.Put("metadata/x", R"({"delete_version_after":"5 parsecs"})");
    CHECK(r.status == 400);
    r = h.Put("metadata/x", R"({"cas_required":"maybe"})");
    CHECK(r.status == 400);
    CHECK(h.Get("metadata/x").status == 404);
  }

  TEST_CASE("metadata cas_required=false under a mount that requires cas warns") {
    KvHarness h(2);
    REQUIRE(h.Put("config", R"({"cas_required":true})").status == 204);
    http::Response r = h.Put("metadata/w", R"({"cas_required":false})");
    REQUIRE(r.status == 200);
    rapidjson::Document d = Body(r);
    CheckEnvelope(d);
    CHECK(d["data"].IsNull());
    CHECK(Js(d["warnings"]) ==
          R"(["\"cas_required\" set to false, but is mandated by backend config. This value )"
          R"(will be ignored."])");
  }

  TEST_CASE("metadata patch") {
    KvHarness h(2);
    REQUIRE(
        h.Put("metadata/p", R"({"max_versions":5,"custom_metadata":{"a":"1","b":"2"}})").status ==
        204);
    http::Response r =
        h.Patch("metadata/p", R"({"max_versions":7,"custom_metadata":{"a":null,"c":3}})");
    CHECK(r.status == 204);
    rapidjson::Document d = Body(h.Get("metadata/p"));
    CHECK(V(d["data"]["max_versions"]) == 7);
    CHECK(Js(d["data"]["custom_metadata"]) == R"({"b":"2","c":"3"})");
    // A top-level null leaves the field as it is.
    REQUIRE(h.Patch("metadata/p", R"({"max_versions":null,"cas_required":true})").status == 204);
    d = Body(h.Get("metadata/p"));
    CHECK(V(d["data"]["max_versions"]) == 7);
    CHECK(V(d["data"]["cas_required"]) == true);
    // Missing key: bare 404.
    r = h.Patch("metadata/none", R"({"max_versions":1})");
    CHECK(r.status == 404);
    CHECK(r.body.empty());
    // Content type.
    r = h.Patch("metadata/p", R"({"max_versions":1})", "application/json");
    CHECK(r.status == 415);
    CHECK(Errors(r) == R"(["PATCH requires Content-Type of application/merge-patch+json, )"
                       R"(provided application/json"])");
    r = h.Patch("metadata/p", R"({"max_versions":1})", "");
    CHECK(r.status == 400);
    CHECK(h.Patch("metadata/p", R"({"max_versions":1})",
                  "Application/Merge-Patch+JSON; charset=utf-8")
              .status == 204);
    r = h.Patch("metadata/p", R"({"custom_metadata":{"x":""}})");
    CHECK(r.status == 400);
  }

  TEST_CASE("metadata check-and-set") {
    KvHarness h(2);
    // Without a requirement metadata_cas is optional; each metadata write bumps the counter.
    REQUIRE(h.Put("metadata/m", R"({"max_versions":3})").status == 204);
    CHECK(V(Body(h.Get("metadata/m"))["data"]["current_metadata_version"]) == 1);
    http::Response r = h.Put("metadata/m", R"({"max_versions":4,"metadata_cas":0})");
    CHECK(r.status == 400);
    CHECK(Errors(r) ==
          R"(["metadata check-and-set parameter does not match the current version"])");
    CHECK(h.Put("metadata/m", R"({"max_versions":4,"metadata_cas":1})").status == 204);
    CHECK(h.Patch("metadata/m", R"({"max_versions":5,"metadata_cas":2})").status == 204);
    rapidjson::Document d = Body(h.Get("metadata/m"));
    CHECK(V(d["data"]["current_metadata_version"]) == 3);
    CHECK(V(d["data"]["max_versions"]) == 5);
    // Data writes do not touch the metadata counter.
    REQUIRE(h.Put("data/m", R"({"data":{"a":1}})").status == 200);
    CHECK(V(Body(h.Get("metadata/m"))["data"]["current_metadata_version"]) == 3);

    SUBCASE("required by the key") {
      REQUIRE(h.Put("metadata/m", R"({"metadata_cas_required":true,"metadata_cas":3})").status ==
              204);
      r = h.Put("metadata/m", R"({"max_versions":9})");
      CHECK(r.status == 400);
      CHECK(Errors(r) == R"(["metadata check-and-set parameter required for this call"])");
      CHECK(h.Patch("metadata/m", R"({"max_versions":9})").status == 400);
      CHECK(h.Put("metadata/m", R"({"max_versions":9,"metadata_cas":4})").status == 204);
      d = Body(h.Get("metadata/m"));
      CHECK(V(d["data"]["metadata_cas_required"]) == true);
      CHECK(V(d["data"]["max_versions"]) == 9);
    }
    SUBCASE("required by the mount") {
      REQUIRE(h.Put("config", R"({"metadata_cas_required":true})").status == 204);
      CHECK(V(Body(h.Get("config"))["data"]["metadata_cas_required"]) == true);
      CHECK(h.Put("metadata/new", R"({"max_versions":1})").status == 400);
      CHECK(h.Put("metadata/new", R"({"max_versions":1,"metadata_cas":0})").status == 204);
      r = h.Put("metadata/new", R"({"metadata_cas_required":false,"metadata_cas":1})");
      REQUIRE(r.status == 200);
      CHECK(Js(Body(r)["warnings"]) ==
            R"(["\"metadata_cas_required\" set to false, but is mandated by backend config. )"
            R"(This value will be ignored."])");
    }
  }

  TEST_CASE("metadata delete removes every version") {
    KvHarness h(2);
    h.PutVersions("data/gone", 2);
    http::Response r = h.Delete("metadata/gone");
    CHECK(r.status == 204);
    CHECK(h.Get("data/gone").status == 404);
    CHECK(h.Get("data/gone", {{"version", "1"}}).status == 404);
    CHECK(h.Get("metadata/gone").status == 404);
    CHECK(h.List("metadata/").status == 404);
    CHECK(h.Delete("metadata/gone").status == 204);
    // A new secret at the same path starts again at version 1.
    REQUIRE(h.Put("data/gone", R"({"data":{"a":3}})").status == 200);
    CHECK(V(Body(h.Get("data/gone"))["data"]["metadata"]["version"]) == 1);
  }

  TEST_CASE("list metadata folders") {
    KvHarness h(2);
    CHECK(h.List("metadata/").status == 404);
    CHECK(h.List("metadata/").body == R"({"errors":[]})");
    for (const char* p : {"a", "b/c", "b/d", "b/e/f", "a.b", "c"}) {
      REQUIRE(h.Put(std::string("data/") + p, R"({"data":{"x":1}})").status == 200);
    }
    http::Response r = h.List("metadata/");
    REQUIRE(r.status == 200);
    rapidjson::Document d = Body(r);
    CheckEnvelope(d);
    CHECK(Js(d["data"]) == R"({"keys":["a","a.b","b/","c"]})");
    // A missing trailing slash is added, as OpenBao does for list operations.
    CHECK(Js(Body(h.List("metadata/b"))["data"]["keys"]) == R"(["c","d","e/"])");
    CHECK(Js(Body(h.List("metadata/b/e/"))["data"]["keys"]) == R"(["f"])");
    // Listing a secret (not a folder) or nothing: 404.
    CHECK(h.List("metadata/a").status == 404);
    CHECK(h.List("metadata/zzz/").status == 404);
    // Paging.
    CHECK(Js(Body(h.List("metadata/", {{"after", "a"}}))["data"]["keys"]) == R"(["a.b","b/","c"])");
    CHECK(Js(Body(h.List("metadata/", {{"limit", "2"}}))["data"]["keys"]) == R"(["a","a.b"])");
    CHECK(h.List("metadata/", {{"after", "c"}}).status == 404);
    CHECK(h.List("metadata/", {{"limit", "x"}}).status == 400);
    // Scan is recursive.
    CHECK(Js(Body(h.Call(KvOp::kScan, "metadata/b"))["data"]["keys"]) == R"(["c","d","e/f"])");
    // Soft-deleted secrets are still listed (their metadata exists).
    REQUIRE(h.Delete("data/c").status == 204);
    CHECK(Js(Body(h.List("metadata/"))["data"]["keys"]) == R"(["a","a.b","b/","c"])");
  }

  TEST_CASE("detailed-metadata lists key_info") {
    KvHarness h(2);
    REQUIRE(h.Put("data/d/one", R"({"data":{"x":1}})").status == 200);
    REQUIRE(h.Put("data/d/sub/two", R"({"data":{"x":1}})").status == 200);
    http::Response r = h.List("detailed-metadata/d");
    REQUIRE(r.status == 200);
    rapidjson::Document d = Body(r);
    CHECK(Keys(d["data"]) == std::vector<std::string>{"key_info", "keys"});
    CHECK(Js(d["data"]["keys"]) == R"(["one","sub/"])");
    CHECK(Keys(d["data"]["key_info"]) == std::vector<std::string>{"one"});
    CHECK(V(d["data"]["key_info"]["one"]["current_version"]) == 1);
    CHECK(h.Get("detailed-metadata/d/one").status == 405);
  }

  TEST_CASE("subkeys") {
    KvHarness h(2);
    REQUIRE(h.Put("data/sk", R"({"data":{"foo":"abc","bar":{"baz":"def","q":{"r":1}},"quux":{}}})")
                .status == 200);
    http::Response r = h.Get("subkeys/sk");
    REQUIRE(r.status == 200);
    rapidjson::Document d = Body(r);
    CheckEnvelope(d);
    CHECK(Keys(d["data"]) == std::vector<std::string>{"metadata", "subkeys"});
    CHECK(Js(d["data"]["subkeys"]) ==
          R"({"bar":{"baz":null,"q":{"r":null}},"foo":null,"quux":null})");
    CHECK(V(d["data"]["metadata"]["version"]) == 1);
    CHECK(Js(Body(h.Get("subkeys/sk", {{"depth", "1"}}))["data"]["subkeys"]) ==
          R"({"bar":null,"foo":null,"quux":null})");
    CHECK(Js(Body(h.Get("subkeys/sk", {{"depth", "2"}}))["data"]["subkeys"]) ==
          R"({"bar":{"baz":null,"q":null},"foo":null,"quux":null})");
    REQUIRE(h.Delete("data/sk").status == 204);
    r = h.Get("subkeys/sk");
    CHECK(r.status == 404);
    CHECK(Body(r)["data"]["subkeys"].IsNull());
    CHECK(h.Put("subkeys/sk", R"({"a":1})").status == 405);
  }

  TEST_CASE("config read and write") {
    KvHarness h(2);
    http::Response r = h.Get("config");
    REQUIRE(r.status == 200);
    rapidjson::Document d = Body(r);
    CheckEnvelope(d);
    CHECK(Js(d["data"]) == R"({"cas_required":false,"delete_version_after":"0s","max_versions":0,)"
                           R"("metadata_cas_required":false})");
    CHECK(h.Put("config", R"({"max_versions":4,"cas_required":"true","delete_version_after":"1h"})")
              .status == 204);
    CHECK(Js(Body(h.Get("config"))["data"]) ==
          R"({"cas_required":true,"delete_version_after":"1h0m0s","max_versions":4,)"
          R"("metadata_cas_required":false})");
    // Partial update keeps the rest; a negative duration disables delete_version_after.
    CHECK(h.Put("config", R"({"delete_version_after":-10})").status == 204);
    CHECK(Js(Body(h.Get("config"))["data"]) ==
          R"({"cas_required":true,"delete_version_after":"-1s","max_versions":4,)"
          R"("metadata_cas_required":false})");
    CHECK(h.Put("config", R"({"delete_version_after":0,"cas_required":false})").status == 204);
    CHECK(Js(Body(h.Get("config"))["data"]) ==
          R"({"cas_required":false,"delete_version_after":"0s","max_versions":4,)"
          R"("metadata_cas_required":false})");
    CHECK(h.Put("config", R"({"max_versions":"x"})").status == 400);
    CHECK(h.Put("config", "{}").status == 204);
    r = h.Put("config", R"({"unknown":1})");
    CHECK(r.status == 204);  // no response object, so no warning either (as OpenBao)
  }

  TEST_CASE("delete_version_after schedules deletion") {
    KvHarness h(2);
    REQUIRE(h.Put("metadata/t", R"({"delete_version_after":"10s"})").status == 204);
    http::Response w = h.Put("data/t", R"({"data":{"a":1}})");
    REQUIRE(w.status == 200);
    CHECK(V(Body(w)["data"]["deletion_time"]) == "2023-11-14T22:13:30Z");
    CHECK(h.Get("data/t").status == 200);  // scheduled, not yet passed
    h.clock().Advance(std::chrono::seconds(11));
    http::Response r = h.Get("data/t");
    CHECK(r.status == 404);
    CHECK(V(Body(r)["data"]["metadata"]["deletion_time"]) == "2023-11-14T22:13:30Z");
    // Undelete restarts the schedule from now.
    REQUIRE(h.Put("undelete/t", R"({"versions":[1]})").status == 204);
    r = h.Get("data/t");
    REQUIRE(r.status == 200);
    CHECK(V(Body(r)["data"]["metadata"]["deletion_time"]) == "2023-11-14T22:13:41Z");

    SUBCASE("the smaller of mount and key wins; a disabled mount turns it off") {
      REQUIRE(h.Put("config", R"({"delete_version_after":"5s"})").status == 204);
      w = h.Put("data/t", R"({"data":{"a":2}})");
      CHECK(V(Body(w)["data"]["deletion_time"]) == "2023-11-14T22:13:36Z");
      REQUIRE(h.Put("config", R"({"delete_version_after":"-1s"})").status == 204);
      w = h.Put("data/t", R"({"data":{"a":3}})");
      CHECK(V(Body(w)["data"]["deletion_time"]) == "");
    }
  }

  TEST_CASE("data patch") {
    KvHarness h(2);
    http::Response r = h.Patch("data/p", R"({"data":{"a":1}})");
    CHECK(r.status == 404);
    CHECK(r.body.empty());
    REQUIRE(h.Put("data/p", R"({"data":{"a":1,"b":{"c":2,"d":3},"e":[1,2]}})").status == 200);
    r = h.Patch("data/p", R"({"data":{"a":null,"b":{"c":20,"x":null},"e":[3],"f":"new"}})");
    REQUIRE(r.status == 200);
    rapidjson::Document d = Body(r);
    CheckEnvelope(d);
    CHECK(V(d["data"]["version"]) == 2);
    CHECK(Js(Body(h.Get("data/p"))["data"]["data"]) == R"({"b":{"c":20,"d":3},"e":[3],"f":"new"})");
    // cas applies to patch.
    r = h.Patch("data/p", R"({"options":{"cas":1},"data":{"a":1}})");
    CHECK(r.status == 400);
    CHECK(Errors(r) == R"(["check-and-set parameter did not match the current version"])");
    CHECK(h.Patch("data/p", R"({"options":{"cas":2},"data":{"a":1}})").status == 200);
    // Missing data; wrong content type.
    CHECK(Errors(h.Patch("data/p", R"({"options":{}})")) == R"(["no data provided"])");
    CHECK(h.Patch("data/p", R"({"data":{"a":1}})", "application/json").status == 415);
    CHECK(h.Patch("data/p", R"({"data":{"a":1}})", "").status == 400);
    // Patch of a deleted latest version: 404 with the version info.
    REQUIRE(h.Delete("data/p").status == 204);
    r = h.Patch("data/p", R"({"data":{"a":1}})");
    CHECK(r.status == 404);
    d = Body(r);
    CheckEnvelope(d);
    CHECK(Keys(d["data"]) == std::vector<std::string>{"created_time", "custom_metadata",
                                                      "deletion_time", "destroyed", "version"});
    CHECK(V(d["data"]["version"]) == 3);
    // Patch of a metadata-only key: bare 404.
    REQUIRE(h.Put("metadata/only", R"({"max_versions":2})").status == 204);
    CHECK(h.Patch("data/only", R"({"data":{"a":1}})").status == 404);
  }

  TEST_CASE("invalid paths answer 404 with OpenBao's warnings") {
    KvHarness h(2);
    http::Response r = h.Get("foo");
    CHECK(r.status == 404);
    rapidjson::Document d = Body(r);
    CheckEnvelope(d);
    CHECK(d["data"].IsNull());
    CHECK(Js(d["warnings"]) ==
          R"(["Invalid path for a versioned K/V secrets engine. See the API docs for the )"
          R"(appropriate API endpoints to use. If using the OpenBao CLI, use 'bao kv get' for )"
          R"(this operation."])");
    CHECK(Js(Body(h.Put("foo/bar", R"({"a":1})"))["warnings"]).find("'bao kv put'") !=
          std::string::npos);
    CHECK(Js(Body(h.List(""))["warnings"]).find("'bao kv list'") != std::string::npos);
    CHECK(Js(Body(h.Delete("config/x"))["warnings"]).find("'bao kv delete'") != std::string::npos);
    r = h.Get("data");
    CHECK(r.status == 404);
    CHECK(Js(Body(r)["warnings"]) ==
          R"(["Non-listing operations on the root of a K/V v2 mount are not supported."])");
    CHECK(h.Put("metadata", "{}").status == 404);
    CHECK(h.Get("data/a\nb").status == 404);
  }

  TEST_CASE("operations a path does not support answer 405") {
    KvHarness h(2);
    const std::string kBody = R"({"errors":["1 error occurred:\n\t* unsupported operation\n\n"]})";
    http::Response r = h.Get("delete/x");
    CHECK(r.status == 405);
    CHECK(r.body == kBody);
    CHECK(h.Get("destroy/x").status == 405);
    CHECK(h.Get("undelete/x").status == 405);
    CHECK(h.Delete("config").status == 405);
    CHECK(h.Patch("config", R"({"max_versions":1})").status == 405);
    CHECK(h.List("data/").status == 405);
    CHECK(h.List("config").status == 404);  // "config/" is not a path
    CHECK(h.Delete("delete/x").status == 405);
    CHECK(h.Patch("destroy/x", "{}").status == 405);
  }

  TEST_CASE("a write with a stale fencing epoch is refused, not acknowledged") {
    KvHarness h(2);
    h.epoch = 5;
    REQUIRE(h.Put("data/f", R"({"data":{"a":1}})").status == 200);
    REQUIRE(h.backend().RecordEpoch(7).ok());

    h.epoch = 6;  // a former active
    http::Response r = h.Put("data/f", R"({"data":{"a":2}})");
    CHECK(r.status == 503);
    CHECK(IsNotActive(r));
    CHECK(Errors(r) == R"(["node is not active"])");
    // Every kind of write, including ones that would change nothing.
    CHECK(IsNotActive(h.Delete("data/f")));
    CHECK(IsNotActive(h.Delete("data/never")));
    CHECK(IsNotActive(h.Patch("data/f", R"({"data":{"a":3}})")));
    CHECK(IsNotActive(h.Put("metadata/f", R"({"max_versions":1})")));
    CHECK(IsNotActive(h.Put("metadata/f", "{}")));
    CHECK(IsNotActive(h.Delete("metadata/f")));
    CHECK(IsNotActive(h.Put("destroy/f", R"({"versions":[1]})")));
    CHECK(IsNotActive(h.Put("config", R"({"max_versions":1})")));
    // Reads still work, and nothing changed.
    r = h.Get("data/f");
    REQUIRE(r.status == 200);
    CHECK_FALSE(IsNotActive(r));
    CHECK(Js(Body(r)["data"]["data"]) == R"({"a":1})");
    CHECK(V(Body(h.Get("metadata/f"))["data"]["max_versions"]) == 0);
    // The current epoch writes.
    h.epoch = 7;
    r = h.Put("data/f", R"({"data":{"a":4}})");
    CHECK(r.status == 200);
    CHECK_FALSE(IsNotActive(r));
  }

  TEST_CASE("Writes (the one read/write decision) and engine identity") {
    KvHarness h(2);
    CHECK(h.engine().Type() == "kv");
    CHECK(h.engine().Version() == 2);
    for (int version : {1, 2}) {
      KvHarness e(version);
      KvRequest req;
      for (KvOp op : {KvOp::kRead, KvOp::kList, KvOp::kScan}) {
        req.op = op;
        CHECK_FALSE(e.engine().Writes(req));
      }
      for (KvOp op : {KvOp::kWrite, KvOp::kPatch, KvOp::kDelete}) {
        req.op = op;
        CHECK(e.engine().Writes(req));
      }
    }
  }

  TEST_CASE("mounts with different prefixes are isolated") {
    auto backend = std::make_unique<InmemBackend>();
    Backend* shared = backend.get();
    KvHarness a(2, std::move(backend), "kv2/a/");
    KvEngineOptions o;
    o.backend = shared;
    o.storage_prefix = "kv2/b/";
    std::unique_ptr<SecretsEngine> b = NewKvV2Engine(o);
    REQUIRE(a.Put("data/x", R"({"data":{"a":1}})").status == 200);
    KvRequest req;
    req.op = KvOp::kRead;
    req.path = "data/x";
    std::promise<http::Response> p;
    b->Handle(req, [&](http::Response r) { p.set_value(std::move(r)); });
    CHECK(p.get_future().get().status == 404);
    Result<std::vector<std::string>> keys = shared->List("");
    REQUIRE(keys.ok());
    CHECK(*keys == std::vector<std::string>{"kv2/a/s/x"});
  }

  TEST_CASE("concurrent writes to one secret each get their own version") {
    KvHarness h(2);
    REQUIRE(h.Put("metadata/race", R"({"max_versions":100})").status == 204);
    constexpr int kWriters = 8, kEach = 5;
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    std::mutex versions_mu;
    std::vector<int> versions;
    for (int t = 0; t < kWriters; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          KvRequest req;
          req.op = KvOp::kWrite;
          req.path = "data/race";
          req.body = R"({"data":{"t":)" + std::to_string(t) + "}}";
          req.epoch = 1;
          std::promise<http::Response> p;
          std::future<http::Response> f = p.get_future();
          h.engine().Handle(req, [&](http::Response r) { p.set_value(std::move(r)); });
          if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return;
          http::Response r = f.get();
          if (r.status != 200) continue;
          ++ok;
          rapidjson::Document d;
          d.Parse(r.body.c_str());
          std::lock_guard<std::mutex> l(versions_mu);
          versions.push_back(d["data"]["version"].GetInt());
        }
      });
    }
    for (auto& t : threads) t.join();
    CHECK(ok.load() == kWriters * kEach);
    std::sort(versions.begin(), versions.end());
    std::vector<int> want(kWriters * kEach);
    for (size_t i = 0; i < want.size(); ++i) want[i] = static_cast<int>(i) + 1;
    CHECK(versions == want);
    CHECK(V(Body(h.Get("metadata/race"))["data"]["current_version"]) == kWriters * kEach);
  }

  TEST_CASE("a corrupt record is a 500, not a crash") {
    KvHarness h(2);
    REQUIRE(h.backend().Put("kv/secret/s/bad", "garbage", 1).ok());
    http::Response r = h.Get("data/bad");
    CHECK(r.status == 500);
    CHECK(Errors(r).find("kv record") != std::string::npos);
    CHECK(h.Put("data/bad", R"({"data":{"a":1}})").status == 500);
    CHECK(h.Get("metadata/bad").status == 500);
  }

  TEST_CASE("a path too long for the backend") {
    KvHarness h(2);
    std::string longpath = "data/" + std::string(2000, 'x');
    CHECK(h.Get(longpath).status == 404);
    http::Response r = h.Put(longpath, R"({"data":{"a":1}})");
    CHECK(r.status == 400);
    CHECK_FALSE(IsNotActive(r));
  }
}

}  // namespace
}  // namespace halo::kv::testing
