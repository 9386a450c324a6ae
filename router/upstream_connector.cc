#include "router/upstream_connector.h"

#include <chrono>

#include "common/http/h2_upstream_stream.h"
#include "common/http/upstream_conn.h"
#include "common/logging.h"
#include "common/net/tls_context.h"

namespace halo::router {
namespace {

// How long a node that did not offer h2 is spoken to over HTTP/1.1 before h2 is tried again
// (it may have been upgraded).
constexpr int64_t kHttp1HoldMs = 60000;

}  // namespace

UpstreamConnector::UpstreamConnector(event_base* base, RouterCounters* counters, int max_slots,
                                     int64_t max_idle_per_node)
    : base_(base),
      counters_(counters),
      pool_(max_slots, max_idle_per_node),
      slots_(max_slots > 0 ? static_cast<size_t>(max_slots) : 0) {}

UpstreamConnector::~UpstreamConnector() { Clear(); }

int64_t UpstreamConnector::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

http::UpstreamStream* UpstreamConnector::Open(const NodeView& node, const RouteSettings& settings,
                                              bool verify, bool* pooled) {
  const int slot = node.slot;
  const bool in_range = slot >= 0 && static_cast<size_t>(slot) < slots_.size();
  const auto& tls = settings.upstream_tls;
  const std::string& server_name =
      tls && !tls->server_name().empty() ? tls->server_name() : node.host;
  if (settings.upstream_h2 && in_range && slots_[slot].http1_until_ms <= NowMs()) {
    Slot& s = slots_[slot];
    Sweep(&s);
    http::H2UpstreamSession* best = nullptr;
    for (auto& session : s.sessions) {
      if (!session->usable() || session->address() != node.resolved) continue;
      if (best == nullptr || session->stream_count() < best->stream_count()) {
        best = session.get();
      }
    }
    *pooled = best != nullptr;
    if (best == nullptr || (best->stream_count() > 0 && static_cast<int>(s.sessions.size()) <
                                                            settings.upstream_h2_connections)) {
      auto session = std::make_unique<http::H2UpstreamSession>(
          base_, slot, node.resolved, settings.upstream_h2_options, [this, slot, name = node.name] {
            LOG_WARN("node %s does not offer HTTP/2: HTTP/1.1 to it for %llds", name.c_str(),
                     static_cast<long long>(kHttp1HoldMs / 1000));
            slots_[slot].http1_until_ms = NowMs() + kHttp1HoldMs;
          });
      if (!session->Connect(settings.limits.upstream_connect_timeout_ms, tls, server_name)) {
        if (best == nullptr) return nullptr;
      } else {
        best = session.get();
        *pooled = false;
        s.sessions.push_back(std::move(session));
      }
    }
    counters_->upstream_protocol[slot].store(2, std::memory_order_relaxed);
    counters_->upstream_requests_h2.fetch_add(1, std::memory_order_relaxed);
    counters_->h2_streams[slot].fetch_add(1, std::memory_order_relaxed);
    Publish(slot);
    return new http::H2UpstreamStream(best, slot, settings.upstream_request_parser);
  }
  http::UpstreamConn* conn = pool_.Take(slot, node.resolved, verify);
  *pooled = conn != nullptr;
  if (conn == nullptr) {
    conn = new http::UpstreamConn(base_, slot, node.resolved, settings.response_parser);
    if (!conn->Connect(settings.limits.upstream_connect_timeout_ms, tls, server_name)) {
      delete conn;
      return nullptr;
    }
  }
  if (in_range) counters_->upstream_protocol[slot].store(1, std::memory_order_relaxed);
  counters_->upstream_requests_http1.fetch_add(1, std::memory_order_relaxed);
  return conn;
}

void UpstreamConnector::Release(http::UpstreamStream* s, bool reuse) {
  s->Detach();
  if (auto* h1 = dynamic_cast<http::UpstreamConn*>(s)) {
    if (reuse) {
      pool_.Put(h1);
    } else {
      delete h1;
    }
    return;
  }
  int slot = s->slot();
  delete s;
  if (slot >= 0 && static_cast<size_t>(slot) < slots_.size()) {
    counters_->h2_streams[slot].fetch_sub(1, std::memory_order_relaxed);
    Sweep(&slots_[slot]);
    Publish(slot);
  }
}

void UpstreamConnector::DropSlot(int slot) {
  pool_.DropSlot(slot);
  if (slot < 0 || static_cast<size_t>(slot) >= slots_.size()) return;
  for (auto& session : slots_[slot].sessions) session->Retire();
  Sweep(&slots_[slot]);
  Publish(slot);
}

void UpstreamConnector::Clear() {
  pool_.Clear();
  for (size_t i = 0; i < slots_.size(); ++i) {
    slots_[i].sessions.clear();
    Publish(static_cast<int>(i));
  }
}

void UpstreamConnector::Sweep(Slot* s) {
  auto& v = s->sessions;
  for (size_t i = 0; i < v.size();) {
    if (v[i]->dead() && v[i]->stream_count() == 0 && !v[i]->in_callback()) {
      v.erase(v.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
}

void UpstreamConnector::Publish(int slot) {
  Slot& s = slots_[slot];
  int live = 0;
  for (auto& session : s.sessions) live += session->dead() ? 0 : 1;
  if (live != s.published) {  // the counter sums every worker's sessions
    counters_->h2_sessions[slot].fetch_add(live - s.published, std::memory_order_relaxed);
    s.published = live;
  }
}

}  // namespace halo::router
