// RegistryClient: typed calls of proxflow.v1.CheckpointRegistry, with
// resumable, verified downloads. Torch-free. Thread-safe (stateless over a
// shared Connection; concurrent downloads must target different paths).
#ifndef PROXFLOW_CLIENT_REGISTRY_CLIENT_H_
#define PROXFLOW_CLIENT_REGISTRY_CLIENT_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/connection.h"
#include "client/upload.h"
#include "proxflow/v1/registry.grpc.pb.h"

namespace proxflow::client {

struct CheckpointFilter {
  std::string model;  // empty: every model
  std::string tag;
  std::string job_id;
  std::vector<proxflow::v1::CheckpointStatus> statuses;  // empty: all
};

struct UploadInfo {
  std::string model;
  std::vector<std::string> tags;
  std::string description;
  std::string parent;  // a ref the upload descends from; optional
};

struct DownloadResult {
  proxflow::v1::Checkpoint checkpoint;
  int64_t resumed_from = 0;  // bytes already on disk from an earlier attempt
  int64_t received = 0;      // bytes received by this call
  int reconnects = 0;        // streams reopened after UNAVAILABLE
};

class RegistryClient {
 public:
  explicit RegistryClient(const Connection& connection);

  absl::StatusOr<std::vector<proxflow::v1::Model>> ListModels() const;
  absl::StatusOr<std::vector<proxflow::v1::Checkpoint>> ListCheckpoints(
      const CheckpointFilter& filter) const;
  absl::StatusOr<proxflow::v1::Checkpoint> Get(const std::string& ref) const;
  absl::StatusOr<proxflow::v1::SetAliasResponse> SetAlias(
      const std::string& model, const std::string& alias,
      const std::string& ref) const;
  absl::StatusOr<proxflow::v1::DeleteAliasResponse> DeleteAlias(
      const std::string& model, const std::string& alias) const;
  absl::StatusOr<std::vector<proxflow::v1::AliasChange>> AliasHistory(
      const std::string& model, const std::string& alias) const;
  // Replaces the tags and/or the pin (a field left unset stays as it is).
  absl::StatusOr<proxflow::v1::Checkpoint> Update(
      const std::string& ref,
      const std::optional<std::vector<std::string>>& tags,
      std::optional<bool> pinned) const;
  absl::StatusOr<proxflow::v1::Checkpoint> Delete(
      const std::string& ref, const std::string& reason) const;
  absl::StatusOr<proxflow::v1::Checkpoint> Upload(const UploadInfo& info,
                                                  ChunkSource& source) const;
  // Resolves `ref` to a version, then streams its file into
  // `path + ".<uuid>.part"`, resuming from that file's size when an earlier
  // download of the same version was interrupted, and reopening the stream at
  // the current offset after UNAVAILABLE. The complete file must match the
  // version's sha256 (else DATA_LOSS and the part is removed); it is fsynced
  // and renamed to `path`.
  absl::StatusOr<DownloadResult> Download(const std::string& ref,
                                          const std::string& path) const;
  // Dry run (`run` false) or the collection itself; `model` empty: all models.
  absl::StatusOr<proxflow::v1::GcPlan> Gc(const std::string& model,
                                          bool run) const;

 private:
  const Connection& connection_;
  std::unique_ptr<proxflow::v1::CheckpointRegistry::Stub> stub_;
};

}  // namespace proxflow::client

#endif  // PROXFLOW_CLIENT_REGISTRY_CLIENT_H_
