#include "client/registry_client.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/unary.h"
#include "core/base/file_util.h"
#include "core/base/sha256.h"
#include "core/base/status_macros.h"

namespace proxflow::client {

namespace pb = proxflow::v1;

RegistryClient::RegistryClient(const Connection& connection)
    : connection_(connection),
      stub_(pb::CheckpointRegistry::NewStub(connection.channel())) {}

absl::StatusOr<std::vector<pb::Model>> RegistryClient::ListModels() const {
  return CollectPages<pb::Model, pb::ListModelsResponse>(
      connection_, pb::ListModelsRequest(),
      [&](auto* c, const auto& q, auto* r) {
        return stub_->ListModels(c, q, r);
      },
      [](auto* r) { return r->mutable_models(); });
}

absl::StatusOr<std::vector<pb::Checkpoint>> RegistryClient::ListCheckpoints(
    const CheckpointFilter& filter) const {
  pb::ListCheckpointsRequest request;
  request.set_model(filter.model);
  request.set_tag(filter.tag);
  request.set_job_id(filter.job_id);
  for (pb::CheckpointStatus s : filter.statuses) request.add_statuses(s);
  return CollectPages<pb::Checkpoint, pb::ListCheckpointsResponse>(
      connection_, request,
      [&](auto* c, const auto& q, auto* r) {
        return stub_->ListCheckpoints(c, q, r);
      },
      [](auto* r) { return r->mutable_checkpoints(); });
}

absl::StatusOr<pb::Checkpoint> RegistryClient::Get(
    const std::string& ref) const {
  pb::GetCheckpointRequest request;
  request.set_ref(ref);
  return CallUnary<pb::Checkpoint>(connection_, [&](auto* c, auto* r) {
    return stub_->GetCheckpoint(c, request, r);
  });
}

absl::StatusOr<pb::SetAliasResponse> RegistryClient::SetAlias(
    const std::string& model, const std::string& alias,
    const std::string& ref) const {
  pb::SetAliasRequest request;
  request.set_model(model);
  request.set_alias(alias);
  request.set_ref(ref);
  return CallUnary<pb::SetAliasResponse>(connection_, [&](auto* c, auto* r) {
    return stub_->SetAlias(c, request, r);
  });
}

absl::StatusOr<pb::DeleteAliasResponse> RegistryClient::DeleteAlias(
    const std::string& model, const std::string& alias) const {
  pb::DeleteAliasRequest request;
  request.set_model(model);
  request.set_alias(alias);
  return CallUnary<pb::DeleteAliasResponse>(connection_, [&](auto* c, auto* r) {
    return stub_->DeleteAlias(c, request, r);
  });
}

absl::StatusOr<std::vector<pb::AliasChange>> RegistryClient::AliasHistory(
    const std::string& model, const std::string& alias) const {
  pb::ListAliasHistoryRequest request;
  request.set_model(model);
  request.set_alias(alias);
  return CollectPages<pb::AliasChange, pb::ListAliasHistoryResponse>(
      connection_, request,
      [&](auto* c, const auto& q, auto* r) {
        return stub_->ListAliasHistory(c, q, r);
      },
      [](auto* r) { return r->mutable_changes(); });
}

absl::StatusOr<pb::Checkpoint> RegistryClient::Update(
    const std::string& ref, const std::optional<std::vector<std::string>>& tags,
    std::optional<bool> pinned) const {
  pb::UpdateCheckpointRequest request;
  request.set_ref(ref);
  if (tags.has_value()) {
    request.set_set_tags(true);
    for (const std::string& t : *tags) request.add_tags(t);
  }
  if (pinned.has_value()) {
    request.set_set_pinned(true);
    request.set_pinned(*pinned);
  }
  return CallUnary<pb::Checkpoint>(connection_, [&](auto* c, auto* r) {
    return stub_->UpdateCheckpoint(c, request, r);
  });
}

absl::StatusOr<pb::Checkpoint> RegistryClient::Delete(
    const std::string& ref, const std::string& reason) const {
  pb::DeleteCheckpointRequest request;
  request.set_ref(ref);
  request.set_reason(reason);
  return CallUnary<pb::Checkpoint>(connection_, [&](auto* c, auto* r) {
    return stub_->DeleteCheckpoint(c, request, r);
  });
}

absl::StatusOr<pb::Checkpoint> RegistryClient::Upload(
    const UploadInfo& info, ChunkSource& source) const {
  pb::UploadCheckpointRequest request;
  pb::UploadCheckpointHeader* header = request.mutable_header();
  header->set_model(info.model);
  header->set_sha256(source.sha256());
  header->set_size_bytes(source.size());
  for (const std::string& t : info.tags) header->add_tags(t);
  header->set_description(info.description);
  header->set_parent(info.parent);
  return StreamUpload<pb::UploadCheckpointRequest, pb::Checkpoint>(
      connection_,
      [&](auto* c, auto* r) { return stub_->UploadCheckpoint(c, r); },
      std::move(request), source);
}

namespace {

// An append-only .part file; fsynced before it is renamed.
class PartFile {
 public:
  ~PartFile() {
    if (fd_ >= 0) close(fd_);
  }
  absl::Status Open(const std::string& path) {
    path_ = path;
    fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot write \"", path, "\": ", strerror(errno)));
    }
    return absl::OkStatus();
  }
  absl::Status Append(absl::string_view bytes) {
    return WriteAll(fd_, bytes, path_);
  }
  absl::Status Sync() {
    if (fsync(fd_) != 0)
      return absl::InternalError(
          absl::StrCat("fsync \"", path_, "\": ", strerror(errno)));
    return absl::OkStatus();
  }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace

