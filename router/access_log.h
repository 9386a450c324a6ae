// AccessLog: where the router's access lines go (router/access_line.h makes them), a file or
// stdout, without ever blocking the data path.
//
// Workers Append() finished lines into one bounded buffer; a writer thread of its own takes
// the buffer every flush_interval (or sooner, once it holds 64 KiB) and write(2)s it. A line
// that would take the buffer past buffer_bytes is dropped and counted
// (RouterCounters::access_log_dropped), so a slow or full disk costs lines, not latency.
// Reopen() (SIGUSR1, for logrotate) makes the writer open the path again after writing what
// it holds; if that fails it keeps the old file and counts the failure.
//
// Ownership: RouterServer owns it for the process's lifetime; RouteSettings carry a raw
// pointer (nullptr: off). Threading: Append() and Reopen() from any thread; Open() and the
// destructor (which writes what is left, then joins) from the one that owns it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "common/result.h"
#include "common/status.h"
#include "router/metrics.h"
#include "router/router_config.h"

namespace halo::router {

class AccessLog {
 public:
  // Opens the path (kInvalidArgument naming it and the OS error if it cannot) and starts the
  // writer. `counters` must outlive the log.
  static Result<std::unique_ptr<AccessLog>> Open(const AccessLogConfig& cfg,
                                                 RouterCounters* counters);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // One or more whole lines ('\n'-terminated). Never blocks on I/O.
  void Append(std::string_view lines);
  // Open the path again (after logrotate moved the file); a no-op for stdout/stderr.
  void Reopen();
  // Waits until everything appended so far is written (tests, shutdown).
  void Flush();

 private:
  AccessLog(const AccessLogConfig& cfg, RouterCounters* counters, int fd);
  void Run();
  void WriteAll(const std::string& data);
  void DoReopen();

  const AccessLogConfig cfg_;
  RouterCounters* counters_;
  int fd_;
  bool own_fd_;
  std::mutex mu_;
  std::condition_variable wake_;     // the writer: data, reopen, flush or stop
  std::condition_variable written_;  // Flush(): a batch went out
  std::string pending_;              // guarded by mu_
  uint64_t appended_ = 0;            // batches: bytes appended / written, guarded by mu_
  uint64_t written_bytes_ = 0;
  bool reopen_ = false;
  bool flush_ = false;
  bool stop_ = false;
  std::thread writer_;
};

}  // namespace halo::router
