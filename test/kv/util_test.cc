// The KV engines' building blocks: time and duration text, weak field decoding, JSON helpers,
// listing, and the record format.
#include <doctest/doctest.h>

#include <rapidjson/document.h>

#include "kv/common.h"
#include "kv/fields.h"
#include "kv/json.h"
#include "kv/record.h"
#include "kv/time.h"
#include "test/kv/test_util.h"

namespace halo::kv {
namespace {

rapidjson::Document J(const char* text) {
  rapidjson::Document d;
  d.Parse(text);
  REQUIRE(!d.HasParseError());
  return d;
}

TEST_SUITE("kv_util") {
  TEST_CASE("RFC 3339 with nanoseconds, as Go prints it") {
    CHECK(FormatRfc3339Nano(0) == "1970-01-01T00:00:00Z");
    CHECK(FormatRfc3339Nano(1521685446945319214) == "2018-03-22T02:24:06.945319214Z");
    CHECK(FormatRfc3339Nano(1521685446945319000) == "2018-03-22T02:24:06.945319Z");
    CHECK(FormatRfc3339Nano(1521685446500000000) == "2018-03-22T02:24:06.5Z");
    CHECK(FormatRfc3339Nano(-1) == "1969-12-31T23:59:59.999999999Z");
  }

  TEST_CASE("Go duration text") {
    CHECK(FormatGoDurationSeconds(0) == "0s");
    CHECK(FormatGoDurationSeconds(59) == "59s");
    CHECK(FormatGoDurationSeconds(60) == "1m0s");
    CHECK(FormatGoDurationSeconds(3600) == "1h0m0s");
    CHECK(FormatGoDurationSeconds(12319) == "3h25m19s");
    CHECK(FormatGoDurationSeconds(-1) == "-1s");
    CHECK(FormatGoDurationSeconds(90000) == "25h0m0s");

    CHECK(ParseGoDuration("1h30m").value() == 5400LL * 1'000'000'000);
    CHECK(ParseGoDuration("1.5s").value() == 1'500'000'000);
    CHECK(ParseGoDuration("250ms").value() == 250'000'000);
    CHECK(ParseGoDuration("-2m").value() == -120LL * 1'000'000'000);
    CHECK(ParseGoDuration("0").value() == 0);
    CHECK(ParseGoDuration("1\xC2\xB5s").value() == 1000);
    CHECK_FALSE(ParseGoDuration("").ok());
    CHECK_FALSE(ParseGoDuration("5").ok());
    CHECK_FALSE(ParseGoDuration("5x").ok());
    CHECK_FALSE(ParseGoDuration(".s").ok());
    CHECK_FALSE(ParseGoDuration("99999999999h").ok());

    CHECK(ParseDurationSecondString("").value() == 0);
    CHECK(ParseDurationSecondString("90").value() == 90);
    CHECK(ParseDurationSecondString("2d").value() == 172800);
    CHECK(ParseDurationSecondString("1m30s").value() == 90);
    CHECK(ParseDurationSecondString("1500ms").value() == 1);
    CHECK_FALSE(ParseDurationSecondString("d").ok());
    CHECK_FALSE(ParseDurationSecondString("1x2").ok());
  }

  TEST_CASE("weak decoding") {
    CHECK(WeakInt(J("5")).value() == 5);
    CHECK(WeakInt(J("\"7\"")).value() == 7);
    CHECK(WeakInt(J("\"0x10\"")).value() == 16);
    CHECK(WeakInt(J("\"\"")).value() == 0);
    CHECK(WeakInt(J("true")).value() == 1);
    CHECK_FALSE(WeakInt(J("1.5")).ok());
    CHECK_FALSE(WeakInt(J("\"abc\"")).ok());
    CHECK_FALSE(WeakInt(J("[1]")).ok());
    CHECK_FALSE(WeakInt(J("18446744073709551615")).ok());

    CHECK(WeakBool(J("\"true\"")).value());
    CHECK(WeakBool(J("1")).value());
    CHECK_FALSE(WeakBool(J("\"F\"")).value());
    CHECK_FALSE(WeakBool(J("\"maybe\"")).ok());

    CHECK(WeakString(J("12")).value() == "12");
    CHECK(WeakString(J("false")).value() == "0");
    CHECK_FALSE(WeakString(J("{}")).ok());

    CHECK(WeakIntSlice(J("[1,\"2\"]")).value() == std::vector<int64_t>{1, 2});
    CHECK(WeakIntSlice(J("\"3,4\"")).value() == std::vector<int64_t>{3, 4});
    CHECK(WeakIntSlice(J("5")).value() == std::vector<int64_t>{5});
    CHECK(WeakIntSlice(J("\"\"")).value().empty());
    CHECK_FALSE(WeakIntSlice(J("\"1,x\"")).ok());

    CHECK(WeakDurationSecond(J("\"1h\""), false).value() == 3600);
    CHECK(WeakDurationSecond(J("30"), false).value() == 30);
    CHECK_FALSE(WeakDurationSecond(J("-3"), false).ok());
    CHECK(WeakDurationSecond(J("-3"), true).value() == -3);
  }

  TEST_CASE("KvFields: validation, ignored keys, nulls") {
    rapidjson::Document in = J(R"({"n":"12","b":"yes","m":{},"x":1,"nul":null,"a":2})");
    KvFields ok(in, {{"n", FieldType::kInt}, {"m", FieldType::kMap}, {"nul", FieldType::kInt}});
    CHECK(ok.Validate().ok());
    CHECK(ok.Int("n") == 12);
    CHECK_FALSE(ok.Has("nul"));
    CHECK(ok.Ignored() == std::vector<std::string>{"a", "b", "x"});
    KvFields bad(in, {{"b", FieldType::kBool}});
    Status st = bad.Validate();
    CHECK(st.message() ==
          "Field validation failed: error converting input yes for field \"b\": "
          "strconv.ParseBool: parsing \"yes\": invalid syntax");
    KvFields map(in, {{"x", FieldType::kMap}});
    CHECK_FALSE(map.Validate().ok());
  }

  TEST_CASE("request bodies and query parameters") {
    CHECK(ParseJsonBody("").value().IsObject());
    CHECK(ParseJsonBody("  \n").value().IsObject());
    CHECK(ParseJsonBody("null").value().IsObject());
    CHECK(ParseJsonBody(R"({"a":1})").value().HasMember("a"));
    CHECK_FALSE(ParseJsonBody("[]").ok());
    CHECK_FALSE(ParseJsonBody("1").ok());
    CHECK_FALSE(ParseJsonBody("{} {}").ok());
    CHECK_FALSE(ParseJsonBody("{").ok());
    // Nesting: a body at the limit is fine, one level more is refused (no recursion, so an
    // absurdly deep body cannot overflow the stack either).
    auto nested = [](int depth) {
      return std::string(depth - 1, '[') + "1" + std::string(depth - 1, ']');
    };
    CHECK(ParseJsonBody("{\"a\":" + nested(kMaxJsonDepth - 1) + "}").ok());
    CHECK_FALSE(ParseJsonBody("{\"a\":" + nested(kMaxJsonDepth) + "}").ok());
    CHECK_FALSE(ParseJsonBody("{\"a\":" + std::string(1'000'000, '[')).ok());
    CHECK_FALSE(ParseJsonBody("{\"a\":" + nested(100'000) + "}").ok());
    CHECK(JsonDepth(ParseJsonBody("{\"a\":{\"b\":[1]}}").value()) == 4);
    // Invalid UTF-8 is refused.
    CHECK_FALSE(ParseJsonBody("{\"a\":\"\xff\"}").ok());
    CHECK(ParseJsonBody("{\"a\":\"\xc3\xa9\"}").ok());
    rapidjson::Document q =
        QueryToJson(http::QueryParams({{"a", "1"}, {"b", "x"}, {"a", "2"}, {"a", "3"}}));
    CHECK(SortedJson(q) == R"({"a":["1","2","3"],"b":"x"})");
  }

  TEST_CASE("sorted JSON and merge patch") {
    CHECK(SortedJson(J(R"({"b":{"z":1,"y":[{"d":1,"c":2}]},"a":null,"b2":"\u00e9"})")) ==
          R"({"a":null,"b":{"y":[{"c":2,"d":1}],"z":1},"b2":"é"})");
    // Later duplicates win.
    CHECK(SortedJson(J(R"({"k":1,"j":0,"k":2})")) == R"({"j":0,"k":2})");

    // RFC 7396 examples.
    rapidjson::Document target = J(R"({"a":"b","c":{"d":"e","f":"g"}})");
    rapidjson::Document patch = J(R"({"a":"z","c":{"f":null}})");
    MergePatch(target, patch, target.GetAllocator());
    CHECK(SortedJson(target) == R"({"a":"z","c":{"d":"e"}})");
    target = J(R"({"a":[1]})");
    patch = J(R"({"a":{"b":null,"c":1},"d":{"e":null}})");
    MergePatch(target, patch, target.GetAllocator());
    CHECK(SortedJson(target) == R"({"a":{"c":1},"d":{}})");
  }

  TEST_CASE("envelope and error bodies") {
    std::string env = EnvelopeJson([](JsonWriter& w) { w.Null(); }, {"w1"}, 7);
    rapidjson::Document d = J(env.c_str());
    CHECK(testing::V(d["lease_duration"]) == 7);
    CHECK(SortedJson(d["warnings"]) == R"(["w1"])");
    CHECK(NewRequestId() != NewRequestId());
    CHECK(ErrorResponse(400, {"a", "b"}).body == R"({"errors":["a","b"]})");
    CHECK(NotFound().body == R"({"errors":[]})");
    http::Response na = NotActive();
    CHECK(na.status == 503);
    CHECK(IsNotActive(na));
    CHECK_FALSE(IsNotActive(ErrorResponse(503, {"other"})));
    CHECK(na.headers.Get("Cache-Control") == "no-store");
    CHECK(na.headers.Get("Content-Type") == "application/json");
    CHECK_FALSE(NoBody(204).headers.Has("Content-Type"));
    CHECK(NoBody(204).body.empty());
    CHECK(MultiErrorText({"x", "y"}) == "2 errors occurred:\n\t* x\n\t* y\n\n");
  }

  TEST_CASE("list entries and paging") {
    std::vector<std::string> keys = {"p/", "p/a", "p/a.b", "p/b/c", "p/b/d", "p/c/d/e", "p/z"};
    CHECK(ListEntries(keys, "p/", false) == std::vector<std::string>{"a", "a.b", "b/", "c/", "z"});
    CHECK(ListEntries(keys, "p/", true) ==
          std::vector<std::string>{"a", "a.b", "b/c", "b/d", "c/d/e", "z"});
    std::vector<std::string> e = {"a", "b", "c", "d"};
    PageEntries(e, "b", 0);
    CHECK(e == std::vector<std::string>{"c", "d"});
    e = {"a", "b", "c", "d"};
    PageEntries(e, "bb", 1);
    CHECK(e == std::vector<std::string>{"c"});
  }

  TEST_CASE("patch content type") {
    http::Response err;
    CHECK(CheckPatchContentType("application/merge-patch+json", &err));
    CHECK(CheckPatchContentType(" application/merge-patch+json ; charset=utf-8", &err));
    CHECK_FALSE(CheckPatchContentType("application/json", &err));
    CHECK(err.status == 415);
    CHECK_FALSE(CheckPatchContentType("", &err));
    CHECK(err.status == 400);
    CHECK_FALSE(CheckPatchContentType("garbage", &err));
    CHECK(err.status == 400);
  }

  TEST_CASE("secret record round trip") {
    std::string d1 = R"({"a":1})", d2 = R"({"b":"two"})";
    KvSecretRecord rec;
    rec.max_versions = 7;
    rec.cas_required = true;
    rec.delete_version_after_s = 3600;
    rec.custom_metadata = {{"k", "v"}, {"owner", "me"}};
    AddVersion(rec, 1000, kNoTime, d1, 0);
    KvVersion& v2 = AddVersion(rec, 2000, 5000, d2, 0);
    v2.SoftDelete(2500);
    std::string enc = EncodeSecretRecord(rec);
    KvSecretRecord back;
    REQUIRE(DecodeSecretRecord(enc, &back).ok());
    CHECK(back.current_version == 2);
    CHECK(back.oldest_version == 0);
    CHECK(back.max_versions == 7);
    CHECK(back.cas_required);
    CHECK(back.delete_version_after_s == 3600);
    CHECK(back.created_ns == 1000);
    CHECK(back.updated_ns == 2000);
    CHECK(back.custom_metadata == rec.custom_metadata);
    REQUIRE(back.versions.size() == 2);
    CHECK(back.versions[0].data == d1);
    CHECK(back.versions[0].deletion_ns == kNoTime);
    CHECK_FALSE(back.versions[0].DeletedAt(1'000'000));
    CHECK(back.versions[1].data == d2);
    CHECK(back.versions[1].deletion_ns == 2500);
    CHECK(back.versions[1].DeletedAt(0));  // explicit: whatever the clock says
    CHECK(EncodeSecretRecord(back) == enc);
    // Destroyed versions keep no data.
    back.versions[0].destroyed = true;
    KvSecretRecord again;
    REQUIRE(DecodeSecretRecord(EncodeSecretRecord(back), &again).ok());
    CHECK(again.versions[0].destroyed);
    CHECK(again.versions[0].data.empty());
  }

  TEST_CASE("decoding rejects every truncation and bad input") {
    KvSecretRecord rec;
    std::string d = R"({"a":1})";
    rec.custom_metadata = {{"k", "v"}};
    AddVersion(rec, 1, 2, d, 0);
    AddVersion(rec, 3, kNoTime, d, 0);
    std::string enc = EncodeSecretRecord(rec);
    KvSecretRecord out;
    for (size_t n = 0; n < enc.size(); ++n) {
      CHECK_MESSAGE(!DecodeSecretRecord(enc.substr(0, n), &out).ok(), "length " << n);
    }
    CHECK_FALSE(DecodeSecretRecord(enc + "x", &out).ok());
    std::string bad = enc;
    bad[0] = 'X';
    CHECK(DecodeSecretRecord(bad, &out).code() == Status::Code::kCorruption);
    // A huge count must not allocate or read out of bounds.
    std::string huge = enc.substr(0, 5) + std::string(9, '\xff') + '\x01';
    CHECK_FALSE(DecodeSecretRecord(huge, &out).ok());
  }

  TEST_CASE("AddVersion pruning follows OpenBao") {
    std::string d = "{}";
    KvSecretRecord rec;
    for (int i = 0; i < 5; ++i) AddVersion(rec, i, kNoTime, d, 3);
    CHECK(rec.current_version == 5);
    CHECK(rec.oldest_version == 3);
    CHECK(rec.versions.size() == 3);
    CHECK(rec.versions.front().number == 3);
    // The larger of key and mount max_versions applies.
    rec.max_versions = 4;
    AddVersion(rec, 9, kNoTime, d, 2);
    CHECK(rec.versions.size() == 4);
    CHECK(rec.Find(3) != nullptr);
    CHECK(rec.Find(2) == nullptr);
  }

  TEST_CASE("config round trip and scheduled deletion") {
    KvConfig c;
    c.max_versions = 3;
    c.cas_required = true;
    c.delete_version_after_s = -1;
    KvConfig back;
    REQUIRE(DecodeConfig(EncodeConfig(c), &back).ok());
    CHECK(back.max_versions == 3);
    CHECK(back.cas_required);
    CHECK(back.DeleteVersionAfterDisabled());
    CHECK_FALSE(DecodeConfig("{}", &back).ok());
    CHECK_FALSE(DecodeConfig("nope", &back).ok());

    constexpr int64_t kS = 1'000'000'000;
    CHECK(ScheduledDeletion(0, 0, 0) == kNoTime);
    CHECK(ScheduledDeletion(0, 10, 0) == 10 * kS);
    CHECK(ScheduledDeletion(0, 0, 20) == 20 * kS);
    CHECK(ScheduledDeletion(0, 10, 20) == 10 * kS);
    CHECK(ScheduledDeletion(0, 30, 20) == 20 * kS);
  }
}

}  // namespace
}  // namespace halo::kv
