#include "node/sys_handlers.h"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

namespace halo::node {
namespace {

NodeSnapshot Active() {
  NodeSnapshot s;
  s.active = true;
  s.active_since_micros = 1'700'000'000'123'456;
  s.leader = {true, "http://127.0.0.1:8210", "https://127.0.0.1:8211", 7};
  s.cluster_name = "c1";
  s.cluster_id = "id1";
  s.storage_type = "lmdb";
  s.now_micros = 1'700'000'100'000'000;
  return s;
}

NodeSnapshot Standby() {
  NodeSnapshot s = Active();
  s.active = false;
  s.active_since_micros = 0;
  return s;
}

http::QueryParams Q(std::string_view text) {
  Result<http::QueryParams> q = http::QueryParams::Parse(text);
  REQUIRE(q.ok());
  return *q;
}

rapidjson::Document Json(const http::Response& r) {
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

TEST_CASE("sys/health status codes follow OpenBao") {
  CHECK(HandleHealth("GET", Q(""), Active()).status == 200);
  CHECK(HandleHealth("GET", Q(""), Standby()).status == 429);
  CHECK(HandleHealth("GET", Q("standbyok=true"), Standby()).status == 200);
  CHECK(HandleHealth("GET", Q("standbyok"), Standby()).status == 200);
  CHECK(HandleHealth("GET", Q("standbyok=false"), Standby()).status == 429);
  CHECK(HandleHealth("GET", Q("standbycode=299"), Standby()).status == 299);
  CHECK(HandleHealth("GET", Q("activecode=204"), Active()).status == 204);
  CHECK(HandleHealth("GET", Q("standbyok=true&activecode=201"), Standby()).status == 201);

  NodeSnapshot sealed = Standby();
  sealed.sealed = true;
  CHECK(HandleHealth("GET", Q(""), sealed).status == 503);
  CHECK(HandleHealth("GET", Q("sealedcode=204&standbyok=true"), sealed).status == 204);
  NodeSnapshot uninit = sealed;
  uninit.initialized = false;
  CHECK(HandleHealth("GET", Q(""), uninit).status == 501);  // uninit checked before sealed
  CHECK(HandleHealth("GET", Q("uninitcode=299"), uninit).status == 299);
}

TEST_CASE("sys/health rejects bad parameters and methods") {
  CHECK(HandleHealth("GET", Q("standbyok=maybe"), Standby()).status == 400);
  CHECK(HandleHealth("GET", Q("activecode=abc"), Active()).status == 400);
  CHECK(HandleHealth("GET", Q("activecode=42"), Active()).status == 400);
  CHECK(HandleHealth("GET", Q("sealedcode=1000"), Active()).status == 400);
  http::Response bad = HandleHealth("GET", Q("standbycode="), Active());
  CHECK(bad.status == 400);
  CHECK(bad.body.find("\"errors\"") != std::string::npos);
  CHECK(HandleHealth("POST", Q(""), Active()).status == 405);
}

TEST_CASE("sys/health code parameters: final codes 200-599 only, else 400 {errors}") {
  struct Row {
    const char* query;
    int status;
  };
  const Row rows[] = {
      {"activecode=100", 400},  {"activecode=101", 400}, {"activecode=199", 400},
      {"activecode=200", 200},  {"activecode=302", 302}, {"activecode=599", 599},
      {"activecode=600", 400},  {"activecode=0", 400},   {"activecode=-200", 400},
      {"standbycode=100", 400}, {"sealedcode=150", 400}, {"uninitcode=700", 400},
  };
  for (const Row& row : rows) {
    CAPTURE(row.query);
    http::Response r = HandleHealth("GET", Q(row.query), Active());
    CHECK(r.status == row.status);
    if (row.status == 400) CHECK(r.body.find("{\"errors\":[\"") == 0);
  }
}

TEST_CASE("sys/health body and HEAD") {
  http::Response r = HandleHealth("GET", Q(""), Standby());
  rapidjson::Document d = Json(r);
  CHECK(d["initialized"].GetBool());
  CHECK_FALSE(d["sealed"].GetBool());
  CHECK(d["standby"].GetBool());
  CHECK_FALSE(d["performance_standby"].GetBool());
  CHECK(std::string(d["replication_dr_mode"].GetString()) == "disabled");
  CHECK(d["server_time_utc"].GetInt64() == 1'700'000'100);
  CHECK(std::string(d["cluster_name"].GetString()) == "c1");
  CHECK(std::string(d["cluster_id"].GetString()) == "id1");
  CHECK(d.HasMember("version"));
  http::Response head = HandleHealth("HEAD", Q(""), Standby());
  CHECK(head.status == 429);
  CHECK(head.body.empty());
}

TEST_CASE("sys/leader on active, standby, no leader, non-HA") {
  rapidjson::Document a = Json(HandleLeader(Active()));
  CHECK(a["ha_enabled"].GetBool());
  CHECK(a["is_self"].GetBool());
  CHECK(std::string(a["leader_address"].GetString()) == "http://127.0.0.1:8210");
  CHECK(std::string(a["leader_cluster_address"].GetString()) == "https://127.0.0.1:8211");
  CHECK(std::string(a["active_time"].GetString()) == "2023-11-14T22:13:20.123456Z");
  CHECK(a["index"].GetUint64() == 7);

  rapidjson::Document s = Json(HandleLeader(Standby()));
  CHECK_FALSE(s["is_self"].GetBool());
  CHECK_FALSE(s.HasMember("active_time"));
  CHECK(std::string(s["leader_address"].GetString()) == "http://127.0.0.1:8210");

  NodeSnapshot none = Standby();
  none.leader.known = false;
  rapidjson::Document n = Json(HandleLeader(none));
  CHECK(std::string(n["leader_address"].GetString()).empty());

  NodeSnapshot single = Active();
  single.ha_enabled = false;
  rapidjson::Document h = Json(HandleLeader(single));
  CHECK_FALSE(h["ha_enabled"].GetBool());
  CHECK_FALSE(h.HasMember("leader_address"));
  CHECK(h.HasMember("index"));
}

TEST_CASE("sys/seal-status") {
  rapidjson::Document d = Json(HandleSealStatus(Standby()));
  CHECK(std::string(d["type"].GetString()) == "shamir");
  CHECK_FALSE(d["sealed"].GetBool());
  CHECK(d["initialized"].GetBool());
  CHECK(std::string(d["storage_type"].GetString()) == "lmdb");
  CHECK(std::string(d["cluster_name"].GetString()) == "c1");
}

TEST_CASE("ParseLeaderWait") {
  Result<LeaderWait> none = ParseLeaderWait(Q(""));
  REQUIRE(none.ok());
  CHECK_FALSE(none->blocking);
  Result<LeaderWait> w = ParseLeaderWait(Q("index=5&wait=2s"));
  REQUIRE(w.ok());
  CHECK(w->blocking);
  CHECK(w->index == 5);
  CHECK(w->wait_ms == 2000);
  Result<LeaderWait> d = ParseLeaderWait(Q("index=0"));
  REQUIRE(d.ok());
  CHECK(d->wait_ms == kDefaultLeaderWaitMs);
  Result<LeaderWait> capped = ParseLeaderWait(Q("index=1&wait=10h"));
  REQUIRE(capped.ok());
  CHECK(capped->wait_ms == kMaxLeaderWaitMs);
  CHECK(kMaxLeaderWaitMs == 300'000);  // 5m, documented in node/README.md
  CHECK_FALSE(ParseLeaderWait(Q("index=x")).ok());
  CHECK_FALSE(ParseLeaderWait(Q("index=-1")).ok());
  CHECK_FALSE(ParseLeaderWait(Q("index=1&wait=soon")).ok());
}

TEST_CASE("FormatRfc3339") {
  CHECK(FormatRfc3339(0) == "1970-01-01T00:00:00Z");
  CHECK(FormatRfc3339(1'500'000) == "1970-01-01T00:00:01.5Z");
}

}  // namespace
}  // namespace halo::node
