// Classifier: request -> (read | write, forward | redirect | auto).
//
// Method defaults: GET, HEAD, LIST, OPTIONS, SCAN and GET ?list=true are reads; PUT, POST,
// PATCH, DELETE and anything unknown are writes. Then the ordered rules from config: the
// first rule whose glob matches the API path (normalised, without "/v1/") and whose method
// list holds the method decides the class and/or mode; fields a rule leaves out keep the
// method default and the global mode. GET ?list=true matches a rule's "LIST" as OpenBao
// treats both as the list operation. Immutable after construction; Classify() is pure,
// thread-safe and does not allocate.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "router/route_types.h"
#include "router/router_config.h"

namespace halo::router {

struct Classification {
  RequestClass cls = RequestClass::kWrite;
  WriteMode mode = WriteMode::kForward;
  int rule = -1;  // index of the deciding rule, -1 for the method default
};

class Classifier {
 public:
  Classifier(const std::vector<RuleConfig>& rules, WriteMode default_mode);

  // `method` as sent (upper case), `api_path` from ApiPath(), `list_query` from the target.
  Classification Classify(std::string_view method, std::string_view api_path,
                          bool list_query) const;

  static RequestClass MethodDefault(std::string_view method, bool list_query);
  size_t rule_count() const { return rules_.size(); }
  // The path glob of rule `i` (Classification::rule); empty for -1 or out of range.
  std::string_view rule_pattern(int i) const {
    return i >= 0 && static_cast<size_t>(i) < rules_.size() ? std::string_view(rules_[i].pattern)
                                                            : std::string_view();
  }

 private:
  struct Rule {
    std::string pattern;
    std::string literal_prefix;  // characters before the first wildcard: a cheap pre-check
    bool exact = false;          // no wildcard at all
    std::vector<std::string> methods;
    bool has_class = false;
    RequestClass cls = RequestClass::kWrite;
    bool has_mode = false;
    WriteMode mode = WriteMode::kForward;
  };
  bool Matches(const Rule& r, std::string_view method, std::string_view path,
               bool list_query) const;

  std::vector<Rule> rules_;
  WriteMode default_mode_;
};

}  // namespace halo::router
