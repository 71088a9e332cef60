// Registry: the checkpoint registry's rules over a RegistryStore (metadata) and
// a BlobStore (files): versions that become READY only once their file is
// stored and verified, the training-maintained "latest" and "best" aliases,
// user aliases with history, tags and pins, integrity checks on every read,
// per-job retention and garbage collection, uploads and downloads.
//
// Owned by the server; handlers and the job manager call it. Thread-safe:
// every read-modify-write of metadata runs under one mutex (as do blob
// deletions, so garbage collection never removes a file a concurrent save
// still references); file writes and reads run outside it.
#ifndef PROXFLOW_SERVER_REGISTRY_REGISTRY_H_
#define PROXFLOW_SERVER_REGISTRY_REGISTRY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "core/trainer.h"
#include "proxflow/v1/registry.pb.h"
#include "server/storage/blob_store.h"
#include "server/storage/registry_store.h"

namespace proxflow::server {

// Checks that bytes are a loadable proxflow checkpoint (the backend's
// core::InspectCheckpoint); INVALID_ARGUMENT saying why when not.
using CheckpointInspector =
    std::function<absl::StatusOr<core::CheckpointSummary>(absl::string_view)>;

struct RegistryOptions {
  // Largest accepted upload.
  int64_t max_upload_bytes = int64_t{1} << 30;
  // The build that writes versions (BuildInfo.proxflow_version and
  // libtorch_version; the device comes with each save).
  std::string proxflow_version;
  std::string libtorch_version;
};

// The name of the single file of a version.
inline constexpr char kCheckpointFileName[] = "checkpoint.pxf";

// A periodic checkpoint of a training job.
struct TrainingSave {
  std::string model;
  std::string bytes;
  proxflow::v1::Lineage lineage;  // job id, attempt, step, config, dataset
  std::vector<std::pair<std::string, double>> metrics;  // latest evaluation
  int64_t metrics_step = 0;
  std::string device;
};

class Registry {
 public:
  // Recovers from a crash: versions left PENDING by a previous process become
  // FAILED (their files were never verified). The stores must outlive it.
  static absl::StatusOr<std::unique_ptr<Registry>> Create(
      RegistryOptions options, RegistryStore* store, BlobStore* blobs,
      CheckpointInspector inspector);

  // --- Training ------------------------------------------------------------
  // Writes `save` as a new READY version (PENDING until its file is stored and
  // verified), moves "latest" to it, moves "best" when its best metric (the
  // job config's registry.best_metric) beats the current best's, then applies
  // the job's retention (keep_latest newest + keep_best best of the job;
  // aliased and pinned versions stay), purging the files of what it expires.
  absl::StatusOr<proxflow::v1::Checkpoint> SaveTraining(TrainingSave save)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The READY versions a job wrote, newest step first.
  absl::StatusOr<std::vector<proxflow::v1::Checkpoint>> JobCheckpoints(
      const std::string& job_id);

  // The version's file, re-hashed. DATA_LOSS when it no longer matches: the
  // version becomes FAILED with the reason recorded (aliases stay, so the
  // failure is visible where users look). FAILED_PRECONDITION when the version
  // is not READY.
  absl::StatusOr<std::string> ReadVerified(
      const proxflow::v1::Checkpoint& checkpoint) ABSL_LOCKS_EXCLUDED(mu_);

  // --- Queries
  // ----------------------------------------------------------------- A version
  // by ref ("model/7", "model@alias", uuid; INVALID_ARGUMENT naming `field` for
  // malformed refs), any status. NOT_FOUND when none.
  absl::StatusOr<proxflow::v1::Checkpoint> Resolve(absl::string_view ref,
                                                   absl::string_view field);
  // Resolve(), then FAILED_PRECONDITION unless READY.
  absl::StatusOr<proxflow::v1::Checkpoint> ResolveReady(
      absl::string_view ref, absl::string_view field);
  absl::StatusOr<proxflow::v1::ListModelsResponse> ListModels(
      const proxflow::v1::ListModelsRequest& request);
  absl::StatusOr<proxflow::v1::ListCheckpointsResponse> ListCheckpoints(
      const proxflow::v1::ListCheckpointsRequest& request);
  absl::StatusOr<proxflow::v1::ListAliasHistoryResponse> ListAliasHistory(
      const proxflow::v1::ListAliasHistoryRequest& request);

  // --- Changes by users
  // -------------------------------------------------------
  absl::StatusOr<proxflow::v1::SetAliasResponse> SetAlias(
      const proxflow::v1::SetAliasRequest& request) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<proxflow::v1::DeleteAliasResponse> DeleteAlias(
      const proxflow::v1::DeleteAliasRequest& request) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<proxflow::v1::Checkpoint> Update(
      const proxflow::v1::UpdateCheckpointRequest& request)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<proxflow::v1::Checkpoint> Delete(
      const proxflow::v1::DeleteCheckpointRequest& request)
      ABSL_LOCKS_EXCLUDED(mu_);

