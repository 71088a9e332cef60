// DatasetStore: uploaded training data, as files under <data_dir>/datasets
// with their metadata in the database.
//
// Owned by the server; thread-safe. A dataset becomes visible only after its
// whole file arrived, matched its SHA-256, passed the format check and was
// renamed into place, so a crash mid-upload leaves nothing half-visible (stale
// temp files are removed on start).
#ifndef PROXFLOW_SERVER_STORAGE_DATASET_STORE_H_
#define PROXFLOW_SERVER_STORAGE_DATASET_STORE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proxflow/v1/dataset_service.pb.h"
#include "server/storage/database.h"

namespace proxflow::server {

class DatasetStore {
 public:
  // One upload in progress. Not thread-safe (one stream drives it). Destroying
  // it before Finish() discards everything received.
  class Upload {
   public:
    virtual ~Upload() = default;
    // INVALID_ARGUMENT for an empty or > 1 MiB chunk, or bytes past
    // header.size_bytes.
    virtual absl::Status Append(absl::string_view chunk) = 0;
    // Verifies size, SHA-256 and format, then publishes the dataset.
    // INVALID_ARGUMENT naming the header field that disagrees with the bytes;
    // ALREADY_EXISTS when the name was taken meanwhile.
    virtual absl::StatusOr<proxflow::v1::Dataset> Finish() = 0;
  };

  // Creates <data_dir>/datasets and removes temp files of interrupted uploads.
  static absl::StatusOr<std::unique_ptr<DatasetStore>> Create(
      Database* db, const std::string& data_dir, int64_t max_dataset_bytes);

  // Checks the header (INVALID_ARGUMENT naming header.<field> and the value;
  // ALREADY_EXISTS when the name is taken) and opens a temp file.
  absl::StatusOr<std::unique_ptr<Upload>> BeginUpload(
      const proxflow::v1::UploadDatasetHeader& header);

  // NOT_FOUND when no dataset has that name.
  absl::StatusOr<proxflow::v1::Dataset> Get(absl::string_view name);
  // Absolute path of the dataset's file. NOT_FOUND as Get().
  absl::StatusOr<std::string> FilePath(absl::string_view name);

  struct Page {
    std::vector<proxflow::v1::Dataset> datasets;
    std::string next_after;  // empty on the last page
  };
  // Datasets by name, after `after` (empty: from the start).
  absl::StatusOr<Page> List(absl::string_view after, int limit);

  // Deletes the dataset and its file. NOT_FOUND when missing;
  // FAILED_PRECONDITION when a queued or running job uses it.
  absl::Status Delete(absl::string_view name);

 private:
  class FileUpload;
  DatasetStore(Database* db, std::string dir, int64_t max_bytes)
      : db_(db), dir_(std::move(dir)), max_bytes_(max_bytes) {}

  // Inserts the row; ALREADY_EXISTS when the name is taken.
  absl::Status Publish(const proxflow::v1::Dataset& dataset,
                       const std::string& file);

  Database* const db_;
  const std::string dir_;  // <data_dir>/datasets
  const int64_t max_bytes_;
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_STORAGE_DATASET_STORE_H_
