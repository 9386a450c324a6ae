#include "common/http/request_parser.h"

#include <algorithm>

namespace halo::http {

RequestParser::RequestParser(ParserOptions options, Callbacks* callbacks)
    : options_(std::move(options)),
      callbacks_(callbacks),
      core_(&options_, &request_, nullptr, this) {}

void RequestParser::OnHead() {
  if (callbacks_) {
    callbacks_->OnHead(request_);
  } else if (request_.content_length > 0) {
    request_.body.reserve(static_cast<size_t>(
        std::min<uint64_t>(static_cast<uint64_t>(request_.content_length), 1 << 20)));
  }
}

void RequestParser::OnBody(std::string_view data) {
  if (callbacks_) {
    callbacks_->OnBody(data);
  } else {
    request_.body.append(data);
  }
}

void RequestParser::OnComplete() {
  if (callbacks_) callbacks_->OnComplete(request_);
}

}  // namespace halo::http
