#include "server/sampling/model_cache.h"

#include <google/protobuf/util/time_util.h>

#include "core/base/status_macros.h"
#include "server/now_timestamp.h"

namespace proxflow::server {

using google::protobuf::util::TimeUtil;

absl::StatusOr<ModelCache::Lease> ModelCache::Get(
    const proxflow::v1::Checkpoint& checkpoint, int requests, int samples) {
  {
    absl::MutexLock lock(&mu_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->info.checkpoint_uuid() != checkpoint.uuid()) continue;
      entries_.splice(entries_.begin(), entries_, it);  // most recent
      Entry& e = entries_.front();
      e.info.set_requests(e.info.requests() + requests);
      e.info.set_samples(e.info.samples() + samples);
      *e.info.mutable_last_used_at() = NowTimestamp();
      return Lease{e.flow, /*hit=*/true, 0};
    }
  }
  const absl::Time start = absl::Now();
  PROXFLOW_ASSIGN_OR_RETURN(std::unique_ptr<LoadedFlow> loaded,
                            loader_(checkpoint));
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  Entry e;
  e.flow = std::shared_ptr<LoadedFlow>(std::move(loaded));
  e.info.set_checkpoint_uuid(checkpoint.uuid());
  e.info.set_model(checkpoint.model());
  e.info.set_version(checkpoint.version());
  e.info.set_device(e.flow->device());
  e.info.set_parameter_bytes(e.flow->parameter_bytes());
  *e.info.mutable_loaded_at() = NowTimestamp();
  *e.info.mutable_last_used_at() = e.info.loaded_at();
  e.info.set_load_seconds(seconds);
  e.info.set_requests(requests);
  e.info.set_samples(samples);
  Lease lease{e.flow, /*hit=*/false, seconds};
  absl::MutexLock lock(&mu_);
  // Another caller may have loaded it meanwhile: keep one entry.
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->info.checkpoint_uuid() == checkpoint.uuid()) {
      bytes_ -= it->info.parameter_bytes();
      entries_.erase(it);
      break;
    }
  }
  bytes_ += e.info.parameter_bytes();
  entries_.push_front(std::move(e));
  EvictLocked();
  return lease;
}

void ModelCache::EvictLocked() {
  while (entries_.size() > 1 && bytes_ > capacity_bytes_) {
    bytes_ -= entries_.back().info.parameter_bytes();
    entries_.pop_back();
  }
}

std::vector<proxflow::v1::LoadedModel> ModelCache::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<proxflow::v1::LoadedModel> out;
  for (const Entry& e : entries_) out.push_back(e.info);
  return out;
}

int64_t ModelCache::bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

}  // namespace proxflow::server
