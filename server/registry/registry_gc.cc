// Registry retention and garbage collection: retention soft-deletes READY
// versions a job's policy no longer keeps; the purge removes the files of
// FAILED and DELETED versions that no live version shares, and blobs nothing
// references (left by a crash between a file write and its record).
#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "core/base/resource_name.h"
#include "core/base/status_macros.h"
#include "google/protobuf/util/time_util.h"
#include "server/now_timestamp.h"
#include "server/registry/registry.h"
#include "server/registry/registry_rules.h"

namespace proxflow::server {
namespace {

namespace pb = proxflow::v1;
using google::protobuf::util::TimeUtil;

}  // namespace

absl::StatusOr<Registry::Plan> Registry::PlanGcLocked(
    const std::string& model, const std::string& job_id) {
  Plan plan;
  CheckpointFilter ready;
  ready.model = model;
  ready.job_id = job_id;
  ready.statuses = {pb::CHECKPOINT_STATUS_READY};
  PROXFLOW_ASSIGN_OR_RETURN(std::vector<pb::Checkpoint> live,
                            store_->ListAll(ready));

  // Retention, job by job (uploads have no job and no policy).
  absl::flat_hash_map<std::string, std::vector<pb::Checkpoint>> by_job;
  for (const pb::Checkpoint& c : live) {
    if (c.source() == pb::CHECKPOINT_SOURCE_TRAINING &&
        !c.lineage().job_id().empty()) {
      by_job[c.lineage().job_id()].push_back(c);
    }
  }
  for (auto& [job, versions] : by_job) {
    const std::vector<std::string> keep = RetainedByPolicy(versions);
    for (pb::Checkpoint& c : versions) {
      if (!std::binary_search(keep.begin(), keep.end(), c.uuid()))
        plan.expire.push_back(std::move(c));
    }
  }
  std::sort(plan.expire.begin(), plan.expire.end(),
            [](const pb::Checkpoint& a, const pb::Checkpoint& b) {
              return std::make_pair(a.model(), a.version()) <
                     std::make_pair(b.model(), b.version());
            });

  CheckpointFilter dead;
  dead.model = model;
  dead.job_id = job_id;
  dead.statuses = {pb::CHECKPOINT_STATUS_FAILED, pb::CHECKPOINT_STATUS_DELETED};
  dead.purged = false;
  PROXFLOW_ASSIGN_OR_RETURN(plan.purge, store_->ListAll(dead));
  for (const pb::Checkpoint& c : plan.expire) plan.purge.push_back(c);

  // Blobs that stay: those of PENDING and READY versions not expiring.
  absl::flat_hash_set<std::string> expiring, live_blobs, referenced;
  for (const pb::Checkpoint& c : plan.expire) expiring.insert(c.uuid());
  PROXFLOW_ASSIGN_OR_RETURN(std::vector<RegistryStore::BlobRef> refs,
                            store_->BlobRefs());
  for (const RegistryStore::BlobRef& r : refs) {
    referenced.insert(r.sha256);
    const bool live_status = r.status == pb::CHECKPOINT_STATUS_PENDING ||
                             r.status == pb::CHECKPOINT_STATUS_READY;
    if (live_status && !expiring.contains(r.uuid)) live_blobs.insert(r.sha256);
  }
  absl::flat_hash_set<std::string> freed;
  for (const pb::Checkpoint& c : plan.purge) {
    for (const pb::CheckpointFile& f : c.files()) {
      if (!live_blobs.contains(f.sha256()) && freed.insert(f.sha256()).second) {
        absl::StatusOr<int64_t> size = blobs_->Size(f.sha256());
        if (size.ok()) plan.reclaimed_bytes += *size;
      }
    }
  }
  if (model.empty() && job_id.empty()) {
    PROXFLOW_ASSIGN_OR_RETURN(std::vector<std::string> stored, blobs_->List());
    for (std::string& sha : stored) {
      if (referenced.contains(sha)) continue;
      absl::StatusOr<int64_t> size = blobs_->Size(sha);
      if (size.ok()) plan.reclaimed_bytes += *size;
      plan.orphans.push_back(std::move(sha));
    }
  }
  return plan;
}

absl::Status Registry::ExecuteLocked(const Plan& plan) {
  // Metadata first: a crash after this point leaves DELETED, unpurged
  // versions that the next GC purges, never a READY version without a file.
  const auto now = NowTimestamp();
  std::vector<pb::Checkpoint> expired;
  for (pb::Checkpoint c : plan.expire) {
    const pb::RegistryConfig& p = c.lineage().resolved_config().registry();
    c.set_status(pb::CHECKPOINT_STATUS_DELETED);
    c.set_status_reason(absl::StrCat("retention of job ", c.lineage().job_id(),
                                     ": keep_latest=", p.keep_latest(),
                                     " keep_best=", p.keep_best(), " by ",
                                     p.best_metric()));
    *c.mutable_status_time() = now;
    expired.push_back(std::move(c));
  }
  if (!expired.empty()) PROXFLOW_RETURN_IF_ERROR(store_->Save(expired, {}));

  absl::flat_hash_set<std::string> live_blobs;
  PROXFLOW_ASSIGN_OR_RETURN(std::vector<RegistryStore::BlobRef> refs,
                            store_->BlobRefs());
  for (const RegistryStore::BlobRef& r : refs) {
    if (r.status == pb::CHECKPOINT_STATUS_PENDING ||
        r.status == pb::CHECKPOINT_STATUS_READY) {
      live_blobs.insert(r.sha256);
    }
  }
  std::vector<pb::Checkpoint> purged;
  for (const pb::Checkpoint& planned : plan.purge) {
    PROXFLOW_ASSIGN_OR_RETURN(std::optional<pb::Checkpoint> c,
                              store_->Get(planned.uuid()));
    if (!c.has_value() || c->purged() ||
        c->status() == pb::CHECKPOINT_STATUS_READY ||
        c->status() == pb::CHECKPOINT_STATUS_PENDING) {
      continue;
    }
    for (const pb::CheckpointFile& f : c->files()) {
      if (!live_blobs.contains(f.sha256()))
        PROXFLOW_RETURN_IF_ERROR(blobs_->Delete(f.sha256()));
    }
    c->set_purged(true);
    purged.push_back(*std::move(c));
  }
  if (!purged.empty()) PROXFLOW_RETURN_IF_ERROR(store_->Save(purged, {}));
  for (const std::string& sha : plan.orphans) {
    if (!live_blobs.contains(sha))
      PROXFLOW_RETURN_IF_ERROR(blobs_->Delete(sha));
  }
  return absl::OkStatus();
}

absl::StatusOr<pb::GcPlan> Registry::Gc(const pb::GcRequest& request,
                                        bool dry_run) {
  if (!request.model().empty())
    PROXFLOW_RETURN_IF_ERROR(CheckResourceName("model", request.model()));
  absl::MutexLock lock(&mu_);
  PROXFLOW_ASSIGN_OR_RETURN(Plan plan, PlanGcLocked(request.model(), ""));
  if (!dry_run) PROXFLOW_RETURN_IF_ERROR(ExecuteLocked(plan));
  pb::GcPlan out;
  for (pb::Checkpoint& c : plan.expire) *out.add_expire() = std::move(c);
  for (pb::Checkpoint& c : plan.purge) *out.add_purge() = std::move(c);
  for (std::string& sha : plan.orphans) out.add_orphan_blobs(std::move(sha));
  out.set_reclaimed_bytes(plan.reclaimed_bytes);
  return out;
}

}  // namespace proxflow::server
