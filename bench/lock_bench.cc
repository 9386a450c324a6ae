// Lock micro-benchmarks: the write-path check (Elector::MayWrite), a standby's holder poll
// (ReadHolder on the flock file), and a full flock acquire+release (with the epoch fsync).
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>

#include "lock/elector.h"
#include "lock/flock_backend.h"
#include "lock/lease_table.h"
#include "lock/mem_lease_backend.h"

namespace halo::lock {
namespace {

// A lock file in a fresh temp dir, removed (file and dir) with this object.
struct TempLock {
  TempLock() {
    char tmpl[] = "/tmp/halo-lock-bench-XXXXXX";
    const char* d = ::mkdtemp(tmpl);
    dir = d ? d : "";
    path = dir + "/halo.lock";
  }
  ~TempLock() {
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
  }
  std::string dir, path;
};

void BM_ElectorMayWrite(benchmark::State& state) {
  MemLeaseBackend backend(std::make_shared<LeaseTable>(RealClock()));
  ElectorOptions o;
  o.value = "bench";
  Elector elector(&backend, RealClock(), o, {});
  if (!elector.Start().ok()) state.SkipWithError("start failed");
  while (!elector.IsActive()) std::this_thread::yield();
  const uint64_t epoch = elector.ActiveEpoch();
  for (auto _ : state) benchmark::DoNotOptimize(elector.MayWrite(epoch));
  elector.Stop();
}
BENCHMARK(BM_ElectorMayWrite);

void BM_FlockReadHolder(benchmark::State& state) {
  TempLock tmp;
  const std::string& path = tmp.path;
  auto holder = FlockBackend::Open(FlockOptions{path});
  auto reader = FlockBackend::Open(FlockOptions{path});
  if (!holder.ok() || !reader.ok()) return state.SkipWithError("open failed");
  AcquireRequest req{NewLockToken(), R"({"api_addr":"http://127.0.0.1:8201"})", seconds(15),
                     Duration::zero(), 0};
  if (!(*holder)->TryAcquire(req, seconds(1)).ok()) return state.SkipWithError("acquire");
  for (auto _ : state) benchmark::DoNotOptimize((*reader)->ReadHolder(seconds(1)));
}
BENCHMARK(BM_FlockReadHolder);

void BM_FlockAcquireRelease(benchmark::State& state) {
  TempLock tmp;
  const std::string& path = tmp.path;
  auto b = FlockBackend::Open(FlockOptions{path});
  if (!b.ok()) return state.SkipWithError("open failed");
  for (auto _ : state) {
    AcquireRequest req{NewLockToken(), "bench", seconds(15), Duration::zero(), 0};
    Result<Lease> l = (*b)->TryAcquire(req, seconds(1));
    if (!l.ok()) return state.SkipWithError("acquire failed");
    (*b)->Release(*l, seconds(1)).ok();
  }
}
BENCHMARK(BM_FlockAcquireRelease);

}  // namespace
}  // namespace halo::lock
