// DevicePool: hands each running job a lease on one device, least-loaded
// first, and takes it back when the job's trainer is gone (so a cancelled job
// frees its device). Thread-safe.
#ifndef PROXFLOW_SERVER_DEVICE_POOL_H_
#define PROXFLOW_SERVER_DEVICE_POOL_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace proxflow::server {

class DevicePool {
 public:
  // `devices` non-empty ("cpu", "cuda:0", ...).
  explicit DevicePool(std::vector<std::string> devices)
      : devices_(std::move(devices)), load_(devices_.size(), 0) {}

  // Move-only; releases on destruction.
  class Lease {
   public:
    Lease(Lease&& other) noexcept : pool_(other.pool_), index_(other.index_) {
      other.pool_ = nullptr;
    }
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (pool_ != nullptr) pool_->Release(index_);
    }
    const std::string& device() const { return pool_->devices_[index_]; }

   private:
    friend class DevicePool;
    Lease(DevicePool* pool, size_t index) : pool_(pool), index_(index) {}
    DevicePool* pool_;
    size_t index_;
  };

  Lease Acquire() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    size_t best = 0;
    for (size_t i = 1; i < load_.size(); ++i)
      if (load_[i] < load_[best]) best = i;
    ++load_[best];
    return Lease(this, best);
  }

 private:
  void Release(size_t index) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    --load_[index];
  }

  const std::vector<std::string> devices_;
  mutable absl::Mutex mu_;
  std::vector<int> load_ ABSL_GUARDED_BY(mu_);
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_DEVICE_POOL_H_
