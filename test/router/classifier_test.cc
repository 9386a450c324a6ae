#include "router/classifier.h"

#include <doctest/doctest.h>

#include "router/glob.h"

namespace halo::router {
namespace {

TEST_CASE("GlobMatch") {
  CHECK(GlobMatch("sys/*", "sys/health"));
  CHECK(GlobMatch("sys/*", "sys/policies/acl/x"));
  CHECK(GlobMatch("sys/*", "sys/"));
  CHECK_FALSE(GlobMatch("sys/*", "sys"));
  CHECK_FALSE(GlobMatch("sys/*", "secret/sys/x"));
  CHECK(GlobMatch("*/creds/*", "database/creds/role"));
  CHECK(GlobMatch("*/creds/*", "a/b/creds/c"));
  CHECK_FALSE(GlobMatch("*/creds/*", "database/creds"));
  CHECK(GlobMatch("*", ""));
  CHECK(GlobMatch("a?c", "abc"));
  CHECK_FALSE(GlobMatch("a?c", "ac"));
  CHECK(GlobMatch("*a*b*c", "xxaxxbxxbxc"));
  CHECK_FALSE(GlobMatch("*a*b*c", "xxaxxbxxbx"));
  CHECK(GlobMatch("exact", "exact"));
  CHECK_FALSE(GlobMatch("exact", "exactly"));
  CHECK(GlobMatch("**", "anything/at/all"));
}

TEST_CASE("Method defaults") {
  for (const char* m : {"GET", "HEAD", "LIST", "OPTIONS", "SCAN"}) {
    CHECK(Classifier::MethodDefault(m, false) == RequestClass::kRead);
  }
  for (const char* m : {"PUT", "POST", "PATCH", "DELETE", "BREW", "get"}) {
    CHECK(Classifier::MethodDefault(m, false) == RequestClass::kWrite);
  }
  CHECK(Classifier::MethodDefault("GET", true) == RequestClass::kRead);
}

std::vector<RuleConfig> OpenBaoRules() {
  std::vector<RuleConfig> rules;
  auto add = [&](std::string path, std::vector<std::string> methods, std::optional<RequestClass> c,
                 std::optional<WriteMode> m = std::nullopt) {
    rules.push_back(RuleConfig{std::move(path), std::move(methods), c, m});
  };
  add("sys/step-down", {}, RequestClass::kWrite, WriteMode::kRedirect);
  add("sys/*", {}, RequestClass::kWrite);
  add("*/creds/*", {"GET"}, RequestClass::kWrite);
  add("*/issue/*", {}, RequestClass::kWrite);
  add("transit/decrypt/*", {"POST", "PUT"}, RequestClass::kRead);
  add("secret/metadata/*", {"LIST"}, RequestClass::kRead, WriteMode::kAuto);
  return rules;
}

TEST_CASE("Rules decide in order; absent fields keep defaults") {
  Classifier c(OpenBaoRules(), WriteMode::kForward);
  Classification r = c.Classify("GET", "sys/health", false);
  CHECK(r.cls == RequestClass::kWrite);
  CHECK(r.mode == WriteMode::kForward);
  CHECK(r.rule == 1);

  r = c.Classify("PUT", "sys/step-down", false);
  CHECK(r.cls == RequestClass::kWrite);
  CHECK(r.mode == WriteMode::kRedirect);
  CHECK(r.rule == 0);

  r = c.Classify("GET", "database/creds/readonly", false);
  CHECK(r.cls == RequestClass::kWrite);
  CHECK(r.rule == 2);

  r = c.Classify("HEAD", "database/creds/readonly", false);  // method not in the rule
  CHECK(r.cls == RequestClass::kRead);
  CHECK(r.rule == -1);

  r = c.Classify("GET", "pki/issue/web", false);
  CHECK(r.cls == RequestClass::kWrite);

  r = c.Classify("POST", "transit/decrypt/key", false);
  CHECK(r.cls == RequestClass::kRead);
  CHECK(r.rule == 4);

  r = c.Classify("GET", "secret/data/app", false);
  CHECK(r.cls == RequestClass::kRead);
  CHECK(r.rule == -1);
  CHECK(r.mode == WriteMode::kForward);

  r = c.Classify("PUT", "secret/data/app", false);
  CHECK(r.cls == RequestClass::kWrite);
  CHECK(r.rule == -1);
}

TEST_CASE("GET ?list=true matches a LIST rule") {
  Classifier c(OpenBaoRules(), WriteMode::kRedirect);
  Classification r = c.Classify("GET", "secret/metadata/dir/", true);
  CHECK(r.rule == 5);
  CHECK(r.cls == RequestClass::kRead);
  CHECK(r.mode == WriteMode::kAuto);
  r = c.Classify("GET", "secret/metadata/dir/", false);
  CHECK(r.rule == -1);
  CHECK(r.mode == WriteMode::kRedirect);
  r = c.Classify("LIST", "secret/metadata/dir/", false);
  CHECK(r.rule == 5);
}

TEST_CASE("A rule with only a mode keeps the method's class") {
  std::vector<RuleConfig> rules = {RuleConfig{"auth/*", {}, std::nullopt, WriteMode::kAuto}};
  Classifier c(rules, WriteMode::kForward);
  Classification r = c.Classify("POST", "auth/userpass/login/x", false);
  CHECK(r.cls == RequestClass::kWrite);
  CHECK(r.mode == WriteMode::kAuto);
  r = c.Classify("GET", "auth/token/lookup-self", false);
  CHECK(r.cls == RequestClass::kRead);
  CHECK(r.mode == WriteMode::kAuto);
}

}  // namespace
}  // namespace halo::router
