#include "common/net/ares_resolver.h"

#include <ares.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "common/net/resolver_lookup.h"

namespace halo::net {
namespace {

using internal::Answer;
using internal::Lookup;

std::once_flag g_ares_init;

class AresResolver : public Resolver {
 public:
  static Result<std::unique_ptr<Resolver>> Create(const AresResolverOptions& o) {
    std::call_once(g_ares_init, [] { ares_library_init(ARES_LIB_INIT_ALL); });
    std::unique_ptr<AresResolver> r(new AresResolver());
    ares_options opts{};
    opts.timeout = o.timeout_ms;
    opts.tries = o.tries;
    int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    if (int rc = ares_init_options(&r->channel_, &opts, mask); rc != ARES_SUCCESS) {
      return Status::Internal(std::string("c-ares: ") + ares_strerror(rc));
    }
    r->channel_ok_ = true;
    if (!o.servers.empty()) {
      std::string csv;
      for (const std::string& s : o.servers) csv += (csv.empty() ? "" : ",") + s;
      if (int rc = ares_set_servers_ports_csv(r->channel_, csv.c_str()); rc != ARES_SUCCESS) {
        return Status::InvalidArgument("dns_servers \"" + csv + "\": " + ares_strerror(rc));
      }
    }
    r->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (r->wake_fd_ < 0) return Status::FromErrno("eventfd", errno);
    r->thread_ = std::thread([p = r.get()] { p->Run(); });
    return std::unique_ptr<Resolver>(std::move(r));
  }

  ~AresResolver() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    Wake();
    if (thread_.joinable()) thread_.join();
    if (channel_ok_) ares_destroy(channel_);  // its callbacks see stopping_: nothing posted
    if (wake_fd_ >= 0) close(wake_fd_);
  }

  std::unique_ptr<Handle> ResolveWithTtl(const std::string& host, int port,
                                         std::shared_ptr<LoopTaskQueue> reply,
                                         TtlCallback callback) override {
    std::shared_ptr<Lookup> lookup =
        internal::NewLookup(host, port, std::move(reply), std::move(callback));
    auto handle = std::make_unique<internal::LookupHandle>(lookup);
    if (internal::AnswerWithoutLookup(lookup)) return handle;
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(lookup);
    }
    Wake();
    return handle;
  }

 private:
  AresResolver() = default;

  struct Pending {
    AresResolver* self;
    std::shared_ptr<Lookup> lookup;
  };

  void Wake() {
    uint64_t one = 1;
    if (wake_fd_ >= 0) (void)!write(wake_fd_, &one, sizeof(one));
  }

  static void OnAnswer(void* arg, int status, int, ares_addrinfo* res) {
    std::unique_ptr<Pending> p(static_cast<Pending*>(arg));
    Result<Resolution> out = Collect(p->lookup->host, status, res);
    if (res != nullptr) ares_freeaddrinfo(res);
    {
      std::lock_guard<std::mutex> lock(p->self->mu_);
      if (p->self->stopping_) return;
    }
    Answer(p->lookup, std::move(out));
  }

  static Result<Resolution> Collect(const std::string& host, int status, ares_addrinfo* res) {
    if (status != ARES_SUCCESS || res == nullptr) {
      return Status::Unavailable("cannot resolve " + host + ": " + ares_strerror(status));
    }
    Resolution r;
    int ttl = INT_MAX;
    for (ares_addrinfo_node* n = res->nodes; n != nullptr; n = n->ai_next) {
      if (n->ai_family != AF_INET && n->ai_family != AF_INET6) continue;
      if (n->ai_addrlen > sizeof(sockaddr_storage)) continue;
      NetAddress a;
      std::memcpy(&a.ss, n->ai_addr, n->ai_addrlen);
      a.len = static_cast<socklen_t>(n->ai_addrlen);
      internal::AddUnique(&r.addrs, a);
      if (n->ai_ttl >= 0 && n->ai_ttl < ttl) ttl = n->ai_ttl;
    }
    if (r.addrs.empty()) return Status::Unavailable("cannot resolve " + host + ": no address");
    r.ttl_s = ttl == INT_MAX ? -1 : ttl;
    return r;
  }

  void StartQueued() {
    std::deque<std::shared_ptr<Lookup>> batch;
    {
      std::lock_guard<std::mutex> lock(mu_);
      batch.swap(queue_);
    }
    for (auto& lookup : batch) {
      if (lookup->cancelled.load(std::memory_order_acquire)) continue;
      ares_addrinfo_hints hints{};
      hints.ai_family = AF_UNSPEC;
      hints.ai_socktype = SOCK_STREAM;
      hints.ai_flags = ARES_AI_NOSORT;
      std::string port = std::to_string(lookup->port);
      ares_getaddrinfo(channel_, lookup->host.c_str(), port.c_str(), &hints, &OnAnswer,
                       new Pending{this, lookup});
    }
  }

  void Run() {
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return;
      }
      StartQueued();
      ares_socket_t socks[ARES_GETSOCK_MAXNUM];
      int bits = ares_getsock(channel_, socks, ARES_GETSOCK_MAXNUM);
      pollfd fds[ARES_GETSOCK_MAXNUM + 1];
      nfds_t n = 0;
      fds[n++] = {wake_fd_, POLLIN, 0};
      for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
        short ev = 0;
        if (ARES_GETSOCK_READABLE(bits, i)) ev |= POLLIN;
        if (ARES_GETSOCK_WRITABLE(bits, i)) ev |= POLLOUT;
        if (ev != 0) fds[n++] = {socks[i], ev, 0};
      }
      timeval tv{};
      timeval* t = ares_timeout(channel_, nullptr, &tv);
      int wait_ms = t == nullptr ? -1 : static_cast<int>(t->tv_sec * 1000 + t->tv_usec / 1000);
      int rc = poll(fds, n, wait_ms);
      if (rc < 0 && errno != EINTR) return;
      if (fds[0].revents & POLLIN) {
        uint64_t v;
        (void)!read(wake_fd_, &v, sizeof(v));
      }
      bool any = false;
      for (nfds_t i = 1; i < n; ++i) {
        if (fds[i].revents == 0) continue;
        any = true;
        ares_socket_t r =
            (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) ? fds[i].fd : ARES_SOCKET_BAD;
        ares_socket_t w = (fds[i].revents & POLLOUT) ? fds[i].fd : ARES_SOCKET_BAD;
        ares_process_fd(channel_, r, w);
      }
      if (!any) ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts
    }
  }

  ares_channel channel_ = nullptr;
  bool channel_ok_ = false;
  int wake_fd_ = -1;
  std::thread thread_;
  std::mutex mu_;
  std::deque<std::shared_ptr<Lookup>> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                      // GUARDED_BY(mu_)
};

}  // namespace

Result<std::unique_ptr<Resolver>> NewAresResolver(const AresResolverOptions& options) {
  return AresResolver::Create(options);
}

}  // namespace halo::net
