#include "common/http/h2_server_stream.h"

#include <event2/buffer.h>
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <charconv>

#include "common/http/error_body.h"
#include "common/http/framing.h"
#include "common/http/h2_server_connection.h"
#include "common/http/syntax.h"
#include "common/http/url.h"

namespace halo::http {
namespace {

ssize_t ReadCb(nghttp2_session*, int32_t, uint8_t* buf, size_t len, uint32_t* flags,
               nghttp2_data_source* source, void*) {
  return static_cast<H2ServerStream*>(source->ptr)->ReadResponse(buf, len, flags);
}

// Header fields for nghttp2 (names lower-cased, as HTTP/2 requires); nghttp2 copies them.
class FieldList {
 public:
  void Add(std::string_view name, std::string_view value) {
    names_.emplace_back(name);
    for (char& c : names_.back()) c = AsciiLower(c);
    values_.emplace_back(value);
  }
  std::vector<nghttp2_nv> Build() {
    std::vector<nghttp2_nv> nva;
    nva.reserve(names_.size());
    for (size_t i = 0; i < names_.size(); ++i) {
      nva.push_back({reinterpret_cast<uint8_t*>(names_[i].data()),
                     reinterpret_cast<uint8_t*>(values_[i].data()), names_[i].size(),
                     values_[i].size(), NGHTTP2_NV_FLAG_NONE});
    }
    return nva;
  }

 private:
  std::vector<std::string> names_;
  std::vector<std::string> values_;
};

bool ResponseHasBody(int status, bool head) {
  return !head && status >= 200 && status != 204 && status != 304;
}

}  // namespace

H2ServerStream::H2ServerStream(H2ServerConnection* conn, int32_t id)
    : conn_(conn), id_(id), out_(evbuffer_new()) {
  req_.version_major = 2;
  req_.version_minor = 0;
  exchange_ = conn_->host()->NewExchange(static_cast<Downstream*>(this));
}

H2ServerStream::~H2ServerStream() {
  exchange_.reset();
  ReleaseBudget();
  evbuffer_free(out_);
}

const std::string& H2ServerStream::client_ip() const { return conn_->client_ip(); }
bool H2ServerStream::secure() const { return conn_->secure(); }
const std::string& H2ServerStream::peer_address() const { return conn_->peer_address(); }

// ---------------------------------------------------------------------------------------
// The request

bool H2ServerStream::OnHeader(std::string_view name, std::string_view value) {
  const ServerConnectionOptions& o = conn_->options();
  size_t limit =
      o.h2.max_header_list_bytes ? o.h2.max_header_list_bytes : o.parser.max_header_bytes;
  header_bytes_ += name.size() + value.size() + 32;
  if (header_bytes_ > 4 * limit) return false;  // far past: an HPACK bomb, not a big request
  if (header_bytes_ > limit || req_.headers.size() >= o.parser.max_header_count) {
    too_large_ = true;
    return true;
  }
  if (begun_) {  // trailers
    if (!name.empty() && name[0] != ':') req_.trailers.Add(name, value);
    return true;
  }
  if (!name.empty() && name[0] == ':') {
    if (name == ":method") {
      req_.method.assign(value);
    } else if (name == ":path") {
      req_.target.assign(value);
    } else if (name == ":authority") {
      authority_.assign(value);
      has_authority_ = true;
    }
    return true;  // :scheme, :protocol: nothing to keep
  }
  if (name == "content-length") {
    int64_t n = -1;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec == std::errc() && p == value.data() + value.size()) req_.content_length = n;
    return true;  // framing is the codec's: not a field of the request
  }
  req_.headers.Add(name, value);
  return true;
}

void H2ServerStream::OnHeadersDone(bool end_stream) {
  const ServerConnectionOptions& o = conn_->options();
  request_done_ = end_stream;
  if (too_large_) {
    CodecAnswer(431, "request header fields too large");
    return;
  }
  if (req_.method == "CONNECT" || req_.target.empty()) {
    CodecAnswer(501, "CONNECT is not supported");
    return;
  }
  if (has_authority_ && !req_.headers.Has("host")) req_.headers.Add("host", authority_);
  Status split = SplitTarget(req_.method, req_.target, &req_.path, &req_.query);
  if (!split.ok()) {
    CodecAnswer(400, split.message());
    return;
  }
  if (!end_stream && req_.content_length < 0) req_.chunked = true;  // a body of unknown length
  if (req_.content_length >= 0 &&
      static_cast<uint64_t>(req_.content_length) > o.parser.max_body_bytes) {
    CodecAnswer(413, "request body too large");
    return;
  }
  if (req_.content_length > 0 && !Reserve(static_cast<uint64_t>(req_.content_length))) {
    CodecAnswer(503, "too many request bodies in progress; retry later");
    return;
  }
  head_request_ = req_.method == "HEAD";
  begun_ = true;
  if (!exchange_->Begin(req_)) {
    begun_ = false;
    CodecAnswer(400, "request target cannot be normalised safely");
    return;
  }
  if (end_stream) OnEndStream();
}

