#include "test/support/subprocess.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

extern char** environ;

namespace halo::testing {

Subprocess::Subprocess(Subprocess&& other) noexcept : pid_(other.pid_), reaped_(other.reaped_) {
  other.pid_ = -1;
}

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !reaped_) Stop(SIGKILL);
    pid_ = other.pid_;
    reaped_ = other.reaped_;
    other.pid_ = -1;
  }
  return *this;
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !reaped_) Stop(SIGKILL, std::chrono::seconds(5));
}

Subprocess Subprocess::Start(const std::vector<std::string>& argv,
                             const std::vector<std::string>& extra_env,
                             const std::string& log_path) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
  for (const std::string& e : extra_env) env_store.push_back(e);
  std::vector<char*> env;
  for (std::string& e : env_store) env.push_back(e.data());
  env.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!log_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  }
  Subprocess p;
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), env.data()) == 0) {
    p.pid_ = pid;
  }
  posix_spawn_file_actions_destroy(&actions);
  return p;
}

void Subprocess::Signal(int sig) const {
  if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
}

bool Subprocess::WaitExit(std::chrono::milliseconds timeout, int* wait_status) {
  if (pid_ <= 0) return true;
  if (reaped_) return true;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      if (wait_status) *wait_status = st;
      return true;
    }
    if (r < 0 && errno != EINTR) {
      reaped_ = true;
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

int Subprocess::Stop(int sig, std::chrono::milliseconds timeout) {
  if (pid_ <= 0 || reaped_) return 0;
  ::kill(pid_, sig);
  int st = 0;
  if (WaitExit(timeout, &st)) return st;
  ::kill(pid_, SIGKILL);
  WaitExit(std::chrono::seconds(10), &st);
  return -1;
}

bool Subprocess::Running() {
  if (pid_ <= 0 || reaped_) return false;
  return !WaitExit(std::chrono::milliseconds(0));
}

Subprocess SpawnChildRole(const std::string& role, const std::vector<std::string>& args,
                          const std::string& log_path) {
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return Subprocess();
  self[n] = '\0';
  std::vector<std::string> env = {"HALO_CHILD_ROLE=" + role};
  for (size_t i = 0; i < args.size(); ++i) {
    env.push_back("HALO_CHILD_ARG" + std::to_string(i) + "=" + args[i]);
  }
  return Subprocess::Start(
      {self, "--test-case=child:" + role, "--no-version=true", "--minimal=true"}, env, log_path);
}

std::string ChildArg(int i) {
  const char* v = std::getenv(("HALO_CHILD_ARG" + std::to_string(i)).c_str());
  return v ? v : "";
}

bool InChildRole() { return std::getenv("HALO_CHILD_ROLE") != nullptr; }

int PickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    socklen_t len = sizeof(addr);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
  }
  ::close(fd);
  return port;
}

TempDir::TempDir(const std::string& tag) {
  std::string tmpl = "/tmp/" + tag + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) != nullptr) path_ = buf.data();
}

TempDir::~TempDir() {
  if (path_.empty() || std::getenv("HALO_KEEP_TMP")) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

bool PollUntil(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
               std::chrono::milliseconds interval) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return cond();
    std::this_thread::sleep_for(interval);
  }
}

void HoldUntilKilled() {
  while (true) ::pause();
}

std::string BinPath(const std::string& name) {
  const char* dir = std::getenv("HALO_BIN_DIR");
  return std::string(dir ? dir : "build/bin") + "/" + name;
}

std::string WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  return path;
}

}  // namespace halo::testing
