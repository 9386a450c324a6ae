// MessageParser<Message>: what RequestParser and ResponseParser share, once. It owns the
// ParserCore, the message being parsed and the options, and turns the core's events into
// either Callbacks (streaming mode) or an accumulated body (buffered mode: the body is
// reserved from Content-Length, at most 1 MiB up front, and appended as it arrives).
// Internal: use RequestParser (request_parser.h) or ResponseParser (response_parser.h),
// whose headers give the contract. Pure, single-threaded.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

#include "common/http/message.h"
#include "common/http/parser_core.h"
#include "common/http/parser_options.h"

namespace halo::http::detail {

template <class Message>
class MessageParser : private ParserCore::Events {
  static_assert(std::is_same_v<Message, Request> || std::is_same_v<Message, Response>);

 public:
  class Callbacks {
   public:
    virtual ~Callbacks() = default;
    // The head is complete and valid (framing and keep_alive set; body empty). May call
    // Reject().
    virtual void OnHead(Message& message) = 0;
    // A piece of body (de-chunked). `data` is only valid during the call.
    virtual void OnBody(std::string_view data) = 0;
    // The message is complete; its trailers hold chunked trailers, if any.
    virtual void OnComplete(Message& message) = 0;
  };

  MessageParser(const MessageParser&) = delete;
  MessageParser& operator=(const MessageParser&) = delete;

  // Consumes a prefix of `data`: kNeedMore (all consumed), kMessageComplete (one message
  // ended after `consumed` bytes) or kError.
  ParseProgress Feed(std::string_view data) { return core_.Feed(data.data(), data.size()); }
  // The peer closed its side; see the derived parser for what each answer means.
  ParseProgress FeedEof() { return core_.FeedEof(); }
  // From Callbacks::OnHead only: refuse this message.
  void Reject(int http_status, Status status) { core_.Reject(http_status, std::move(status)); }

  const ParseError& error() const { return core_.error(); }
  // No byte of a next message seen (between messages).
  bool idle() const { return core_.idle(); }
  // The current message's head has been parsed (its body may still be arriving).
  bool head_complete() const { return core_.head_complete(); }

 protected:
  MessageParser(ParserOptions options, Callbacks* callbacks)
      : options_(std::move(options)),
        callbacks_(callbacks),
        core_(&options_, RequestOrNull(&message_), ResponseOrNull(&message_), this) {}
  ~MessageParser() override = default;

  Message& message() { return message_; }
  Message TakeMessage() { return std::move(message_); }
  ParserCore& core() { return core_; }

 private:
  static Request* RequestOrNull(Message* m) {
    if constexpr (std::is_same_v<Message, Request>) {
      return m;
    } else {
      return nullptr;
    }
  }
  static Response* ResponseOrNull(Message* m) {
    if constexpr (std::is_same_v<Message, Response>) {
      return m;
    } else {
      return nullptr;
    }
  }

  // ParserCore::Events
  void OnHead() override {
    if (callbacks_) {
      callbacks_->OnHead(message_);
    } else if (message_.content_length > 0) {
      message_.body.reserve(static_cast<size_t>(
          std::min<uint64_t>(static_cast<uint64_t>(message_.content_length), 1 << 20)));
    }
  }
  void OnBody(std::string_view data) override {
    if (callbacks_) {
      callbacks_->OnBody(data);
    } else {
      message_.body.append(data);
    }
  }
  void OnComplete() override {
    if (callbacks_) callbacks_->OnComplete(message_);
  }

  ParserOptions options_;
  Callbacks* callbacks_;
  Message message_;
  ParserCore core_;  // last: refers to options_ and message_
};

}  // namespace halo::http::detail
