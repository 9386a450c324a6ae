#include "common/http/http_client.h"

#include "common/http/h2_upstream_stream.h"

#include <event2/buffer.h>
#include <event2/event.h>

#include <algorithm>
#include <cstring>

#include "common/http/retry_policy.h"
#include "common/http/serializer.h"
#include "common/http/upstream_conn.h"

namespace halo::http {
// One request: its serialized bytes, its callback, and the attempt in progress. It is the
// UpstreamOwner of the connection carrying it; the client owns it (exchanges_).
class HttpClient::Exchange final : public UpstreamOwner {
 public:
  Exchange(HttpClient* client, uint64_t id) : client_(client), id_(id) {
    timer_ = evtimer_new(client->base_, &Exchange::OnTimer, this);
  }
  ~Exchange() override {
    DropConn();
    if (timer_) event_free(timer_);
  }
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  void DropConn() {
    if (conn_ == nullptr) return;
    conn_->Detach();
    delete conn_;  // an unfinished HTTP/2 stream is cancelled, its session lives on
    conn_ = nullptr;
  }
  void Write() {
    evbuffer_add(conn_->output(), wire_.data(), wire_.size());
    conn_->Send(wire_.size());
  }

  // UpstreamOwner
  void OnUpstreamConnected(UpstreamStream*) override { Write(); }
  bool OnUpstreamHead(UpstreamStream*, Response& resp) override {
    response_ = resp;  // the head; the body follows through OnUpstreamBody
    return true;
  }
  void OnUpstreamBody(UpstreamStream*, std::string_view data) override {
    response_.body.append(data);
  }
  void OnUpstreamReadDone(UpstreamStream*) override {}
  void OnUpstreamComplete(UpstreamStream*, Response& resp) override {
    response_.trailers = resp.trailers;
    response_.keep_alive = resp.keep_alive;
    UpstreamStream* c = conn_;
    conn_ = nullptr;
    c->Detach();
    if (auto* h1 = dynamic_cast<UpstreamConn*>(c)) {
      client_->pool_.Put(h1);  // parks it when reusable, deletes it otherwise
    } else {
      delete c;
    }
    ClientResult r;
    r.reach = Reach::kResponseStarted;
    r.response = std::move(response_);
    client_->Finish(this, std::move(r));  // tail
  }
  void OnUpstreamRefused(UpstreamStream*) override {  // never refused; treat as a bad answer
    client_->Failed(this, UpstreamFailure::kBadResponse, Reach::kResponseStarted);
  }
  void OnUpstreamError(UpstreamStream*, UpstreamFailure why, Reach reach) override {
    tls_error_ = conn_->tls_error();
    client_->Failed(this, why, reach);  // tail
  }
  void OnUpstreamDrained(UpstreamStream*) override {}

  static void OnTimer(evutil_socket_t, short, void* arg) {
    auto* self = static_cast<Exchange*>(arg);
    ClientResult r = std::move(self->deferred_);
    self->client_->Finish(self, std::move(r));
  }