bool H2ServerStream::Reserve(uint64_t n) {
  const auto& budget = conn_->options().body_budget;
  if (!budget || n == 0) return true;
  if (!budget->TryReserve(n)) return false;
  reserved_ += n;
  return true;
}

void H2ServerStream::OnData(const uint8_t* data, size_t len) {
  std::string_view d(reinterpret_cast<const char*>(data), len);
  body_seen_ += len;
  if (!begun_ || response_done_) {  // answered (or refused): dropped, the window reopened
    nghttp2_session_consume(conn_->session(), id_, len);
    return;
  }
  const ServerConnectionOptions& o = conn_->options();
  if (body_seen_ > o.parser.max_body_bytes ||
      (req_.content_length >= 0 && body_seen_ > static_cast<uint64_t>(req_.content_length))) {
    exchange_->Abandon();
    if (!response_started_) {
      CodecAnswer(413, "request body too large");
    } else {
      AbortResponse();
    }
    return;
  }
  if (req_.chunked && !Reserve(len)) {
    exchange_->Abandon();
    if (!response_started_) {
      CodecAnswer(503, "too many request bodies in progress; retry later");
    } else {
      AbortResponse();
    }
    return;
  }
  if (paused_ || !held_.empty()) {
    held_.append(d);  // the window stays closed by these bytes until they are taken
    return;
  }
  Deliver(d);
}

void H2ServerStream::Deliver(std::string_view data) {
  exchange_->RequestBody(data);
  nghttp2_session_consume(conn_->session(), id_, data.size());
}

void H2ServerStream::OnEndStream() {
  request_done_ = true;
  if (!begun_ || response_done_ || paused_ || !held_.empty()) return;  // see DeliverHeld
  exchange_->RequestComplete(req_.trailers);
}

void H2ServerStream::DeliverHeld() {
  if (paused_ || !begun_) return;
  if (!held_.empty()) {
    std::string body = std::move(held_);
    held_.clear();
    Deliver(body);
  }
  if (request_done_ && !response_done_ && !paused_ && held_.empty()) {
    exchange_->RequestComplete(req_.trailers);
  }
}

void H2ServerStream::ReleaseBudget() {
  if (reserved_ == 0) return;
  conn_->options().body_budget->Release(reserved_);
  reserved_ = 0;
}

void H2ServerStream::OnResponseSent() {
  if (request_done_) return;
  nghttp2_submit_rst_stream(conn_->session(), NGHTTP2_FLAG_NONE, id_, NGHTTP2_NO_ERROR);
}

void H2ServerStream::PauseRequestBody() { paused_ = true; }

void H2ServerStream::ResumeRequestBody() {
  if (!paused_) return;
  paused_ = false;
  conn_->NoteResumed(id_);  // delivered from the loop, not inside the exchange's call
}

void H2ServerStream::OnClosed(uint32_t error_code) {
  if (error_code != NGHTTP2_NO_ERROR && !response_done_) reset_by_client_ = true;
  if (!held_.empty()) {
    nghttp2_session_consume_connection(conn_->session(), held_.size());
    held_.clear();
  }
  if (begun_ && !(response_done_ && request_done_)) exchange_->Abandon();
}

// ---------------------------------------------------------------------------------------
// The response

