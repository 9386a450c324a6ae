// InmemBackend: the Backend kept in process memory, for tests. Nothing is durable; two
// InmemBackend objects share nothing. Writers are serialised by a mutex (no group commit);
// readers take a shared lock that writers hold only while applying a finished transaction,
// never while an update function runs.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "storage/backend.h"
#include "storage/backend_txn.h"

namespace halo::storage {

class InmemBackend final : public Backend {
 public:
  InmemBackend();
  ~InmemBackend() override;

  std::string_view Name() const override { return "inmem"; }
  Result<std::string> Get(std::string_view key) override;
  Result<std::vector<std::string>> List(std::string_view prefix) override;
  Status Update(uint64_t epoch, UpdateFn fn) override;
  void UpdateAsync(uint64_t epoch, UpdateFn fn, DoneFn done) override;
  Result<uint64_t> MaxEpoch() override;
  Status RecordEpoch(uint64_t epoch) override;

 private:
  class CommittedView;

  std::mutex write_mu_;  // serialises Update/RecordEpoch
  std::shared_mutex data_mu_;
  std::map<std::string, std::string, std::less<>> data_;  // guarded by data_mu_
  std::atomic<uint64_t> max_epoch_{0};                    // written under write_mu_
  std::unique_ptr<TaskThread> async_;  // last member: drained before the rest dies
};

}  // namespace halo::storage
