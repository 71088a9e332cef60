// ModelCache: checkpoints loaded for sampling on one device, keyed by uuid.
// The bytes of the cached weights stay within a capacity: least recently used
// entries are evicted first (a model larger than the whole capacity is still
// served, alone). An evicted flow in use stays alive until its user lets go.
// Loading reads the checkpoint through the registry, which re-hashes it, so a
// file that no longer matches its sha256 is never loaded. Thread-safe.
#ifndef PROXFLOW_SERVER_SAMPLING_MODEL_CACHE_H_
#define PROXFLOW_SERVER_SAMPLING_MODEL_CACHE_H_

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proxflow/v1/registry.pb.h"
#include "proxflow/v1/sampling_service.pb.h"
#include "server/sampling/sampling_backend.h"

namespace proxflow::server {

class ModelCache {
 public:
  // Loads a READY checkpoint's flow (registry read + backend load).
  using Loader = std::function<absl::StatusOr<std::unique_ptr<LoadedFlow>>(
      const proxflow::v1::Checkpoint&)>;

  ModelCache(int64_t capacity_bytes, Loader loader)
      : capacity_bytes_(capacity_bytes), loader_(std::move(loader)) {}

  struct Lease {
    std::shared_ptr<LoadedFlow> flow;
    bool hit = false;
    double load_seconds = 0;
  };
  // The checkpoint's flow, loaded on a miss (outside the lock). Counts
  // `requests` requests of `samples` samples in all against the entry.
  absl::StatusOr<Lease> Get(const proxflow::v1::Checkpoint& checkpoint,
                            int requests, int samples) ABSL_LOCKS_EXCLUDED(mu_);

  // Entries, most recently used first.
  std::vector<proxflow::v1::LoadedModel> List() const ABSL_LOCKS_EXCLUDED(mu_);
  int64_t bytes() const ABSL_LOCKS_EXCLUDED(mu_);
  int64_t capacity_bytes() const { return capacity_bytes_; }

 private:
  struct Entry {
    proxflow::v1::LoadedModel info;
    std::shared_ptr<LoadedFlow> flow;
  };
  void EvictLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int64_t capacity_bytes_;
  const Loader loader_;
  mutable absl::Mutex mu_;
  std::list<Entry> entries_ ABSL_GUARDED_BY(mu_);  // most recent first
  int64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_SAMPLING_MODEL_CACHE_H_
