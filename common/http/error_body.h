// Error bodies in OpenBao's shape, {"errors":["first","second"]}, for every answer either
// daemon generates itself (400s, 404s, 503 "no active node", ...). Written through
// RapidJSON's Writer, so quotes, backslashes and control characters are escaped as JSON
// requires; other bytes, UTF-8 included, are copied as they are. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace halo::http {

// {"errors":["<message>"]}.
std::string ErrorBody(std::string_view message);

// {"errors":[...]} with one string per message, in order; {"errors":[]} when empty.
std::string ErrorBody(const std::vector<std::string>& messages);

}  // namespace halo::http
