#include "storage/inmem_backend.h"

namespace halo::storage {

class InmemBackend::CommittedView final : public ReadView {
 public:
  explicit CommittedView(InmemBackend* backend) : backend_(backend) {}
  Result<std::string> Get(std::string_view key) override { return backend_->Get(key); }
  Result<std::vector<std::string>> List(std::string_view prefix) override {
    return backend_->List(prefix);
  }

 private:
  InmemBackend* backend_;
};

InmemBackend::InmemBackend() : async_(std::make_unique<TaskThread>()) {}

InmemBackend::~InmemBackend() { async_.reset(); }

Result<std::string> InmemBackend::Get(std::string_view key) {
  RETURN_IF_ERROR(ValidateKey(key));
  std::shared_lock<std::shared_mutex> lock(data_mu_);
  auto it = data_.find(key);
  if (it == data_.end()) return Status::NotFound(std::string(key));
  return it->second;
}

Result<std::vector<std::string>> InmemBackend::List(std::string_view prefix) {
  std::shared_lock<std::shared_mutex> lock(data_mu_);
  std::vector<std::string> out;
  for (auto it = data_.lower_bound(prefix); it != data_.end() && HasPrefix(it->first, prefix);
       ++it) {
    out.push_back(it->first);
  }
  return out;
}

Status InmemBackend::Update(uint64_t epoch, UpdateFn fn) {
  std::lock_guard<std::mutex> lock(write_mu_);
  uint64_t recorded = max_epoch_.load();
  if (epoch < recorded) return StaleEpoch(epoch, recorded);
  CommittedView view(this);
  OverlayTxn txn(&view);
  RETURN_IF_ERROR(fn(txn));
  std::unique_lock<std::shared_mutex> data_lock(data_mu_);
  for (const auto& [key, value] : txn.writes()) {
    if (value) {
      data_.insert_or_assign(key, *value);
    } else {
      auto it = data_.find(key);
      if (it != data_.end()) data_.erase(it);
    }
  }
  max_epoch_.store(epoch);
  return Status::Ok();
}

void InmemBackend::UpdateAsync(uint64_t epoch, UpdateFn fn, DoneFn done) {
  async_->Post([this, epoch, fn = std::move(fn), done = std::move(done)]() mutable {
    done(Update(epoch, std::move(fn)));
  });
}

Result<uint64_t> InmemBackend::MaxEpoch() { return max_epoch_.load(); }

Status InmemBackend::RecordEpoch(uint64_t epoch) {
  std::lock_guard<std::mutex> lock(write_mu_);
  uint64_t recorded = max_epoch_.load();
  if (epoch < recorded) return StaleEpoch(epoch, recorded);
  max_epoch_.store(epoch);
  return Status::Ok();
}

}  // namespace halo::storage
