// Registry: versions, aliases, integrity, queries and user changes. Transfers
// are in registry_transfer.cc, retention and GC in registry_gc.cc.
#include "server/registry/registry.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/resource_name.h"
#include "core/base/status_macros.h"
#include "google/protobuf/util/time_util.h"
#include "server/fault_point.h"
#include "server/now_timestamp.h"
#include "server/pagination.h"
#include "server/registry/checkpoint_ref.h"
#include "server/registry/registry_rules.h"

namespace proxflow::server {
namespace {

namespace pb = proxflow::v1;
using google::protobuf::util::TimeUtil;

}  // namespace

Registry::Registry(RegistryOptions options, RegistryStore* store,
                   BlobStore* blobs, CheckpointInspector inspector)
    : options_(std::move(options)),
      store_(store),
      blobs_(blobs),
      inspector_(std::move(inspector)) {}

absl::StatusOr<std::unique_ptr<Registry>> Registry::Create(
    RegistryOptions options, RegistryStore* store, BlobStore* blobs,
    CheckpointInspector inspector) {
  std::unique_ptr<Registry> registry(
      new Registry(std::move(options), store, blobs, std::move(inspector)));
  PROXFLOW_RETURN_IF_ERROR(registry->Recover());
  return registry;
}

absl::Status Registry::Recover() {
  CheckpointFilter pending;
  pending.statuses = {pb::CHECKPOINT_STATUS_PENDING};
  PROXFLOW_ASSIGN_OR_RETURN(std::vector<pb::Checkpoint> interrupted,
                            store_->ListAll(pending));
  for (pb::Checkpoint& c : interrupted) {
    PROXFLOW_RETURN_IF_ERROR(MarkFailed(
        std::move(c),
        "interrupted: the server stopped before the file was complete and "
        "verified"));
  }
  return absl::OkStatus();
}

absl::StatusOr<pb::Checkpoint> Registry::CreatePending(pb::Checkpoint c) {
  c.set_status(pb::CHECKPOINT_STATUS_PENDING);
  *c.mutable_create_time() = NowTimestamp();
  absl::MutexLock lock(&mu_);
  c.set_uuid(NewUuid());
  return store_->Create(std::move(c));
}

absl::Status Registry::MarkFailed(pb::Checkpoint c, absl::string_view reason) {
  absl::MutexLock lock(&mu_);
  PROXFLOW_ASSIGN_OR_RETURN(std::optional<pb::Checkpoint> fresh,
                            store_->Get(c.uuid()));
  if (fresh.has_value()) c = *std::move(fresh);
  // A version deleted meanwhile (its file purged) stays DELETED.
  if (c.status() == pb::CHECKPOINT_STATUS_DELETED) return absl::OkStatus();
  c.set_status(pb::CHECKPOINT_STATUS_FAILED);
  c.set_status_reason(std::string(reason.substr(0, 1024)));
  *c.mutable_status_time() = NowTimestamp();
  return store_->Save({c}, {});
}

absl::StatusOr<pb::Checkpoint> Registry::SaveTraining(TrainingSave save) {
  // Staged first (invisible until committed), hashed once as it is written:
  // the hash names the PENDING version's file before the file is published.
  PROXFLOW_ASSIGN_OR_RETURN(std::unique_ptr<BlobStore::Writer> writer,
                            blobs_->NewWriter());
  PROXFLOW_RETURN_IF_ERROR(writer->Append(save.bytes));
  const std::string sha = writer->Sha256Hex();
  const auto size = static_cast<int64_t>(save.bytes.size());
  save.bytes.clear();
  pb::Checkpoint c;
  c.set_model(save.model);
  c.set_source(pb::CHECKPOINT_SOURCE_TRAINING);
  c.set_size_bytes(size);
  auto* file = c.add_files();
  file->set_name(kCheckpointFileName);
  file->set_sha256(sha);
  file->set_size_bytes(size);
  *c.mutable_lineage() = std::move(save.lineage);
  for (const auto& [name, value] : save.metrics)
    (*c.mutable_metrics())[name] = value;
  c.set_metrics_step(save.metrics_step);
  c.mutable_build()->set_proxflow_version(options_.proxflow_version);
  c.mutable_build()->set_libtorch_version(options_.libtorch_version);
  c.mutable_build()->set_device(save.device);
  PROXFLOW_ASSIGN_OR_RETURN(c, CreatePending(std::move(c)));
  CrashPoint("registry.after_pending");

  // The file, outside the lock: fsynced, renamed, then re-read.
  absl::Status stored = writer->Commit(sha, "").status();
  if (stored.ok()) stored = blobs_->Verify(sha);
  CrashPoint("registry.after_blob_write");
  if (!stored.ok()) {
    MarkFailed(c, absl::StrCat("writing the file failed: ", stored.message()))
        .IgnoreError();
    return stored;
  }

  absl::MutexLock lock(&mu_);
  c.set_status(pb::CHECKPOINT_STATUS_READY);
  *c.mutable_status_time() = NowTimestamp();
  const std::string actor = absl::StrCat("training:", c.lineage().job_id());
  std::vector<AliasUpdate> moves = {
      {c.model(), std::string(kLatestAlias), c.version(), actor}};
  const pb::RegistryConfig& policy = c.lineage().resolved_config().registry();
  PROXFLOW_ASSIGN_OR_RETURN(int64_t best,
                            store_->AliasVersion(c.model(), kBestAlias));
  std::optional<pb::Checkpoint> current;
  if (best > 0) {
    PROXFLOW_ASSIGN_OR_RETURN(current, store_->GetVersion(c.model(), best));
  }
  if (BeatsBest(c, current, policy))
    moves.push_back({c.model(), std::string(kBestAlias), c.version(), actor});
  PROXFLOW_RETURN_IF_ERROR(store_->Save({c}, moves));
  CrashPoint("registry.after_ready");

  // Retention of this job's versions; a failure here leaves extra versions
  // for the next save or RunGc, never a broken one.
  absl::StatusOr<Plan> plan = PlanGcLocked("", c.lineage().job_id());
  if (plan.ok()) ExecuteLocked(*plan).IgnoreError();
  PROXFLOW_ASSIGN_OR_RETURN(std::optional<pb::Checkpoint> saved,
                            store_->Get(c.uuid()));
  return saved.value_or(c);
}

absl::StatusOr<std::vector<pb::Checkpoint>> Registry::JobCheckpoints(
    const std::string& job_id) {
  CheckpointFilter filter;
  filter.job_id = job_id;
  filter.statuses = {pb::CHECKPOINT_STATUS_READY};
  PROXFLOW_ASSIGN_OR_RETURN(std::vector<pb::Checkpoint> out,
                            store_->ListAll(filter));
  std::sort(out.begin(), out.end(), NewerStep);
  return out;
}

absl::Status Registry::IntegrityError(const pb::Checkpoint& c,
                                      absl::Status cause) {
  if (!absl::IsDataLoss(cause) && !absl::IsNotFound(cause)) return cause;
  const std::string reason = IntegrityFailure(c, cause);
  if (on_integrity_failure_) on_integrity_failure_();
  MarkFailed(c, reason).IgnoreError();
  return absl::DataLossError(reason);
}

absl::StatusOr<std::string> Registry::ReadVerified(const pb::Checkpoint& c) {
  PROXFLOW_RETURN_IF_ERROR(CheckReady(c));
  absl::StatusOr<std::string> bytes = blobs_->ReadVerified(c.files(0).sha256());
  if (!bytes.ok()) return IntegrityError(c, bytes.status());
  return bytes;
}

absl::StatusOr<pb::Checkpoint> Registry::ResolveLocked(
    absl::string_view ref, absl::string_view field) {
  PROXFLOW_ASSIGN_OR_RETURN(CheckpointRef parsed,
                            ParseCheckpointRef(ref, field));
  std::optional<pb::Checkpoint> found;
  switch (parsed.kind) {
    case CheckpointRef::Kind::kUuid: {
      PROXFLOW_ASSIGN_OR_RETURN(found, store_->Get(parsed.uuid));
      break;
    }
    case CheckpointRef::Kind::kVersion: {
      PROXFLOW_ASSIGN_OR_RETURN(
          found, store_->GetVersion(parsed.model, parsed.version));
      break;
    }
    case CheckpointRef::Kind::kAlias: {
      PROXFLOW_ASSIGN_OR_RETURN(
          int64_t version, store_->AliasVersion(parsed.model, parsed.alias));
      if (version == 0) {
        return absl::NotFoundError(absl::StrCat("alias \"", parsed.alias,
                                                "\" of model \"", parsed.model,
                                                "\" is not set"));
      }
      PROXFLOW_ASSIGN_OR_RETURN(found,
                                store_->GetVersion(parsed.model, version));
      break;
    }
  }
  if (!found.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("checkpoint ", QuoteForError(ref), " not found"));
  }
  return *std::move(found);
}