  // --- Transfer
  // ------------------------------------------------------------------ An
  // upload in progress: a PENDING version receiving its file. Destroying it
  // before Finish() returned OK marks the version FAILED. Not thread-safe.
  class Upload {
   public:
    ~Upload();
    Upload(const Upload&) = delete;
    Upload& operator=(const Upload&) = delete;
    // INVALID_ARGUMENT naming `chunk` when the bytes overrun the header's
    // size_bytes.
    absl::Status Append(absl::string_view chunk);
    // Checks size, SHA-256 and that the file loads as a proxflow checkpoint,
    // then makes the version READY (with lineage from the stored config).
    absl::StatusOr<proxflow::v1::Checkpoint> Finish();
    const proxflow::v1::Checkpoint& checkpoint() const { return checkpoint_; }

   private:
    friend class Registry;
    Upload(Registry* registry, proxflow::v1::Checkpoint checkpoint,
           std::unique_ptr<BlobStore::Writer> writer);
    absl::Status Fail(absl::Status status);

    Registry* const registry_;
    proxflow::v1::Checkpoint checkpoint_;
    std::unique_ptr<BlobStore::Writer> writer_;
    int64_t received_ = 0;
    bool done_ = false;
  };
  // Validates the header (INVALID_ARGUMENT naming header.<field>) and creates
  // the PENDING version.
  absl::StatusOr<std::unique_ptr<Upload>> BeginUpload(
      const proxflow::v1::UploadCheckpointHeader& header)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The READY version to download, its file (files[0]) verified against its
  // SHA-256 (DATA_LOSS as ReadVerified); OUT_OF_RANGE naming offset when the
  // request's offset is past the end.
  absl::StatusOr<proxflow::v1::Checkpoint> BeginDownload(
      const proxflow::v1::DownloadCheckpointRequest& request)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Bytes [offset, offset + length) of the version's file.
  absl::StatusOr<std::string> ReadRange(
      const proxflow::v1::Checkpoint& checkpoint, int64_t offset,
      int64_t length);

  // --- Retention
  // ----------------------------------------------------------------- Retention
  // of every job in scope, then the purge of FAILED/DELETED versions' files and
  // of orphan blobs. With dry_run nothing changes.
  absl::StatusOr<proxflow::v1::GcPlan> Gc(
      const proxflow::v1::GcRequest& request, bool dry_run)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Called on every integrity failure (metrics). Set before serving; not
  // thread-safe against calls in flight.
  void SetIntegrityFailureHook(std::function<void()> hook) {
    on_integrity_failure_ = std::move(hook);
  }

 private:
  Registry(RegistryOptions options, RegistryStore* store, BlobStore* blobs,
           CheckpointInspector inspector);

  absl::Status Recover() ABSL_LOCKS_EXCLUDED(mu_);
  // A new PENDING version of `model` with a fresh uuid.
  absl::StatusOr<proxflow::v1::Checkpoint> CreatePending(
      proxflow::v1::Checkpoint checkpoint) ABSL_LOCKS_EXCLUDED(mu_);
  // Marks `checkpoint` FAILED with `reason`, unless it was DELETED meanwhile
  // (best effort: a store error is returned but the caller's own error
  // matters more).
  absl::Status MarkFailed(proxflow::v1::Checkpoint checkpoint,
                          absl::string_view reason) ABSL_LOCKS_EXCLUDED(mu_);
  // A read error of the version's file: DATA_LOSS and NOT_FOUND mean its
  // bytes are corrupt or gone, so the version becomes FAILED with the reason
  // recorded and DATA_LOSS is returned; other errors pass through.
  absl::Status IntegrityError(const proxflow::v1::Checkpoint& checkpoint,
                              absl::Status cause) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<proxflow::v1::Checkpoint> ResolveLocked(
      absl::string_view ref, absl::string_view field)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  struct Plan {
    std::vector<proxflow::v1::Checkpoint> expire;
    std::vector<proxflow::v1::Checkpoint> purge;
    std::vector<std::string> orphans;
    int64_t reclaimed_bytes = 0;
  };
  // What retention and the purge would do for `model` (empty: all) or, with
  // `job_id`, for that job's versions only (no orphan scan).
  absl::StatusOr<Plan> PlanGcLocked(const std::string& model,
                                    const std::string& job_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ExecuteLocked(const Plan& plan)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const RegistryOptions options_;
  RegistryStore* const store_;
  BlobStore* const blobs_;
  const CheckpointInspector inspector_;
  std::function<void()> on_integrity_failure_;
  absl::Mutex mu_;
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_REGISTRY_REGISTRY_H_
