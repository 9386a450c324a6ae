#include "common/http/response_parser.h"

#include <algorithm>

namespace halo::http {

ResponseParser::ResponseParser(ParserOptions options, Callbacks* callbacks)
    : options_(std::move(options)),
      callbacks_(callbacks),
      core_(&options_, nullptr, &response_, this) {}

void ResponseParser::OnHead() {
  if (callbacks_) {
    callbacks_->OnHead(response_);
  } else if (response_.content_length > 0) {
    response_.body.reserve(static_cast<size_t>(
        std::min<uint64_t>(static_cast<uint64_t>(response_.content_length), 1 << 20)));
  }
}

void ResponseParser::OnBody(std::string_view data) {
  if (callbacks_) {
    callbacks_->OnBody(data);
  } else {
    response_.body.append(data);
  }
}

void ResponseParser::OnComplete() {
  if (callbacks_) callbacks_->OnComplete(response_);
}

}  // namespace halo::http
