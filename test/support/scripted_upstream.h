// ScriptedUpstream: a raw TCP peer on a loopback port picked at run time, for tests of the
// code that talks to it (a real socket, not a mock of ours). A thread accepts connections one
// by one and runs the next script on each with blocking socket calls, then closes it.
// accepted() and closed() count connections; the destructor stops the thread.
// With `refuse_h2`, it also acts as an HTTP/1.1-only server towards an HTTP/2 client: a
// connection that opens with the h2 preface is answered 505 and closed without using a
// script (counted by h2_refused(), not by accepted()).
#pragma once

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace halo::testing {

class ScriptedUpstream {
 public:
  using Script = std::function<void(int fd)>;
  explicit ScriptedUpstream(std::vector<Script> scripts, bool refuse_h2 = false)
      : scripts_(std::move(scripts)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    REQUIRE(listen(fd_, 16) == 0);
    socklen_t len = sizeof(a);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this, refuse_h2] {
      for (Script& s : scripts_) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        while (refuse_h2 && OpensWithH2Preface(c)) {
          Write(c, "HTTP/1.1 505 HTTP Version Not Supported\r\nConnection: close\r\n\r\n");
          close(c);
          ++h2_refused_;
          c = accept(fd_, nullptr, nullptr);
          if (c < 0) return;
        }
        ++accepted_;
        s(c);
        close(c);
        ++closed_;
      }
    });
  }
  ~ScriptedUpstream() {
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  int accepted() const { return accepted_; }
  int closed() const { return closed_; }
  int h2_refused() const { return h2_refused_; }

  // Reads one request head (the tests send small bodies; they arrive with the head).
  static std::string ReadHead(int fd) {
    std::string got;
    char buf[4096];
    while (got.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }
  static void Write(int fd, std::string_view s) {
    (void)!send(fd, s.data(), s.size(), MSG_NOSIGNAL);
  }
  // Waits for the peer to close (or reset).
  static void WaitPeerClose(int fd) {
    char buf[4096];
    while (recv(fd, buf, sizeof(buf), 0) > 0) {
    }
  }
  // The close that follows the script sends a reset instead of a FIN.
  static void Reset(int fd) {
    linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  }

 private:
  // Peeks (without consuming) at the first 24 bytes: the preface's length (every request the
  // tests send is longer).
  static bool OpensWithH2Preface(int fd) {
    static constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    char buf[24];
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_WAITALL);
    return n == static_cast<ssize_t>(kPreface.size()) && std::string_view(buf, 24) == kPreface;
  }

  int fd_ = -1;
  int port_ = 0;
  std::vector<Script> scripts_;
  std::atomic<int> accepted_{0};
  std::atomic<int> closed_{0};
  std::atomic<int> h2_refused_{0};
  std::thread thread_;
};

}  // namespace halo::testing
