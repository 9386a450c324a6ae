// H2ServerStream: one HTTP/2 stream of an H2ServerConnection, the Downstream of the exchange
// it carries. It builds the Request from the decoded header fields (pseudo-headers mapped:
// :authority becomes Host when the client sent none), holds the request body's budget
// reservation, delivers DATA to the exchange (or buffers it while the exchange paused the
// body; the receive window is only opened as the exchange takes bytes), and turns the
// exchange's response into HEADERS/DATA/trailers through an nghttp2 data source. HTTP/1
// hop-by-hop fields never reach the wire (RFC 9113 §8.2.2).
//
// Owned by its connection (nghttp2 stream user data), deleted when nghttp2 closes the stream
// (from the connection's loop callbacks), which abandons an unfinished exchange first. Loop
// thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/http/downstream.h"
#include "common/http/message.h"
#include "common/http/server_exchange.h"

struct evbuffer;

namespace halo::http {

class H2ServerConnection;

class H2ServerStream : private Downstream {
 public:
  H2ServerStream(H2ServerConnection* conn, int32_t id);
  ~H2ServerStream() override;
  H2ServerStream(const H2ServerStream&) = delete;
  H2ServerStream& operator=(const H2ServerStream&) = delete;

  // --- from the connection's nghttp2 callbacks ---
  // A decoded header field; false past the hard limit (an HPACK bomb: the caller calms).
  bool OnHeader(std::string_view name, std::string_view value);
  // The header block ended (`end_stream`: no body follows).
  void OnHeadersDone(bool end_stream);
  void OnData(const uint8_t* data, size_t len);
  void OnEndStream();
  // nghttp2 closed the stream (reset by either side, or done).
  void OnClosed(uint32_t error_code);
  // The data source: up to `len` response bytes into `buf`; sets *eof / *no_end_stream.
  ssize_t ReadResponse(uint8_t* buf, size_t len, uint32_t* data_flags);
  // Response bytes went into frames and the queue emptied (the connection tells us later).
  void Drained();
  // The exchange resumed the body: hand it what was held (from the connection's loop).
  void DeliverHeld();
  // The response's last frame (END_STREAM) went out. An answer that came before the whole
  // request (an early 403, 413, ...) resets the stream with NO_ERROR so that the client stops
  // sending (RFC 9113 §8.1); its body's budget was freed when the answer was made.
  void OnResponseSent();
  bool reset_by_client() const { return reset_by_client_; }

 private:
  // Downstream
  void StartResponse(const Response& head) override;
  void ResponseBody(std::string_view data) override;
  size_t FlushResponse() override;
  void FinishResponse(const Headers& trailers) override;
  void LocalResponse(int status, std::string_view content_type, std::string_view body,
                     std::string_view extra_name, std::string_view extra_value,
                     bool close) override;
  void AbortResponse() override;
  void PauseRequestBody() override;
  void ResumeRequestBody() override;
  void CloseAfterResponse() override {}
  const std::string& client_ip() const override;
  bool secure() const override;
  const std::string& peer_address() const override;
  bool head_request() const override { return head_request_; }
  bool http2() const override { return true; }

  // A codec answer (400/413/431/503) before the exchange began.
  void CodecAnswer(int status, std::string_view message);
  void SubmitHead(int status, const Headers& fields, std::string_view content_type,
                  std::string_view extra_name, std::string_view extra_value, int64_t length,
                  bool body);
  void Deliver(std::string_view data);
  bool Reserve(uint64_t n);
  void ReleaseBudget();

  H2ServerConnection* conn_;
  int32_t id_;
  Request req_;
  std::unique_ptr<ServerExchange> exchange_;
  evbuffer* out_;     // response body bytes not yet in frames
  std::string held_;  // request body received while the exchange paused it
  Headers trailers_;  // response trailers, sent after the last DATA
  size_t header_bytes_ = 0;
  uint64_t body_seen_ = 0;
  uint64_t reserved_ = 0;  // held in the body budget
  bool has_authority_ = false;
  std::string authority_;
  bool too_large_ = false;
  bool begun_ = false;
  bool request_done_ = false;
  bool response_started_ = false;
  bool response_done_ = false;
  bool eof_ = false;           // the data source ends after out_
  bool deferred_ = false;      // the data source waits for bytes (resume it)
  bool paused_ = false;        // the exchange paused the request body
  bool want_drained_ = false;  // FlushResponse reported queued bytes
  bool head_request_ = false;
  bool no_body_ = false;  // HEAD, 204, 304: the response ended with its HEADERS
  bool reset_by_client_ = false;
};

}  // namespace halo::http
