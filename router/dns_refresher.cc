#include "router/dns_refresher.h"

#include <algorithm>

#include "common/logging.h"
#include "common/time_util.h"
#include "router/node_expansion.h"

namespace halo::router {
namespace {

constexpr int64_t kMinRefreshMs = 1000;

bool SameNodes(const std::vector<NodeConfig>& a, const std::vector<NodeConfig>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].address != b[i].address ||
        net::HostPortString(a[i].resolved.sa()) != net::HostPortString(b[i].resolved.sa())) {
      return false;
    }
  }
  return true;
}

std::string Names(const std::vector<NodeConfig>& nodes) {
  std::string out;
  for (const NodeConfig& n : nodes) out += (out.empty() ? "" : ", ") + n.name;
  return out;
}

}  // namespace

DnsRefresher::DnsRefresher(event_base* base, std::shared_ptr<LoopTaskQueue> reply,
                           net::Resolver* resolver, OnChange on_change)
    : base_(base), reply_(std::move(reply)), resolver_(resolver), on_change_(std::move(on_change)) {
  timer_ = evtimer_new(base_, &DnsRefresher::OnTimer, this);
}

DnsRefresher::~DnsRefresher() {
  lookups_.clear();
  if (timer_) event_free(timer_);
}

Result<std::vector<NodeConfig>> DnsRefresher::ExpandBlocking(
    net::Resolver& resolver, const std::vector<NodeConfig>& configured,
    std::vector<std::vector<net::NetAddress>>* answers) {
  answers->assign(configured.size(), {});
  std::vector<std::optional<std::vector<net::NetAddress>>> found(configured.size());
  for (size_t i = 0; i < configured.size(); ++i) {
    const NodeConfig& n = configured[i];
    Result<std::vector<net::NetAddress>> a = net::ResolveBlocking(resolver, n.host, n.port);
    if (!a.ok()) return a.status().Annotate("node " + n.name);
    if (a->empty()) return Status::Unavailable("node " + n.name + ": no address");
    (*answers)[i] = *a;
    found[i] = *a;
  }
  size_t dropped = 0;
  std::vector<NodeConfig> out = ExpandNodes(configured, found, {}, kMaxNodes, &dropped);
  if (dropped > 0) {
    return Status::InvalidArgument("nodes: the names resolve to more than " +
                                   std::to_string(kMaxNodes) + " addresses");
  }
  return out;
}

void DnsRefresher::Reset(std::vector<NodeConfig> configured,
                         std::vector<std::vector<net::NetAddress>> answers, int64_t refresh_ms,
                         std::vector<NodeConfig> expanded) {
  lookups_.clear();  // a refresh in flight was for the old list: its answers never come
  remaining_ = 0;
  configured_ = std::move(configured);
  last_good_ = std::move(answers);
  failing_.assign(configured_.size(), false);
  expanded_ = std::move(expanded);
  refresh_ms_ = std::max(refresh_ms, kMinRefreshMs);
  bool any_name = std::any_of(configured_.begin(), configured_.end(), IsDnsName);
  evtimer_del(timer_);
  if (any_name) Schedule(refresh_ms_);
}

void DnsRefresher::Schedule(int64_t ms) {
  timeval tv = TimevalFromMillis(ms);
  evtimer_add(timer_, &tv);
}

void DnsRefresher::OnTimer(evutil_socket_t, short, void* arg) {
  static_cast<DnsRefresher*>(arg)->Refresh();
}

void DnsRefresher::Refresh() {
  if (remaining_ > 0) return;  // the last one is still out
  lookups_.clear();
  answers_.assign(configured_.size(), std::nullopt);
  min_ttl_s_ = -1;
  std::vector<size_t> names;
  for (size_t i = 0; i < configured_.size(); ++i) {
    if (IsDnsName(configured_[i])) names.push_back(i);
  }
  remaining_ = names.size();
  if (remaining_ == 0) return;
  for (size_t i : names) {
    lookups_.push_back(resolver_->ResolveWithTtl(
        configured_[i].host, configured_[i].port, reply_,
        [this, i](Result<net::Resolution> r) { OnAnswer(i, std::move(r)); }));
  }
}

void DnsRefresher::OnAnswer(size_t i, Result<net::Resolution> r) {
  const NodeConfig& n = configured_[i];
  if (r.ok() && !r->addrs.empty()) {
    if (failing_[i]) LOG_INFO("dns: %s resolves again", n.host.c_str());
    failing_[i] = false;
    answers_[i] = r->addrs;
    last_good_[i] = r->addrs;
    if (r->ttl_s >= 0 && (min_ttl_s_ < 0 || r->ttl_s < min_ttl_s_)) min_ttl_s_ = r->ttl_s;
  } else if (!failing_[i]) {
    failing_[i] = true;
    LOG_WARN("dns: %s (node %s): %s; keeping its last %zu address(es) until it resolves",
             n.host.c_str(), n.name.c_str(), r.ok() ? "no address" : r.status().ToString().c_str(),
             last_good_[i].size());
  }
  if (--remaining_ == 0) Finish();
}

void DnsRefresher::Finish() {
  size_t dropped = 0;
  std::vector<NodeConfig> next =
      ExpandNodes(configured_, answers_, last_good_, kMaxNodes, &dropped);
  if (dropped > 0) {
    LOG_WARN("dns: %zu address(es) over the %zu-node limit ignored", dropped, kMaxNodes);
  }
  if (!SameNodes(next, expanded_)) {
    LOG_INFO("dns: node set now %s", Names(next).c_str());
    expanded_ = next;
    on_change_(std::move(next));
  }
  int64_t wait = refresh_ms_;
  if (min_ttl_s_ >= 0) wait = std::min<int64_t>(wait, int64_t{min_ttl_s_} * 1000);
  Schedule(std::max(wait, kMinRefreshMs));
}

}  // namespace halo::router
