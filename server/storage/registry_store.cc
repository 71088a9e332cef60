#include "server/storage/registry_store.h"

#include <utility>

#include "core/base/status_macros.h"

namespace proxflow::server {

absl::StatusOr<std::vector<proxflow::v1::Checkpoint>> RegistryStore::ListAll(
    const CheckpointFilter& filter) {
  constexpr int kPage = 1000;
  std::vector<proxflow::v1::Checkpoint> out;
  for (int64_t after = 0;;) {
    PROXFLOW_ASSIGN_OR_RETURN(CheckpointPage page, List(filter, after, kPage));
    for (proxflow::v1::Checkpoint& c : page.checkpoints)
      out.push_back(std::move(c));
    if (page.next_after == 0) return out;
    after = page.next_after;
  }
}

}  // namespace proxflow::server
