// Registry uploads and downloads.
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/resource_name.h"
#include "core/base/sha256.h"
#include "core/base/status_macros.h"
#include "google/protobuf/util/time_util.h"
#include "server/now_timestamp.h"
#include "server/registry/checkpoint_ref.h"
#include "server/registry/registry.h"
#include "server/registry/registry_rules.h"

namespace proxflow::server {
namespace {

namespace pb = proxflow::v1;
using google::protobuf::util::TimeUtil;

}  // namespace

Registry::Upload::Upload(Registry* registry, pb::Checkpoint checkpoint,
                         std::unique_ptr<BlobStore::Writer> writer)
    : registry_(registry),
      checkpoint_(std::move(checkpoint)),
      writer_(std::move(writer)) {}

Registry::Upload::~Upload() {
  if (!done_) {
    registry_
        ->MarkFailed(checkpoint_,
                     "upload interrupted: the stream ended before the file "
                     "was complete")
        .IgnoreError();
  }
}

absl::Status Registry::Upload::Fail(absl::Status status) {
  done_ = true;
  writer_.reset();  // discards the staged bytes
  registry_->MarkFailed(checkpoint_, status.message()).IgnoreError();
  return status;
}

absl::Status Registry::Upload::Append(absl::string_view chunk) {
  if (done_) return absl::FailedPreconditionError("upload already finished");
  const int64_t expected = checkpoint_.size_bytes();
  if (received_ + static_cast<int64_t>(chunk.size()) > expected) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("chunk overruns header.size_bytes: more than ", expected,
                     " bytes sent")));
  }
  received_ += static_cast<int64_t>(chunk.size());
  absl::Status s = writer_->Append(chunk);
  if (!s.ok()) return Fail(s);
  return absl::OkStatus();
}

absl::StatusOr<pb::Checkpoint> Registry::Upload::Finish() {
  if (done_) return absl::FailedPreconditionError("upload already finished");
  const pb::CheckpointFile& file = checkpoint_.files(0);
  if (received_ != file.size_bytes()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("the stream ended after ", received_,
                     " bytes, but header.size_bytes is ", file.size_bytes())));
  }
  absl::StatusOr<BlobInfo> stored =
      writer_->Commit(file.sha256(), "header.sha256");
  writer_.reset();
  if (!stored.ok()) return Fail(stored.status());
  absl::StatusOr<std::string> bytes =
      registry_->blobs_->ReadVerified(file.sha256());
  if (!bytes.ok()) return Fail(bytes.status());
  absl::StatusOr<core::CheckpointSummary> summary =
      registry_->inspector_(*bytes);
  bytes->clear();
  if (!summary.ok()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("upload is not a loadable proxflow checkpoint: ",
                     summary.status().message())));
  }
  pb::Checkpoint& c = checkpoint_;
  c.mutable_lineage()->set_step(summary->iteration);
  *c.mutable_lineage()->mutable_resolved_config() = summary->config;
  if (!summary->history.empty()) {
    for (const auto& [name, value] : summary->history.back().values)
      (*c.mutable_metrics())[name] = value;
    c.set_metrics_step(summary->history.back().iteration);
  }
  c.mutable_build()->set_libtorch_version(summary->torch_version);

  absl::MutexLock lock(&registry_->mu_);
  c.set_status(pb::CHECKPOINT_STATUS_READY);
  *c.mutable_status_time() = NowTimestamp();
  PROXFLOW_RETURN_IF_ERROR(registry_->store_->Save(
      {c}, {{c.model(), std::string(kLatestAlias), c.version(), "upload"}}));
  done_ = true;
  PROXFLOW_ASSIGN_OR_RETURN(std::optional<pb::Checkpoint> saved,
                            registry_->store_->Get(c.uuid()));
  return saved.value_or(c);
}

absl::StatusOr<std::unique_ptr<Registry::Upload>> Registry::BeginUpload(
    const pb::UploadCheckpointHeader& header) {
  PROXFLOW_RETURN_IF_ERROR(CheckResourceName("header.model", header.model()));
  if (!IsSha256Hex(header.sha256())) {
    return absl::InvalidArgumentError(
        absl::StrCat("header.sha256 must be 64 lowercase hex characters, got ",
                     QuoteForError(header.sha256())));
  }
  if (header.size_bytes() < 1 ||
      header.size_bytes() > options_.max_upload_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "header.size_bytes must be in [1, ", options_.max_upload_bytes,
        "], got ", header.size_bytes()));
  }
  if (header.description().size() > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("header.description must be at most 1024 characters, got ",
                     header.description().size()));
  }
  PROXFLOW_ASSIGN_OR_RETURN(std::vector<std::string> tags,
                            NormalizeTags(header.tags(), "header.tags"));
  pb::Checkpoint c;
  if (!header.parent().empty()) {
    if (IsUuid(header.parent())) {
      c.mutable_lineage()->set_parent_uuid(header.parent());
    } else {
      PROXFLOW_ASSIGN_OR_RETURN(pb::Checkpoint parent,
                                Resolve(header.parent(), "header.parent"));
      c.mutable_lineage()->set_parent_uuid(parent.uuid());
    }
  }
  c.set_model(header.model());
  c.set_source(pb::CHECKPOINT_SOURCE_UPLOAD);
  c.set_size_bytes(header.size_bytes());
  c.set_description(header.description());
  for (std::string& t : tags) c.add_tags(std::move(t));
  auto* file = c.add_files();
  file->set_name(kCheckpointFileName);
  file->set_sha256(header.sha256());
  file->set_size_bytes(header.size_bytes());
  c.mutable_build()->set_proxflow_version(options_.proxflow_version);
  PROXFLOW_ASSIGN_OR_RETURN(std::unique_ptr<BlobStore::Writer> writer,
                            blobs_->NewWriter());
  PROXFLOW_ASSIGN_OR_RETURN(c, CreatePending(std::move(c)));
  return std::unique_ptr<Upload>(
      new Upload(this, std::move(c), std::move(writer)));
}

absl::StatusOr<pb::Checkpoint> Registry::BeginDownload(
    const pb::DownloadCheckpointRequest& request) {
  if (request.offset() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("offset must be >= 0, got ", request.offset()));
  }
  PROXFLOW_ASSIGN_OR_RETURN(pb::Checkpoint c,
                            ResolveReady(request.ref(), "ref"));
  const pb::CheckpointFile& file = c.files(0);
  if (request.offset() > file.size_bytes()) {
    return absl::OutOfRangeError(absl::StrCat("offset must be in [0, ",
                                              file.size_bytes(), "], got ",
                                              request.offset()));
  }
  if (absl::Status s = blobs_->Verify(file.sha256()); !s.ok())
    return IntegrityError(c, std::move(s));
  return c;
}

absl::StatusOr<std::string> Registry::ReadRange(
    const pb::Checkpoint& checkpoint, int64_t offset, int64_t length) {
  absl::StatusOr<std::string> bytes =
      blobs_->ReadRange(checkpoint.files(0).sha256(), offset, length);
  if (absl::IsNotFound(bytes.status())) {
    return absl::NotFoundError(
        absl::StrCat("checkpoint ", DescribeVersion(checkpoint),
                     " was deleted during the download"));
  }
  return bytes;
}

}  // namespace proxflow::server
