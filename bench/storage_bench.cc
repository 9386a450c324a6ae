// Storage backend micro-benchmarks: lmdb reads, durable writes with group commit at 1/8/64
// concurrent writers against the same path with group commit off (one fsync per write), a
// raw write+fdatasync loop on the same disk, and the file backend.
//
//   make bench BENCH_ARGS='--benchmark_filter=Storage'
// Stores live under $HALO_BENCH_DIR (default /tmp), so fsync hits that disk.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "storage/backend.h"
#include "storage/backend_factory.h"

namespace halo::storage {
namespace {

// Setup that fails (no temp directory, a backend that will not open or write) depends on the
// machine, not on a bug: say what and exit with an error rather than abort.
[[noreturn]] void SetupFailed(const std::string& what, const Status& st = Status::Ok()) {
  std::fprintf(stderr, "storage_bench: %s%s%s\n", what.c_str(), st.ok() ? "" : ": ",
               st.ok() ? "" : st.ToString().c_str());
  std::exit(1);
}

std::string MakeTempDir() {
  const char* base = std::getenv("HALO_BENCH_DIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/halo-bench-XXXXXX";
  if (!::mkdtemp(tmpl.data())) SetupFailed("mkdtemp " + tmpl + " failed");
  return tmpl;
}

// One backend shared by all threads of a benchmark run; set up and torn down by thread 0
// (Google Benchmark puts a barrier before and after the timed loop).
struct Shared {
  std::string dir;
  std::unique_ptr<Backend> backend;

  void Open(BackendOptions options) {
    dir = MakeTempDir();
    options.path = dir + "/store";
    auto b = OpenBackend(options);
    if (!b.ok()) SetupFailed("open " + options.type, b.status());
    backend = std::move(b).value();
  }
  void Close() {
    backend.reset();
    std::filesystem::remove_all(dir);
  }
};

Shared g_shared;
const std::string kValue(100, 'v');

void RunPuts(benchmark::State& state, const BackendOptions& options) {
  if (state.thread_index() == 0) g_shared.Open(options);
  std::string prefix = "bench/" + std::to_string(state.thread_index()) + "/";
  int64_t i = 0;
  for (auto _ : state) {
    Status st = g_shared.backend->Put(prefix + std::to_string(i++ % 1000), kValue, 1);
    if (!st.ok()) state.SkipWithError(st.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) g_shared.Close();
}

void BM_StorageLmdbPutGroupCommit(benchmark::State& state) {
  RunPuts(state, BackendOptions{.type = "lmdb"});
}
BENCHMARK(BM_StorageLmdbPutGroupCommit)->Threads(1)->Threads(8)->Threads(64)->UseRealTime();

void BM_StorageLmdbPutNoGroupCommit(benchmark::State& state) {
  BackendOptions o{.type = "lmdb"};
  o.group_commit = false;
  RunPuts(state, o);
}
BENCHMARK(BM_StorageLmdbPutNoGroupCommit)->Threads(1)->Threads(8)->Threads(64)->UseRealTime();

void BM_StorageFilePut(benchmark::State& state) { RunPuts(state, BackendOptions{.type = "file"}); }
BENCHMARK(BM_StorageFilePut)->Threads(1)->Threads(8)->Threads(64)->UseRealTime();

void BM_StorageInmemPut(benchmark::State& state) {
  RunPuts(state, BackendOptions{.type = "inmem"});
}
BENCHMARK(BM_StorageInmemPut)->Threads(1)->UseRealTime();

// The floor for one durable write at a time on this disk: write 100 bytes, fdatasync.
void BM_StorageRawWriteFdatasync(benchmark::State& state) {
  std::string dir = MakeTempDir();
  std::string path = dir + "/f";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  for (auto _ : state) {
    if (::pwrite(fd, kValue.data(), kValue.size(), 0) < 0 || ::fdatasync(fd) != 0) {
      state.SkipWithError("write/fdatasync failed");
    }
  }
  state.SetItemsProcessed(state.iterations());
  ::close(fd);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_StorageRawWriteFdatasync)->UseRealTime();

void BM_StorageLmdbGet(benchmark::State& state) {
  constexpr int kKeys = 10000;
  if (state.thread_index() == 0) {
    g_shared.Open(BackendOptions{.type = "lmdb"});
    Status st = g_shared.backend->Update(1, [](Txn& txn) -> Status {
      for (int i = 0; i < kKeys; ++i) RETURN_IF_ERROR(txn.Put("get/" + std::to_string(i), kValue));
      return Status::Ok();
    });
    if (!st.ok()) SetupFailed("seed the keys", st);
  }
  uint32_t x = 12345 + state.thread_index();
  for (auto _ : state) {
    x = x * 1103515245 + 12345;
    auto v = g_shared.backend->Get("get/" + std::to_string((x >> 8) % kKeys));
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) g_shared.Close();
}
BENCHMARK(BM_StorageLmdbGet)->Threads(1)->Threads(2);

void BM_StorageLmdbList100(benchmark::State& state) {
  g_shared.Open(BackendOptions{.type = "lmdb"});
  Status st = g_shared.backend->Update(1, [](Txn& txn) -> Status {
    for (int i = 0; i < 100; ++i) RETURN_IF_ERROR(txn.Put("dir/" + std::to_string(i), kValue));
    return txn.Put("other", kValue);
  });
  if (!st.ok()) SetupFailed("seed the keys", st);
  for (auto _ : state) benchmark::DoNotOptimize(g_shared.backend->List("dir/"));
  g_shared.Close();
}
BENCHMARK(BM_StorageLmdbList100);

void BM_StorageFileGet(benchmark::State& state) {
  g_shared.Open(BackendOptions{.type = "file"});
  for (int i = 0; i < 100; ++i) {
    Status st = g_shared.backend->Put("get/" + std::to_string(i), kValue, 1);
    if (!st.ok()) SetupFailed("seed the keys", st);
  }
  int i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(g_shared.backend->Get("get/" + std::to_string(i++ % 100)));
  }
  g_shared.Close();
}
BENCHMARK(BM_StorageFileGet);

}  // namespace
}  // namespace halo::storage
