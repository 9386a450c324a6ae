// H2UpstreamStream: one request on an H2UpstreamSession, the HTTP/2 UpstreamStream. The
// owner writes the request as HTTP/1.1 bytes (common/http/upstream_stream.h); they are parsed
// back here with the project's RequestParser (they are the router's own, already validated)
// into HEADERS (hop-by-hop fields dropped, Host as :authority) and DATA. The response becomes
// a Response (content-length kept, else an unknown length) for the owner.
//
// Reach: kNeverWritten until its HEADERS frame went out (and again for REFUSED_STREAM or a
// GOAWAY above its id: the server says it never processed it), kWrittenNoResponse after,
// kResponseStarted once the response HEADERS arrived. A reset after sending is reported as
// UpstreamFailure::kClosed (outcome unknown), never kReset, because an HTTP/2 reset says
// nothing about what the server read. Receive-window credit is returned only while the owner
// reads (PauseReading holds it back, so a paused stream buffers at most one window).
//
// Owned by the owner that holds it; destroying it cancels the stream (RST_STREAM CANCEL) if
// it is still open. Loop thread only.
#pragma once

#include <event2/util.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/message.h"
#include "common/http/request_parser.h"
#include "common/http/upstream_stream.h"

struct event;
struct evbuffer;

namespace halo::http {

class H2UpstreamSession;

class H2UpstreamStream : public UpstreamStream, private RequestParser::Callbacks {
 public:
  H2UpstreamStream(H2UpstreamSession* session, int slot, const ParserOptions& request_options);
  ~H2UpstreamStream() override;
  H2UpstreamStream(const H2UpstreamStream&) = delete;
  H2UpstreamStream& operator=(const H2UpstreamStream&) = delete;

  // UpstreamStream
  void Attach(UpstreamOwner* owner, std::string_view method, int64_t response_timeout_ms) override;
  void Detach() override { owner_ = nullptr; }
  evbuffer* output() override { return output_; }
  void Send(size_t n) override;
  void PauseReading() override { paused_ = true; }
  void ResumeReading() override;
  // Only once the server's SETTINGS came: a peer that turns out not to speak HTTP/2 has then
  // taken none of the request, which the owner can still resend over HTTP/1.1.
  bool connected() const override;
  Reach reach() const override;
  size_t output_length() const override;
  bool reusable() const override { return true; }
  const std::string& tls_error() const override { return tls_error_; }
  int slot() const override { return slot_; }
  const char* protocol() const override { return "h2"; }

  // --- from the session ---
  // The session is ready: the owner may write (OnUpstreamConnected; a tail call that may
  // end this stream), and a parsed head is submitted.
  void SessionReady();
  // The session failed: end this stream (tail call to the owner).
  void SessionFailed(UpstreamFailure why, const std::string& tls_error);
  // The session is being destroyed (teardown): no owner call.
  void Orphan() {
    session_ = nullptr;
    failed_ = true;
  }
  void OnHeadersSent() { headers_sent_ = true; }
  void OnHeader(std::string_view name, std::string_view value);
  void OnHeadersDone(bool end_stream);
  void OnData(const uint8_t* data, size_t len);
  void OnEndStream();
  void OnClosed(uint32_t error_code);
  void OnNotSent();
  void ReadDone();
  void Drained();
  ssize_t ReadRequestBody(uint8_t* buf, size_t len, uint32_t* data_flags);
  int32_t id() const { return id_; }
  // Still open on the wire: the answer is not complete, or our request is not all sent (an
  // early answer). Destroying it then cancels it with RST_STREAM.
  bool open_on_wire() const;

 private:
  // RequestParser::Callbacks: the owner's HTTP/1.1 bytes
  void OnHead(Request& req) override;
  void OnBody(std::string_view data) override;
  void OnComplete(Request& req) override;

  static void OnTimer(evutil_socket_t fd, short what, void* arg);
  void ArmTimer(int64_t ms);
  void Submit();
  void Fail(UpstreamFailure why, Reach reach);  // tail call to the owner

  H2UpstreamSession* session_;
  int slot_;
  RequestParser parser_;
  UpstreamOwner* owner_ = nullptr;
  event* timer_ = nullptr;
  int64_t response_timeout_ms_ = 0;
  evbuffer* output_;                 // the owner's HTTP/1.1 bytes, not parsed yet
  evbuffer* body_;                   // request body bytes not yet in DATA frames
  std::vector<std::string> fields_;  // the request's header fields, lower-cased (name, value)
  bool has_body_ = false;
  Response resp_;
  std::string tls_error_;
  int32_t id_ = -1;
  size_t unconsumed_ = 0;  // response bytes whose window credit waits for ResumeReading
  bool head_ready_ = false;
  bool submitted_ = false;
  bool body_eof_ = false;
  bool deferred_ = false;  // the data source waits for body bytes
  bool headers_sent_ = false;
  bool response_started_ = false;
  bool head_delivered_ = false;
  bool complete_ = false;
  bool failed_ = false;
  bool refused_ = false;
  bool paused_ = false;
};

}  // namespace halo::http
