// RegistryStore: the checkpoint registry's metadata (models, versions, tags,
// aliases and their history), behind an interface so that a PostgreSQL
// backend can replace SQLite without touching the registry or the handlers.
//
// Implementations are thread-safe and make every method one transaction. They
// hold no policy: the Registry decides what to write (it serialises its
// read-modify-write sequences), the store keeps it durable and queryable.
#ifndef PROXFLOW_SERVER_STORAGE_REGISTRY_STORE_H_
#define PROXFLOW_SERVER_STORAGE_REGISTRY_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proxflow/v1/registry.pb.h"
#include "server/storage/database.h"

namespace proxflow::server {

struct CheckpointFilter {
  std::string model;                                     // empty: any
  std::string tag;                                       // empty: any
  std::string job_id;                                    // empty: any
  std::vector<proxflow::v1::CheckpointStatus> statuses;  // empty: any
  std::optional<bool> purged;                            // unset: any
};

// A move of an alias: `version` 0 deletes it. The store records the previous
// target in the history.
struct AliasUpdate {
  std::string model;
  std::string alias;
  int64_t version = 0;
  std::string actor;
};

class RegistryStore {
 public:
  virtual ~RegistryStore() = default;

  // Stores `checkpoint` (model, uuid, status and the rest set by the caller)
  // as the next version of its model, creating the model when new; returns it
  // with the version filled in.
  virtual absl::StatusOr<proxflow::v1::Checkpoint> Create(
      proxflow::v1::Checkpoint checkpoint) = 0;

  // Replaces the stored versions (matched by uuid) and applies the alias
  // moves, all or nothing. NOT_FOUND when a uuid was never created.
  virtual absl::Status Save(
      const std::vector<proxflow::v1::Checkpoint>& checkpoints,
      const std::vector<AliasUpdate>& aliases) = 0;

  // Reads fill Checkpoint.aliases. nullopt when absent.
  virtual absl::StatusOr<std::optional<proxflow::v1::Checkpoint>> Get(
      absl::string_view uuid) = 0;
  virtual absl::StatusOr<std::optional<proxflow::v1::Checkpoint>> GetVersion(
      absl::string_view model, int64_t version) = 0;
  // The version an alias points to; 0 when unset.
  virtual absl::StatusOr<int64_t> AliasVersion(absl::string_view model,
                                               absl::string_view alias) = 0;

  struct CheckpointPage {
    std::vector<proxflow::v1::Checkpoint> checkpoints;
    int64_t next_after = 0;  // 0 on the last page
  };
  // Versions in creation order after position `after` (0: from the start).
  virtual absl::StatusOr<CheckpointPage> List(const CheckpointFilter& filter,
                                              int64_t after, int limit) = 0;
  // Every version that matches, in creation order (List() page by page).
  absl::StatusOr<std::vector<proxflow::v1::Checkpoint>> ListAll(
      const CheckpointFilter& filter);

  struct ModelPage {
    std::vector<proxflow::v1::Model> models;
    std::string next_after;  // empty on the last page
  };
  // Models by name after `after`.
  virtual absl::StatusOr<ModelPage> ListModels(absl::string_view after,
                                               int limit) = 0;
  virtual absl::StatusOr<std::optional<proxflow::v1::Model>> GetModel(
      absl::string_view name) = 0;

  struct HistoryPage {
    std::vector<proxflow::v1::AliasChange> changes;
    int64_t next_before = 0;  // 0 on the last page
  };
  // The model's alias moves (of `alias` only, when not empty), newest first,
  // before position `before` (0: from the newest).
  virtual absl::StatusOr<HistoryPage> AliasHistory(absl::string_view model,
                                                   absl::string_view alias,
                                                   int64_t before,
                                                   int limit) = 0;

  // Every (blob, version) reference of versions whose files are not purged,
  // for garbage collection.
  struct BlobRef {
    std::string sha256;
    std::string uuid;
    proxflow::v1::CheckpointStatus status;
  };
  virtual absl::StatusOr<std::vector<BlobRef>> BlobRefs() = 0;
};

// The SQLite implementation over the server database (schema.h). `db` must
// outlive the store.
std::unique_ptr<RegistryStore> CreateSqliteRegistryStore(Database* db);

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_STORAGE_REGISTRY_STORE_H_
