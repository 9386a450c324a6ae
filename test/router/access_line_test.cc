#include "router/access_line.h"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <string>

namespace halo::router {
namespace {

std::string Json(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

TEST_CASE("AppendJsonString escapes what could break a line or the JSON") {
  struct Case {
    std::string in, out;
  } cases[] = {
      {"plain/path", "\"plain/path\""},
      {"a\"b\\c", "\"a\\\"b\\\\c\""},
      {std::string("nl\nnul\0x", 8), "\"nl\\u000anul\\u0000x\""},
      {"\x7f", "\"\\u007f\""},
      {"caf\xc3\xa9", "\"caf\xc3\xa9\""},  // valid UTF-8 passes
      {"\xe2\x82\xac\xf0\x9f\x98\x80", "\"\xe2\x82\xac\xf0\x9f\x98\x80\""},
      {"bad\xc3", "\"bad\\ufffd\""},                  // truncated sequence
      {"\xc0\xaf", "\"\\ufffd\\ufffd\""},             // overlong '/'
      {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},  // a surrogate
      {"\xff", "\"\\ufffd\""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.in);
    CHECK(Json(c.in) == c.out);
    rapidjson::Document d;
    d.Parse(c.out.c_str(), c.out.size());
    CHECK_FALSE(d.HasParseError());
  }
}

TEST_CASE("RedactedPath hides tokens in paths; QueryNames keeps only names") {
  struct Case {
    const char* in;
    const char* out;
  } paths[] = {
      {"/v1/secret/data/app", "/v1/secret/data/app"},
      {"/v1/auth/token/lookup/s.abcdefghijklmnopqrstuvwx", "/v1/auth/token/lookup/<redacted>"},
      {"/v1/auth/token/revoke-orphan/abc/def",
       "/v1/auth/token/revoke-orphan/<redacted>/<redacted>"},
      {"/v1/auth/token/lookup", "/v1/auth/token/lookup"},
      {"/v1/auth/token/lookup-self", "/v1/auth/token/lookup-self"},
      {"/v1/secret/data/hvs.CAESIJabcdefghijklmnopqrstuvwxyz", "/v1/secret/data/<redacted>"},
      {"/v1/secret/data/s.short", "/v1/secret/data/s.short"},  // a key, not a token
      {"/", "/"},
      {"", ""},
  };
  for (const Case& c : paths) {
    CAPTURE(c.in);
    CHECK(RedactedPath(c.in) == c.out);
  }
  CHECK(QueryNames("version=3&list=true") == "version&list");
  CHECK(QueryNames("token=s.secret&&=x&flag") == "token&flag");
  CHECK(QueryNames("") == "");
}

TEST_CASE("AppendAccessLine: one JSON object per line with every field") {
  AccessRecord r;
  r.start_unix_ms = 1796353800123;  // 2026-12-04T03:10:00.123Z
  r.client = "10.0.0.7:51234";
  r.request_id = "req-1";
  r.proto = "HTTP/1.1";
  r.method = "GET";
  r.path = "/v1/sys/leader";
  r.query = "index=42&wait=30s";
  r.cls = "read";
  r.node = "node2";
  r.upstream_status = 200;
  r.status = 200;
  r.request_bytes = 0;
  r.bytes = 312;
  r.duration_us = 1234;
  r.retries = 1;
  r.held_us = 0;
  std::string line;
  AppendAccessLine(r, &line);
  REQUIRE(!line.empty());
  CHECK(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  rapidjson::Document d;
  d.Parse(line.c_str(), line.size() - 1);
  REQUIRE_FALSE(d.HasParseError());
  CHECK(std::string(d["time"].GetString()) == "2026-12-04T03:10:00.123Z");
  CHECK(std::string(d["client"].GetString()) == "10.0.0.7:51234");
  CHECK(std::string(d["request_id"].GetString()) == "req-1");
  CHECK(std::string(d["path"].GetString()) == "/v1/sys/leader?index&wait");
  CHECK(line.find("30s") == std::string::npos);
  CHECK(std::string(d["class"].GetString()) == "read");
  CHECK(d["rule"].IsNull());
  CHECK(std::string(d["node"].GetString()) == "node2");
  CHECK(d["upstream_status"].GetInt() == 200);
  CHECK(d["status"].GetInt() == 200);
  CHECK(d["bytes"].GetInt() == 312);
  CHECK(d["duration_ms"].GetDouble() == doctest::Approx(1.234));
  CHECK(d["retries"].GetInt() == 1);
  CHECK(d["held_ms"].GetDouble() == 0.0);

  AccessRecord local;  // answered by the router: no node, no upstream status
  local.start_unix_ms = 999;
  local.status = 503;
  local.cls = "write";
  local.rule = "sys/*";
  local.held_us = 5000250;
  std::string l2;
  AppendAccessLine(local, &l2);
  d.Parse(l2.c_str(), l2.size() - 1);
  REQUIRE_FALSE(d.HasParseError());
  CHECK(std::string(d["time"].GetString()) == "1970-01-01T00:00:00.999Z");
  CHECK(d["node"].IsNull());
  CHECK(d["upstream_status"].IsNull());
  CHECK(d["method"].IsNull());
  CHECK(std::string(d["rule"].GetString()) == "sys/*");
  CHECK(d["held_ms"].GetDouble() == doctest::Approx(5000.25));
}

}  // namespace
}  // namespace halo::router
