// SentinelWatch: follows a Sentinel-monitored master. A thread subscribes to +switch-master
// on the Sentinels (the first that answers; the next on any failure) and, when the watched
// master moves, bumps `generation`: every RedisConn sharing it drops its connection before
// its next command and asks the Sentinels for the new master. Without this a connection
// to a demoted master that still answers (a partitioned old master) would keep being used
// until it said READONLY.
//
// Threading: owns one thread; the destructor stops it within about 200 ms.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

#include "common/redis/redis_options.h"

namespace halo::redis {

class SentinelWatch {
 public:
  SentinelWatch(RedisOptions options, std::shared_ptr<std::atomic<uint64_t>> generation);
  ~SentinelWatch();
  SentinelWatch(const SentinelWatch&) = delete;
  SentinelWatch& operator=(const SentinelWatch&) = delete;

  // Switches seen so far.
  uint64_t switches() const { return switches_.load(); }

 private:
  void Run();
  // Subscribed to one Sentinel until it fails or stop_; returns when it does.
  void Follow(const std::string& sentinel);

  const RedisOptions options_;
  std::shared_ptr<std::atomic<uint64_t>> generation_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> switches_{0};
  std::thread thread_;
};

}  // namespace halo::redis