absl::StatusOr<pb::Checkpoint> Registry::Resolve(absl::string_view ref,
                                                 absl::string_view field) {
  absl::MutexLock lock(&mu_);
  return ResolveLocked(ref, field);
}

absl::StatusOr<pb::Checkpoint> Registry::ResolveReady(absl::string_view ref,
                                                      absl::string_view field) {
  PROXFLOW_ASSIGN_OR_RETURN(pb::Checkpoint c, Resolve(ref, field));
  PROXFLOW_RETURN_IF_ERROR(CheckReady(c));
  return c;
}

absl::StatusOr<pb::ListModelsResponse> Registry::ListModels(
    const pb::ListModelsRequest& request) {
  PROXFLOW_ASSIGN_OR_RETURN(int limit,
                            ResolvePageSize(request.page_size(), 100));
  PROXFLOW_ASSIGN_OR_RETURN(
      std::string after, DecodePageToken("ListModels", request.page_token()));
  PROXFLOW_ASSIGN_OR_RETURN(RegistryStore::ModelPage page,
                            store_->ListModels(after, limit));
  pb::ListModelsResponse out;
  for (pb::Model& m : page.models) *out.add_models() = std::move(m);
  if (!page.next_after.empty())
    out.set_next_page_token(EncodePageToken("ListModels", page.next_after));
  return out;
}

