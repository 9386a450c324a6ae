#include "common/http/h2_upstream_stream.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <charconv>

#include "common/http/evbuffer_feed.h"
#include "common/http/framing.h"
#include "common/http/h2_upstream_session.h"
#include "common/http/syntax.h"

namespace halo::http {
namespace {

ssize_t ReadCb(nghttp2_session*, int32_t, uint8_t* buf, size_t len, uint32_t* flags,
               nghttp2_data_source* source, void*) {
  return static_cast<H2UpstreamStream*>(source->ptr)->ReadRequestBody(buf, len, flags);
}

timeval Tv(int64_t ms) {
  if (ms < 0) ms = 0;
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

void AddLower(std::vector<std::string>* fields, std::string_view name, std::string_view value) {
  fields->emplace_back(name);
  for (char& c : fields->back()) c = AsciiLower(c);
  fields->emplace_back(value);
}

}  // namespace

H2UpstreamStream::H2UpstreamStream(H2UpstreamSession* session, int slot,
                                   const ParserOptions& request_options)
    : session_(session),
      slot_(slot),
      parser_(request_options, static_cast<RequestParser::Callbacks*>(this)),
      output_(evbuffer_new()),
      body_(evbuffer_new()) {
  timer_ = evtimer_new(session->base(), &H2UpstreamStream::OnTimer, this);
  session_->Add(this);
}

H2UpstreamStream::~H2UpstreamStream() {
  if (session_) session_->Remove(this);
  if (timer_) event_free(timer_);
  evbuffer_free(output_);
  evbuffer_free(body_);
}

void H2UpstreamStream::Attach(UpstreamOwner* owner, std::string_view, int64_t response_timeout_ms) {
  owner_ = owner;
  response_timeout_ms_ = response_timeout_ms;
}

void H2UpstreamStream::ArmTimer(int64_t ms) {
  if (ms <= 0 || timer_ == nullptr) return;
  timeval tv = Tv(ms);
  evtimer_add(timer_, &tv);
}

void H2UpstreamStream::OnTimer(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<H2UpstreamStream*>(arg);
  if (self->complete_ || self->failed_) return;
  if (self->session_ && self->id_ > 0) {
    nghttp2_session_set_stream_user_data(self->session_->session(), self->id_, nullptr);
    nghttp2_submit_rst_stream(self->session_->session(), NGHTTP2_FLAG_NONE, self->id_,
                              NGHTTP2_CANCEL);
    self->session_->ScheduleSend();
  }
  self->Fail(UpstreamFailure::kTimeout, self->reach());
}

// ---------------------------------------------------------------------------------------
// The request: the owner's HTTP/1.1 bytes become HEADERS and DATA

void H2UpstreamStream::Send(size_t) {
  if (failed_ || complete_) return;
  ParseState state = FeedFromEvbuffer(output_, parser_, [] { return false; });
  if (state == ParseState::kError) {
    Fail(UpstreamFailure::kInvalidRequest, Reach::kNeverWritten);  // tail
    return;
  }
  if (deferred_ && (evbuffer_get_length(body_) > 0 || body_eof_)) {
    deferred_ = false;
    nghttp2_session_resume_data(session_->session(), id_);
  }
  if (session_) session_->ScheduleSend();
}

void H2UpstreamStream::OnHead(Request& req) {
  std::string joined;
  std::string_view conn = ConnectionValue(req.headers, &joined);
  std::string_view authority;
  fields_.clear();
  for (Headers::Field f : req.headers) {
    if (f.name.size() == 4 && EqualsIgnoreCase(f.name, "host")) {
      authority = f.value;
      continue;
    }
    if (IsHopByHop(f.name, conn)) continue;
    AddLower(&fields_, f.name, f.value);
  }
  std::vector<std::string> pseudo;
  AddLower(&pseudo, ":method", req.method);
  AddLower(&pseudo, ":scheme", session_ && session_->secure() ? "https" : "http");
  if (!authority.empty()) AddLower(&pseudo, ":authority", authority);
  AddLower(&pseudo, ":path", req.target);
  if (req.content_length >= 0)
    AddLower(&fields_, "content-length", std::to_string(req.content_length));
  pseudo.insert(pseudo.end(), fields_.begin(), fields_.end());
  fields_ = std::move(pseudo);
  has_body_ = req.content_length > 0 || req.chunked;
  head_ready_ = true;
  resp_ = Response{};
  if (session_ && session_->ready()) Submit();
}

void H2UpstreamStream::OnBody(std::string_view data) {
  evbuffer_add(body_, data.data(), data.size());
}

void H2UpstreamStream::OnComplete(Request&) { body_eof_ = true; }

bool H2UpstreamStream::connected() const { return session_ != nullptr && session_->ready(); }

void H2UpstreamStream::SessionReady() {
  if (head_ready_ && !submitted_) Submit();
  if (owner_ && !failed_ && !complete_) owner_->OnUpstreamConnected(this);  // tail
}

void H2UpstreamStream::Submit() {
  submitted_ = true;
  std::vector<nghttp2_nv> nva;
  nva.reserve(fields_.size() / 2);
  for (size_t i = 0; i + 1 < fields_.size(); i += 2) {
    nva.push_back({reinterpret_cast<uint8_t*>(fields_[i].data()),
                   reinterpret_cast<uint8_t*>(fields_[i + 1].data()), fields_[i].size(),
                   fields_[i + 1].size(), NGHTTP2_NV_FLAG_NONE});
  }
  nghttp2_data_provider provider;
  provider.source.ptr = this;
  provider.read_callback = ReadCb;
  int32_t id = nghttp2_submit_request(session_->session(), nullptr, nva.data(), nva.size(),
                                      has_body_ ? &provider : nullptr, this);
  fields_.clear();
  if (id < 0) {
    Fail(UpstreamFailure::kClosed, Reach::kNeverWritten);  // stream ids ran out: retried
    return;
  }
  id_ = id;
  ArmTimer(response_timeout_ms_);
  session_->ScheduleSend();
}

ssize_t H2UpstreamStream::ReadRequestBody(uint8_t* buf, size_t len, uint32_t* data_flags) {
  size_t n = std::min(len, evbuffer_get_length(body_));
  if (n > 0) evbuffer_remove(body_, buf, n);
  if (evbuffer_get_length(body_) == 0) {
    if (body_eof_) {
      *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    } else if (n == 0) {
      deferred_ = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    session_->NoteDrained(id_);
  }
  return static_cast<ssize_t>(n);
}

void H2UpstreamStream::Drained() {
  if (owner_) owner_->OnUpstreamDrained(this);
}

bool H2UpstreamStream::open_on_wire() const {
  return !complete_ || (has_body_ && (!body_eof_ || evbuffer_get_length(body_) > 0));
}

size_t H2UpstreamStream::output_length() const {
  return evbuffer_get_length(output_) + evbuffer_get_length(body_);
}

Reach H2UpstreamStream::reach() const {
  if (response_started_) return Reach::kResponseStarted;
  return headers_sent_ ? Reach::kWrittenNoResponse : Reach::kNeverWritten;
}

// ---------------------------------------------------------------------------------------
// The response

void H2UpstreamStream::OnHeader(std::string_view name, std::string_view value) {
  if (head_delivered_) {  // trailers
    resp_.trailers.Add(name, value);
    return;
  }
  if (name == ":status") {
    int status = 0;
    std::from_chars(value.data(), value.data() + value.size(), status);
    resp_.status = status;
    return;
  }
  if (name == "content-length") {
    int64_t n = -1;
    std::from_chars(value.data(), value.data() + value.size(), n);
    resp_.content_length = n;
  }
  resp_.headers.Add(name, value);
}

void H2UpstreamStream::OnHeadersDone(bool end_stream) {
  if (head_delivered_ || failed_ || complete_) return;
  if (resp_.status < 200) {  // an interim answer: the real head follows
    resp_ = Response{};
    return;
  }
  response_started_ = true;
  head_delivered_ = true;
  resp_.version_major = 2;
  resp_.version_minor = 0;
  resp_.keep_alive = true;
  if (resp_.content_length < 0) {
    if (end_stream) {
      resp_.content_length = 0;
    } else {
      resp_.chunked = true;  // unknown length
    }
  }
  ArmTimer(response_timeout_ms_);
  if (owner_ && !owner_->OnUpstreamHead(this, resp_)) {
    refused_ = true;
    failed_ = true;
    if (timer_) evtimer_del(timer_);
    UpstreamOwner* o = owner_;
    o->OnUpstreamRefused(this);  // tail
    return;
  }
  if (end_stream) OnEndStream();
}

void H2UpstreamStream::OnData(const uint8_t* data, size_t len) {
  if (failed_ || complete_ || !owner_) {
    nghttp2_session_consume(session_->session(), id_, len);
    return;
  }
  ArmTimer(response_timeout_ms_);
  owner_->OnUpstreamBody(this, {reinterpret_cast<const char*>(data), len});
  if (paused_) {
    unconsumed_ += len;
  } else {
    nghttp2_session_consume(session_->session(), id_, len);
  }
  session_->NoteRead(id_);
}

void H2UpstreamStream::ResumeReading() {
  paused_ = false;
  if (unconsumed_ > 0 && session_ && id_ > 0) {
    nghttp2_session_consume(session_->session(), id_, unconsumed_);
    unconsumed_ = 0;
    session_->ScheduleSend();  // the WINDOW_UPDATE
  }
}

void H2UpstreamStream::ReadDone() {
  if (owner_ && !failed_ && !complete_) owner_->OnUpstreamReadDone(this);
}

void H2UpstreamStream::OnEndStream() {
  if (failed_ || complete_ || !head_delivered_) return;
  complete_ = true;
  if (timer_) evtimer_del(timer_);
  UpstreamOwner* o = owner_;
  if (o) o->OnUpstreamComplete(this, resp_);  // tail
}

void H2UpstreamStream::OnClosed(uint32_t error_code) {
  if (complete_ || failed_) return;
  // REFUSED_STREAM (also what a GOAWAY above this stream's id comes as): never processed.
  Reach r = error_code == NGHTTP2_REFUSED_STREAM ? Reach::kNeverWritten : reach();
  if (r == Reach::kResponseStarted && !head_delivered_) r = Reach::kWrittenNoResponse;
  Fail(UpstreamFailure::kClosed, r);  // tail
}

void H2UpstreamStream::OnNotSent() {
  if (complete_ || failed_) return;
  Fail(UpstreamFailure::kClosed, Reach::kNeverWritten);  // tail
}

void H2UpstreamStream::SessionFailed(UpstreamFailure why, const std::string& tls_error) {
  session_ = nullptr;
  tls_error_ = tls_error;
  if (complete_ || failed_) return;
  Reach r = why == UpstreamFailure::kNotH2 || why == UpstreamFailure::kConnect
                ? Reach::kNeverWritten
                : reach();
  Fail(why, r);  // tail
}

void H2UpstreamStream::Fail(UpstreamFailure why, Reach reach) {
  failed_ = true;
  if (timer_) evtimer_del(timer_);
  UpstreamOwner* o = owner_;
  if (o) o->OnUpstreamError(this, why, reach);  // tail
}

}  // namespace halo::http