absl::StatusOr<DownloadResult> RegistryClient::Download(
    const std::string& ref, const std::string& path) const {
  DownloadResult result;
  PROXFLOW_ASSIGN_OR_RETURN(result.checkpoint, Get(ref));
  const pb::Checkpoint& c = result.checkpoint;
  if (c.status() != pb::CHECKPOINT_STATUS_READY || c.files_size() == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("checkpoint ", c.model(), "/", c.version(), " is ",
                     pb::CheckpointStatus_Name(c.status()), ", not READY"));
  }
  const pb::CheckpointFile& file = c.files(0);
  const std::string part = absl::StrCat(path, ".", c.uuid(), ".part");
  std::error_code ec;
  int64_t offset = 0;
  if (std::filesystem::exists(part, ec)) {
    offset = static_cast<int64_t>(std::filesystem::file_size(part, ec));
    if (ec || offset > file.size_bytes()) {
      std::filesystem::remove(part, ec);
      offset = 0;
    }
  }
  result.resumed_from = offset;
  PartFile out;
  PROXFLOW_RETURN_IF_ERROR(out.Open(part));
  int failures = 0;
  while (offset < file.size_bytes()) {
    pb::DownloadCheckpointRequest request;
    request.set_ref(
        c.uuid());  // the version resolved above, whatever aliases do
    request.set_offset(offset);
    grpc::ClientContext context;
    connection_.PrepareStream(&context);
    auto reader = stub_->DownloadCheckpoint(&context, request);
    pb::DownloadCheckpointResponse response;
    absl::Status write_status;
    bool progressed = false;
    while (reader->Read(&response)) {
      if (!response.has_chunk()) continue;
      if (response.chunk().offset() != offset) {
        write_status = absl::DataLossError(
            absl::StrCat("download of ", c.uuid(), ": chunk at offset ",
                         response.chunk().offset(), ", expected ", offset));
        break;
      }
      write_status = out.Append(response.chunk().data());
      if (!write_status.ok()) break;
      offset += static_cast<int64_t>(response.chunk().data().size());
      result.received += static_cast<int64_t>(response.chunk().data().size());
      progressed = true;
    }
    if (!write_status.ok()) {
      context.TryCancel();
      reader->Finish().ok();
      return write_status;
    }
    const absl::Status status = rpc::FromGrpcStatus(reader->Finish());
    if (status.ok()) break;
    if (progressed) failures = 0;
    if (!connection_.RetryAfter(status, failures)) return status;
    ++result.reconnects;
  }
  PROXFLOW_RETURN_IF_ERROR(out.Sync());
  PROXFLOW_ASSIGN_OR_RETURN(const std::string sha, Sha256File(part));
  if (offset != file.size_bytes() || sha != file.sha256()) {
    std::filesystem::remove(part, ec);
    return absl::DataLossError(absl::StrCat(
        "download of ", c.model(), "/", c.version(), " has sha256 ", sha,
        " and ", offset, " bytes; the registry says ", file.sha256(), " and ",
        file.size_bytes(), " bytes (the partial file was removed)"));
  }
  std::filesystem::rename(part, path, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat(
        "cannot rename \"", part, "\" to \"", path, "\": ", ec.message()));
  }
  return result;
}

absl::StatusOr<pb::GcPlan> RegistryClient::Gc(const std::string& model,
                                              bool run) const {
  pb::GcRequest request;
  request.set_model(model);
  if (!run) {
    return CallUnary<pb::GcPlan>(connection_, [&](auto* c, auto* r) {
      return stub_->PreviewGc(c, request, r);
    });
  }
  return CallUnary<pb::GcPlan>(connection_, [&](auto* c, auto* r) {
    return stub_->RunGc(c, request, r);
  });
}

}  // namespace proxflow::client