absl::StatusOr<pb::ListCheckpointsResponse> Registry::ListCheckpoints(
    const pb::ListCheckpointsRequest& request) {
  CheckpointFilter filter;
  if (!request.model().empty())
    PROXFLOW_RETURN_IF_ERROR(CheckResourceName("model", request.model()));
  if (!request.tag().empty())
    PROXFLOW_RETURN_IF_ERROR(CheckTag("tag", request.tag()));
  if (request.job_id().size() > 128) {
    return absl::InvalidArgumentError(
        absl::StrCat("job_id must be at most 128 characters, got ",
                     request.job_id().size()));
  }
  filter.model = request.model();
  filter.tag = request.tag();
  filter.job_id = request.job_id();
  for (int i = 0; i < request.statuses_size(); ++i) {
    const int s = request.statuses(i);
    if (s == pb::CHECKPOINT_STATUS_UNSPECIFIED ||
        !pb::CheckpointStatus_IsValid(s)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "statuses[", i, "] must be a known CheckpointStatus, got ", s));
    }
    filter.statuses.push_back(static_cast<pb::CheckpointStatus>(s));
  }
  if (filter.statuses.empty()) filter.statuses = {pb::CHECKPOINT_STATUS_READY};
  PROXFLOW_ASSIGN_OR_RETURN(int limit,
                            ResolvePageSize(request.page_size(), 100));
  PROXFLOW_ASSIGN_OR_RETURN(
      int64_t after,
      DecodeRowPageToken("ListCheckpoints", request.page_token()));
  PROXFLOW_ASSIGN_OR_RETURN(RegistryStore::CheckpointPage page,
                            store_->List(filter, after, limit));
  pb::ListCheckpointsResponse out;
  for (pb::Checkpoint& c : page.checkpoints)
    *out.add_checkpoints() = std::move(c);
  if (page.next_after > 0) {
    out.set_next_page_token(
        EncodePageToken("ListCheckpoints", page.next_after));
  }
  return out;
}

absl::StatusOr<pb::ListAliasHistoryResponse> Registry::ListAliasHistory(
    const pb::ListAliasHistoryRequest& request) {
  PROXFLOW_RETURN_IF_ERROR(CheckResourceName("model", request.model()));
  if (!request.alias().empty() && !IsValidAlias(request.alias())) {
    return absl::InvalidArgumentError(
        absl::StrCat("alias must be 1..64 characters of [A-Za-z0-9._-], not "
                     "all digits, got ",
                     QuoteForError(request.alias())));
  }
  PROXFLOW_ASSIGN_OR_RETURN(int limit,
                            ResolvePageSize(request.page_size(), 100));
  PROXFLOW_ASSIGN_OR_RETURN(
      int64_t before,
      DecodeRowPageToken("ListAliasHistory", request.page_token()));
  PROXFLOW_ASSIGN_OR_RETURN(
      RegistryStore::HistoryPage page,
      store_->AliasHistory(request.model(), request.alias(), before, limit));
  pb::ListAliasHistoryResponse out;
  for (pb::AliasChange& c : page.changes) *out.add_changes() = std::move(c);
  if (page.next_before > 0) {
    out.set_next_page_token(
        EncodePageToken("ListAliasHistory", page.next_before));
  }
  return out;
}

