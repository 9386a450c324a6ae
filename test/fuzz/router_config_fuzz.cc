// Fuzz target: ParseRouterConfig (router/router_config.h) on arbitrary text. It must never
// crash, fail only with kInvalidArgument, and whatever it accepts must be what the router
// can run with: 1..32 nodes with unique names and a port, positive timings, workers in
// range, every rule with a pattern and a class or mode and upper-case methods. The accepted
// rules then build the route settings and classify a few paths, and GlobMatch (the rules'
// matcher, a linear-time backtracking algorithm) agrees with a plain dynamic-programming
// matcher on every rule pattern against paths taken from the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/check.h"
#include "router/classifier.h"
#include "router/glob.h"
#include "router/route_settings.h"
#include "router/router_config.h"
#include "test/fuzz/fuzz_support.h"

namespace {

using halo::router::RouterConfig;

// Reference glob: '*' any run, '?' one character; O(pattern * text) table.
bool SlowGlob(std::string_view pat, std::string_view s) {
  std::vector<char> row(s.size() + 1, 0), next(s.size() + 1, 0);
  row[0] = 1;  // empty pattern matches the empty prefix
  for (char pc : pat) {
    next.assign(s.size() + 1, 0);
    if (pc == '*') {
      char any = 0;
      for (size_t i = 0; i <= s.size(); ++i) {
        any = any || row[i];
        next[i] = any;
      }
    } else {
      for (size_t i = 1; i <= s.size(); ++i) {
        next[i] = row[i - 1] && (pc == '?' || pc == s[i - 1]);
      }
    }
    row.swap(next);
  }
  return row[s.size()] != 0;
}

void CheckGlob(std::string_view pat, std::string_view s) {
  if (pat.size() > 256 || s.size() > 256) return;  // keep the table small
  if (halo::router::GlobMatch(pat, s) != SlowGlob(pat, s)) {
    std::fprintf(stderr, "router_config_fuzz: pattern \"%.*s\" text \"%.*s\"\n",
                 static_cast<int>(pat.size()), pat.data(), static_cast<int>(s.size()), s.data());
    HALO_CHECK(false, "GlobMatch agrees with the reference matcher");
  }
}

void CheckAccepted(const RouterConfig& c, std::string_view text) {
  HALO_CHECK(!c.nodes.empty() && c.nodes.size() <= 32, "1..32 nodes");
  for (size_t i = 0; i < c.nodes.size(); ++i) {
    HALO_CHECK(c.nodes[i].port != 0 && !c.nodes[i].host.empty(), "node host and port");
    HALO_CHECK(!c.nodes[i].name.empty(), "node name");
    for (size_t j = 0; j < i; ++j) HALO_CHECK(c.nodes[i].name != c.nodes[j].name, "unique names");
  }
  HALO_CHECK(c.workers >= 1 && c.workers <= 64, "workers in range");
  HALO_CHECK(c.health.interval_ms > 0 && c.health.timeout_ms > 0 && c.health.leader_wait_ms > 0,
             "positive health timings");
  HALO_CHECK(c.health.rise >= 1 && c.health.fall >= 1, "rise and fall");
  HALO_CHECK(c.limits.header_timeout_ms > 0 && c.limits.idle_timeout_ms > 0 &&
                 c.limits.upstream_connect_timeout_ms > 0 && c.limits.upstream_timeout_ms > 0,
             "positive limit timings");
  for (const halo::router::RuleConfig& r : c.rules) {
    HALO_CHECK(!r.path.empty() && r.path[0] != '/', "rule path");
    HALO_CHECK(r.cls.has_value() || r.mode.has_value(), "rule decides something");
    for (const std::string& m : r.methods) {
      for (char ch : m) HALO_CHECK(!(ch >= 'a' && ch <= 'z'), "methods upper case");
    }
  }

  halo::router::RouteSettings settings(c, 1);
  HALO_CHECK(settings.classifier.rule_count() == c.rules.size(), "every rule is kept");
  std::vector<std::string> paths = {"", "sys/health", "secret/data/a", "a/b/c"};
  for (const halo::router::RuleConfig& r : c.rules) paths.push_back(r.path);
  // Substrings of the input between quotes, as more texts to match.
  size_t pos = 0;
  while (paths.size() < 24) {
    size_t open = text.find('"', pos);
    if (open == std::string_view::npos) break;
    size_t close = text.find('"', open + 1);
    if (close == std::string_view::npos) break;
    paths.emplace_back(text.substr(open + 1, close - open - 1));
    pos = close + 1;
  }
  for (const std::string& p : paths) {
    for (const char* method : {"GET", "PUT", "LIST"}) {
      halo::router::Classification cl = settings.classifier.Classify(method, p, false);
      HALO_CHECK(cl.rule >= -1 && cl.rule < static_cast<int>(c.rules.size()), "rule index");
      if (cl.rule >= 0) {
        HALO_CHECK(halo::router::GlobMatch(c.rules[static_cast<size_t>(cl.rule)].path, p),
                   "the deciding rule matches");
      }
    }
    for (const halo::router::RuleConfig& r : c.rules) CheckGlob(r.path, p);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  halo::fuzz::CheckDeepNestingOnce([](const std::string& deep) {
    HALO_CHECK(!halo::router::ParseRouterConfig(deep, "deep.json").ok(), "deep file refused");
  });
  std::string text(reinterpret_cast<const char*>(data), size);
  halo::Result<RouterConfig> r = halo::router::ParseRouterConfig(text, "fuzz.json");
  if (!r.ok()) {
    halo::fuzz::CheckRefusal(r.status());
    return 0;
  }
  CheckAccepted(*r, text);
  return 0;
}