void H2ServerStream::SubmitHead(int status, const Headers& fields, std::string_view content_type,
                                std::string_view extra_name, std::string_view extra_value,
                                int64_t length, bool body) {
  FieldList list;
  char code[4];
  auto [end, ec] = std::to_chars(code, code + 4, status);
  list.Add(":status", std::string_view(code, static_cast<size_t>(end - code)));
  std::string joined;
  std::string_view conn = ConnectionValue(fields, &joined);
  bool has_length = false;
  for (Headers::Field f : fields) {
    if (EqualsIgnoreCase(f.name, "content-length")) {
      if (!body) {  // HEAD / 304 keep the length they announce
        list.Add(f.name, f.value);
        has_length = true;
      }
      continue;
    }
    if (IsHopByHop(f.name, conn)) continue;
    list.Add(f.name, f.value);
  }
  if (!extra_name.empty()) list.Add(extra_name, extra_value);
  if (!content_type.empty()) list.Add("content-type", content_type);
  if (length >= 0 && !has_length) list.Add("content-length", std::to_string(length));
  std::vector<nghttp2_nv> nva = list.Build();
  nghttp2_data_provider provider;
  provider.source.ptr = this;
  provider.read_callback = ReadCb;
  nghttp2_submit_response(conn_->session(), id_, nva.data(), nva.size(),
                          body ? &provider : nullptr);
  response_started_ = true;
  if (!body) eof_ = true;
  conn_->ScheduleSend();
}

void H2ServerStream::StartResponse(const Response& head) {
  bool body = ResponseHasBody(head.status, head_request_);
  int64_t length = body && !head.chunked ? head.content_length : -1;
  SubmitHead(head.status, head.headers, {}, {}, {}, length, body);
  no_body_ = !body;
}

void H2ServerStream::ResponseBody(std::string_view data) {
  if (data.empty() || no_body_) return;
  evbuffer_add(out_, data.data(), data.size());
  if (deferred_) {
    deferred_ = false;
    nghttp2_session_resume_data(conn_->session(), id_);
  }
}

size_t H2ServerStream::FlushResponse() {
  conn_->ScheduleSend();
  size_t queued = evbuffer_get_length(out_);
  if (queued > 0) want_drained_ = true;
  return queued;
}

void H2ServerStream::FinishResponse(const Headers& trailers) {
  response_done_ = true;
  if (!request_done_) ReleaseBudget();  // the rest of the body is dropped as it comes
  eof_ = true;
  if (!no_body_) {
    for (Headers::Field f : trailers) trailers_.Add(f.name, f.value);
    if (deferred_) {
      deferred_ = false;
      nghttp2_session_resume_data(conn_->session(), id_);
    }
  }
  conn_->ScheduleSend();
}

void H2ServerStream::LocalResponse(int status, std::string_view content_type, std::string_view body,
                                   std::string_view extra_name, std::string_view extra_value,
                                   bool) {
  bool with_body = ResponseHasBody(status, head_request_);
  static const Headers kNoStore{{"cache-control", "no-store"}};
  if (with_body) evbuffer_add(out_, body.data(), body.size());
  SubmitHead(status, kNoStore, content_type, extra_name, extra_value,
             static_cast<int64_t>(body.size()), with_body);
  no_body_ = !with_body;
  response_done_ = true;
  eof_ = true;
  if (!request_done_) ReleaseBudget();  // answered at the head: the body is dropped unread
}

void H2ServerStream::AbortResponse() {
  response_done_ = true;
  nghttp2_submit_rst_stream(conn_->session(), NGHTTP2_FLAG_NONE, id_, NGHTTP2_INTERNAL_ERROR);
  conn_->ScheduleSend();
}

void H2ServerStream::CodecAnswer(int status, std::string_view message) {
  if (status < 500) conn_->host()->OnBadRequest(status);
  exchange_->CodecAnswered(status);
  LocalResponse(status, "application/json", ErrorBody(message), {}, {}, false);
}

ssize_t H2ServerStream::ReadResponse(uint8_t* buf, size_t len, uint32_t* data_flags) {
  size_t n = std::min(len, evbuffer_get_length(out_));
  if (n > 0) evbuffer_remove(out_, buf, n);
  if (evbuffer_get_length(out_) > 0) return static_cast<ssize_t>(n);
  if (eof_) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!trailers_.empty()) {
      FieldList list;
      for (Headers::Field f : trailers_) list.Add(f.name, f.value);
      std::vector<nghttp2_nv> nva = list.Build();
      if (nghttp2_submit_trailer(conn_->session(), id_, nva.data(), nva.size()) == 0) {
        *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      }
    }
  } else if (n == 0) {
    deferred_ = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  if (want_drained_) {
    want_drained_ = false;
    conn_->NoteDrained(id_);
  }
  return static_cast<ssize_t>(n);
}

void H2ServerStream::Drained() {
  if (begun_ && !response_done_) exchange_->DownstreamDrained();
}

}  // namespace halo::http
