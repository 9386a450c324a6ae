// The error body both daemons answer with, as OpenBao does: {"errors":["<message>", ...]}.
// Written with RapidJSON's Writer (escaping done there). Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace halo::http {

std::string ErrorBody(std::string_view message);
std::string ErrorBody(const std::vector<std::string>& messages);

}  // namespace halo::http
