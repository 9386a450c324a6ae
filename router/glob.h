// Glob matching for classification rules: '*' matches any run of characters (including '/'),
// '?' exactly one character, everything else itself. Linear-time with one backtrack point
// (the classic wildcard algorithm); no allocation.
#pragma once

#include <string_view>

namespace halo::router {

bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace halo::router