  HttpClient* const client_;
  const uint64_t id_;
  event* timer_ = nullptr;
  net::NetAddress addr_;
  std::string host_;
  std::string tls_error_;  // the last attempt's TLS failure, for the result's message
  int slot_ = -1;
  std::string method_;
  std::string wire_;
  int64_t timeout_ms_ = 0;
  Callback done_;
  UpstreamStream* conn_ = nullptr;
  bool pooled_ = false;  // the current attempt's connection came from the pool
  Response response_;
  ClientResult deferred_;
};

HttpClient::HttpClient(event_base* base, HttpClientOptions options)
    : base_(base),
      options_(std::move(options)),
      pool_(options_.max_peers, options_.max_idle_per_peer),
      alive_(std::make_shared<bool>(true)) {}

HttpClient::~HttpClient() {
  *alive_ = false;
  exchanges_.clear();  // closes their connections; callbacks are destroyed, not called
  pool_.Clear();
  h2_.clear();
  h2_retired_.clear();
}

UpstreamStream* HttpClient::OpenH2(Exchange* ex, bool* reused) {
  size_t slot = static_cast<size_t>(ex->slot_);
  if (h2_.size() <= slot) h2_.resize(slot + 1);
  // Sessions that ended and carry nothing are freed (never from inside their callbacks).
  for (size_t i = 0; i < h2_retired_.size();) {
    H2UpstreamSession* r = h2_retired_[i].get();
    if ((r->dead() || !r->usable()) && r->stream_count() == 0 && !r->in_callback()) {
      h2_retired_.erase(h2_retired_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  std::unique_ptr<H2UpstreamSession>& s = h2_[slot];
  if (s && (!s->usable() || s->address() != ex->addr_)) {
    s->Retire();
    h2_retired_.push_back(std::move(s));
  }
  *reused = s != nullptr;
  if (!s) {
    auto session = std::make_unique<H2UpstreamSession>(base_, ex->slot_, ex->addr_,
                                                       options_.h2_options, [this, slot] {
                                                         if (not_h2_.size() <= slot)
                                                           not_h2_.resize(slot + 1);
                                                         not_h2_[slot] = true;
                                                       });
    ++stats_.connections_opened;
    int64_t connect_ms = std::min(options_.connect_timeout_ms, ex->timeout_ms_);
    if (!session->Connect(connect_ms > 0 ? connect_ms : options_.connect_timeout_ms, options_.tls,
                          TlsServerName(ex->host_))) {
      return nullptr;
    }
    s = std::move(session);
  } else {
    ++stats_.reused;
  }
  ParserOptions own;  // the client's own serialized request: generous limits
  own.max_header_bytes = 1 << 20;
  own.max_header_count = 10000;
  own.max_body_bytes = uint64_t{1} << 40;
  return new H2UpstreamStream(s.get(), ex->slot_, own);
}

int HttpClient::SlotFor(const net::NetAddress& addr) {
  for (size_t i = 0; i < peers_.size(); ++i) {
    if (peers_[i] == addr) return static_cast<int>(i);
  }
  if (static_cast<int>(peers_.size()) < pool_.max_slots()) {
    peers_.push_back(addr);
    return static_cast<int>(peers_.size() - 1);
  }
  // Every slot is taken: reuse one with nothing parked. A connection still in flight for
  // the old address may be parked there later; Take() drops it (address mismatch).
  for (size_t i = 0; i < peers_.size(); ++i) {
    if (pool_.idle_count(static_cast<int>(i)) == 0) {
      pool_.DropSlot(static_cast<int>(i));
      peers_[i] = addr;
      return static_cast<int>(i);
    }
  }
  return -1;  // not pooled
}

void HttpClient::Send(const net::NetAddress& addr, std::string_view host_header,
                      ClientRequest request, int64_t timeout_ms, Callback done) {
  uint64_t id = next_id_++;
  auto owned = std::make_unique<Exchange>(this, id);
  Exchange* ex = owned.get();
  exchanges_.emplace(id, std::move(owned));
  ++stats_.requests;
  ex->done_ = std::move(done);
  ex->addr_ = addr;
  ex->host_ = std::string(host_header);
  ex->timeout_ms_ = timeout_ms;
  ex->method_ = request.method;

  Request r;
  r.method = std::move(request.method);
  r.target = std::move(request.target);
  r.headers = std::move(request.headers);
  r.headers.Remove("Connection");
  if (!r.headers.Has("Host")) r.headers.Add("Host", host_header);
  r.body = std::move(request.body);
  Status st = AppendRequest(&ex->wire_, r);
  if (!st.ok()) {
    ClientResult res;
    res.status = st;
    res.failure = UpstreamFailure::kInvalidRequest;
    res.error_status = 503;  // never sent (DecideRetry: kInvalidRequest)
    Defer(ex, std::move(res));
    return;
  }
  ex->slot_ = SlotFor(addr);
  Start(ex, true);
}

// The name TLS sends and checks: the configured one, else the host of the Host header.
std::string HttpClient::TlsServerName(const std::string& host_header) const {
  if (!options_.tls) return "";
  if (!options_.tls->server_name().empty()) return options_.tls->server_name();
  std::string host = host_header;
  if (!host.empty() && host[0] == '[') return host.substr(1, host.find(']') - 1);
  size_t colon = host.rfind(':');
  return colon == std::string::npos ? host : host.substr(0, colon);
}

void HttpClient::ConnectFailed(Exchange* ex) {
  ClientResult res;
  res.status = Status::Unavailable("connect to " + ex->host_ + " failed");
  res.failure = UpstreamFailure::kConnect;
  res.error_status = 503;
  Defer(ex, std::move(res));
}

void HttpClient::Start(Exchange* ex, bool use_pool) {
  size_t slot = static_cast<size_t>(ex->slot_);
  if (options_.h2 && ex->slot_ >= 0 && !(slot < not_h2_.size() && not_h2_[slot])) {
    bool reused = false;
    UpstreamStream* st = OpenH2(ex, &reused);
    if (st == nullptr) {
      ConnectFailed(ex);
      return;
    }
    ex->pooled_ = reused;
    ex->conn_ = st;
    st->Attach(ex, ex->method_, ex->timeout_ms_);
    if (st->connected()) ex->Write();  // else once the session is up (OnUpstreamConnected)
    return;
  }
  UpstreamConn* c = nullptr;
  if (use_pool && ex->slot_ >= 0) c = pool_.Take(ex->slot_, ex->addr_, options_.verify_pooled);
  ex->pooled_ = c != nullptr;
  if (c) {
    ++stats_.reused;
  } else {
    c = new UpstreamConn(base_, ex->slot_, ex->addr_, options_.parser);
    ++stats_.connections_opened;
    int64_t connect_ms = std::min(options_.connect_timeout_ms, ex->timeout_ms_);
    if (!c->Connect(connect_ms > 0 ? connect_ms : options_.connect_timeout_ms, options_.tls,
                    TlsServerName(ex->host_))) {
      delete c;
      ConnectFailed(ex);
      return;
    }
  }
  ex->conn_ = c;
  c->Attach(ex, ex->method_, ex->timeout_ms_);
  if (c->connected()) ex->Write();
}

void HttpClient::Defer(Exchange* ex, ClientResult result) {
  ex->deferred_ = std::move(result);
  timeval now{0, 0};
  evtimer_add(ex->timer_, &now);
}

void HttpClient::Failed(Exchange* ex, UpstreamFailure why, Reach reach) {
  bool pooled = ex->pooled_;
  ex->DropConn();
  RetryInput in;
  in.scope = RetryScope::kSamePeer;
  in.failure = why;
  in.reach = reach;
  in.pooled = pooled;
  in.replayable = true;  // the whole request is kept in `wire_`
  RetryDecision d = DecideRetry(in);
  if (d.action == RetryAction::kResend) {
    ++stats_.retried;
    Start(ex, !d.fresh_connection);
    return;
  }
  ClientResult res;
  res.reach = reach;
  res.failure = why;
  res.error_status = d.status;
  std::string what = ex->method_ + " " + ex->host_ + ": " + UpstreamFailureName(why) + " (" +
                     ReachName(reach) + ")";
  if (!ex->tls_error_.empty()) what += ": " + ex->tls_error_;
  res.status = reach == Reach::kNeverWritten ? Status::Unavailable(what + ", never sent")
                                             : Status::Timeout(what + ", outcome unknown");
  Finish(ex, std::move(res));  // tail
}

bool HttpClient::Finish(Exchange* ex, ClientResult result) {
  auto node = exchanges_.extract(ex->id_);
  Callback done = std::move(ex->done_);
  node.mapped().reset();  // frees the timer and any connection
  std::shared_ptr<bool> alive = alive_;
  if (done) done(std::move(result));
  return *alive;
}

void HttpClient::CloseIdle() {
  pool_.Clear();
  for (auto& s : h2_) {  // new requests get new sessions; streams in flight finish
    if (!s) continue;
    s->Retire();
    h2_retired_.push_back(std::move(s));
  }
}

size_t HttpClient::idle_connections() const {
  size_t n = 0;
  for (int s = 0; s < pool_.max_slots(); ++s) n += pool_.idle_count(s);
  return n;
}

}  // namespace halo::http
