#include "common/redis/sentinel_watch.h"

#include <hiredis/hiredis.h>
#include <poll.h>

#include "common/logging.h"

namespace halo::redis {

SentinelWatch::SentinelWatch(RedisOptions options,
                             std::shared_ptr<std::atomic<uint64_t>> generation)
    : options_(std::move(options)), generation_(std::move(generation)) {
  thread_ = std::thread([this] { Run(); });
}

SentinelWatch::~SentinelWatch() {
  stop_ = true;
  thread_.join();
}

void SentinelWatch::Run() {
  size_t next = 0;
  while (!stop_) {
    Follow(options_.sentinels[next++ % options_.sentinels.size()]);
    for (int i = 0; i < 5 && !stop_; ++i) ::poll(nullptr, 0, 100);  // back off 500 ms
  }
}

void SentinelWatch::Follow(const std::string& sentinel) {
  std::string host;
  int port = 0;
  if (!SplitHostPort("sentinel", sentinel, &host, &port).ok()) return;
  int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(options_.op_timeout).count();
  timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
  redisContext* c = redisConnectWithTimeout(host.c_str(), port, tv);
  if (c == nullptr || c->err) {
    if (c) redisFree(c);
    return;
  }
  redisSetTimeout(c, tv);
  auto* r = static_cast<redisReply*>(redisCommand(c, "SUBSCRIBE +switch-master"));
  if (r == nullptr) {
    redisFree(c);
    return;
  }
  freeReplyObject(r);
  while (!stop_) {
    pollfd p{c->fd, POLLIN, 0};
    int n = ::poll(&p, 1, 200);
    if (n < 0) break;
    if (n == 0) continue;
    void* raw = nullptr;
    if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) break;
    auto* msg = static_cast<redisReply*>(raw);
    // ["message", "+switch-master", "<name> <old-ip> <old-port> <new-ip> <new-port>"]
    if (msg->type == REDIS_REPLY_ARRAY && msg->elements == 3 &&
        msg->element[2]->type == REDIS_REPLY_STRING) {
      std::string text(msg->element[2]->str, msg->element[2]->len);
      if (text.rfind(options_.master_name + " ", 0) == 0) {
        LOG_INFO("redis: Sentinel %s reports +switch-master %s", sentinel.c_str(), text.c_str());
        switches_.fetch_add(1);
        generation_->fetch_add(1);
      }
    }
    freeReplyObject(msg);
  }
  redisFree(c);
}

}  // namespace halo::redis
