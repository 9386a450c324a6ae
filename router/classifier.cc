#include "router/classifier.h"

#include "router/glob.h"

namespace halo::router {

Classifier::Classifier(const std::vector<RuleConfig>& rules, WriteMode default_mode)
    : default_mode_(default_mode) {
  rules_.reserve(rules.size());
  for (const RuleConfig& rc : rules) {
    Rule r;
    r.pattern = rc.path;
    size_t wild = rc.path.find_first_of("*?");
    r.exact = wild == std::string::npos;
    r.literal_prefix = rc.path.substr(0, wild);
    r.methods = rc.methods;
    r.has_class = rc.cls.has_value();
    if (rc.cls) r.cls = *rc.cls;
    r.has_mode = rc.mode.has_value();
    if (rc.mode) r.mode = *rc.mode;
    rules_.push_back(std::move(r));
  }
}

RequestClass Classifier::MethodDefault(std::string_view m, bool list_query) {
  switch (m.size()) {
    case 3:
      if (m == "GET") return RequestClass::kRead;
      break;
    case 4:
      if (m == "HEAD" || m == "LIST" || m == "SCAN") return RequestClass::kRead;
      break;
    case 7:
      if (m == "OPTIONS") return RequestClass::kRead;
      break;
    default:
      break;
  }
  (void)list_query;  // only GET carries it, and GET is already a read
  return RequestClass::kWrite;
}

bool Classifier::Matches(const Rule& r, std::string_view method, std::string_view path,
                         bool list_query) const {
  if (!r.methods.empty()) {
    bool found = false;
    for (const std::string& m : r.methods) {
      if (m == method || (list_query && m == "LIST" && method == "GET")) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  if (r.exact) return path == r.pattern;
  if (path.substr(0, r.literal_prefix.size()) != r.literal_prefix) return false;
  return GlobMatch(r.pattern, path);
}

Classification Classifier::Classify(std::string_view method, std::string_view api_path,
                                    bool list_query) const {
  Classification c;
  c.cls = MethodDefault(method, list_query);
  c.mode = default_mode_;
  for (size_t i = 0; i < rules_.size(); ++i) {
    const Rule& r = rules_[i];
    if (!Matches(r, method, api_path, list_query)) continue;
    if (r.has_class) c.cls = r.cls;
    if (r.has_mode) c.mode = r.mode;
    c.rule = static_cast<int>(i);
    break;
  }
  return c;
}

}  // namespace halo::router
