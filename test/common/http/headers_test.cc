#include "common/http/headers.h"

#include <doctest/doctest.h>

namespace halo::http {
namespace {

TEST_CASE("Headers: ordered, case-insensitive, original case kept") {
  Headers h;
  h.Add("Content-Type", "application/json");
  h.Add("X-Vault-Token", "s.1");
  h.Add("set-cookie", "a=1");
  h.Add("Set-Cookie", "b=2");
  CHECK(h.size() == 4);
  CHECK(h.Get("content-type") == std::optional<std::string_view>("application/json"));
  CHECK(h.Get("CONTENT-TYPE").has_value());
  CHECK_FALSE(h.Get("Content-Typ").has_value());
  CHECK(h.at(0).name == "Content-Type");
  CHECK(h.at(2).name == "set-cookie");
  CHECK(h.Count("SET-COOKIE") == 2);
  auto all = h.GetAll("Set-Cookie");
  REQUIRE(all.size() == 2);
  CHECK(all[0] == "a=1");
  CHECK(all[1] == "b=2");
  std::vector<std::string> names;
  for (Headers::Field f : h) names.emplace_back(f.name);
  CHECK(names ==
        std::vector<std::string>{"Content-Type", "X-Vault-Token", "set-cookie", "Set-Cookie"});
}

TEST_CASE("Headers: Set and Remove") {
  Headers h{{"A", "1"}, {"B", "2"}, {"a", "3"}, {"C", "4"}};
  h.Set("A", "new");
  REQUIRE(h.size() == 3);
  CHECK(h.at(0).name == "A");
  CHECK(h.at(0).value == "new");
  CHECK(h.at(1).name == "B");
  CHECK(h.at(2).name == "C");
  h.Set("D", "5");
  CHECK(h.at(3).name == "D");
  CHECK(h.Remove("b") == 1);
  CHECK(h.Remove("b") == 0);
  CHECK(h.size() == 3);
  CHECK(h.ByteSize() == std::string("Anew").size() + 2 + 2);
  // Lots of churn stays correct across arena compaction.
  for (int i = 0; i < 1000; ++i) h.Set("X", std::string(100, static_cast<char>('a' + i % 26)));
  CHECK(h.Get("x")->size() == 100);
  CHECK(h.Get("x")->front() == 'a' + 999 % 26);
  CHECK(h.Get("A") == std::optional<std::string_view>("new"));
  CHECK(h.Get("C") == std::optional<std::string_view>("4"));
  Headers copy = h;
  CHECK(copy == h);
  copy.Set("C", "5");
  CHECK_FALSE(copy == h);
  h.Clear();
  CHECK(h.empty());
  CHECK(h.ByteSize() == 0);
}

}  // namespace
}  // namespace halo::http