absl::StatusOr<pb::SetAliasResponse> Registry::SetAlias(
    const pb::SetAliasRequest& request) {
  PROXFLOW_RETURN_IF_ERROR(CheckResourceName("model", request.model()));
  PROXFLOW_RETURN_IF_ERROR(CheckUserAlias(request.alias()));
  absl::MutexLock lock(&mu_);
  PROXFLOW_ASSIGN_OR_RETURN(pb::Checkpoint c,
                            ResolveLocked(request.ref(), "ref"));
  if (c.model() != request.model()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ref ", QuoteForError(request.ref()), " is a version of model \"",
        c.model(), "\", not of \"", request.model(), "\""));
  }
  PROXFLOW_RETURN_IF_ERROR(CheckReady(c));
  PROXFLOW_ASSIGN_OR_RETURN(
      int64_t previous, store_->AliasVersion(request.model(), request.alias()));
  PROXFLOW_RETURN_IF_ERROR(store_->Save(
      {}, {{request.model(), request.alias(), c.version(), "user"}}));
  pb::SetAliasResponse out;
  PROXFLOW_ASSIGN_OR_RETURN(std::optional<pb::Checkpoint> updated,
                            store_->Get(c.uuid()));
  *out.mutable_checkpoint() = updated.value_or(c);
  out.set_previous_version(previous);
  return out;
}

absl::StatusOr<pb::DeleteAliasResponse> Registry::DeleteAlias(
    const pb::DeleteAliasRequest& request) {
  PROXFLOW_RETURN_IF_ERROR(CheckResourceName("model", request.model()));
  PROXFLOW_RETURN_IF_ERROR(CheckUserAlias(request.alias()));
  absl::MutexLock lock(&mu_);
  PROXFLOW_ASSIGN_OR_RETURN(
      int64_t previous, store_->AliasVersion(request.model(), request.alias()));
  if (previous == 0) {
    return absl::NotFoundError(absl::StrCat("alias \"", request.alias(),
                                            "\" of model \"", request.model(),
                                            "\" is not set"));
  }
  PROXFLOW_RETURN_IF_ERROR(
      store_->Save({}, {{request.model(), request.alias(), 0, "user"}}));
  pb::DeleteAliasResponse out;
  out.set_previous_version(previous);
  return out;
}

absl::StatusOr<pb::Checkpoint> Registry::Update(
    const pb::UpdateCheckpointRequest& request) {
  if (!request.set_tags() && !request.set_pinned()) {
    return absl::InvalidArgumentError(
        "nothing to update: set set_tags and/or set_pinned");
  }
  std::vector<std::string> tags;
  if (request.set_tags()) {
    PROXFLOW_ASSIGN_OR_RETURN(tags, NormalizeTags(request.tags(), "tags"));
  }
  absl::MutexLock lock(&mu_);
  PROXFLOW_ASSIGN_OR_RETURN(pb::Checkpoint c,
                            ResolveLocked(request.ref(), "ref"));
  if (request.set_pinned() && request.pinned() &&
      c.status() != pb::CHECKPOINT_STATUS_READY) {
    return absl::FailedPreconditionError(
        absl::StrCat("only READY versions can be pinned; ", DescribeVersion(c),
                     " is ", pb::CheckpointStatus_Name(c.status())));
  }
  if (request.set_tags()) {
    c.clear_tags();
    for (std::string& t : tags) c.add_tags(std::move(t));
  }
  if (request.set_pinned()) c.set_pinned(request.pinned());
  PROXFLOW_RETURN_IF_ERROR(store_->Save({c}, {}));
  return c;
}

absl::StatusOr<pb::Checkpoint> Registry::Delete(
    const pb::DeleteCheckpointRequest& request) {
  if (request.reason().size() > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("reason must be at most 1024 characters, got ",
                     request.reason().size()));
  }
  absl::MutexLock lock(&mu_);
  PROXFLOW_ASSIGN_OR_RETURN(pb::Checkpoint c,
                            ResolveLocked(request.ref(), "ref"));
  if (c.status() == pb::CHECKPOINT_STATUS_DELETED) return c;
  PROXFLOW_RETURN_IF_ERROR(CheckDeletable(c));
  c.set_status(pb::CHECKPOINT_STATUS_DELETED);
  c.set_status_reason(
      request.reason().empty()
          ? std::string("deleted by user")
          : absl::StrCat("deleted by user: ", request.reason()));
  *c.mutable_status_time() = NowTimestamp();
  PROXFLOW_RETURN_IF_ERROR(store_->Save({c}, {}));
  return c;
}

}  // namespace proxflow::server
