#include "server/storage/dataset_store.h"

#include <filesystem>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base/error_text.h"
#include "core/base/file_util.h"
#include "core/base/resource_name.h"
#include "core/base/sha256.h"
#include "core/base/status_macros.h"
#include "core/data_file.h"
#include "google/protobuf/util/time_util.h"
#include "server/now_timestamp.h"
#include "server/storage/job_store.h"
#include "server/storage/stored_proto.h"

namespace proxflow::server {
namespace {

namespace pb = proxflow::v1;
namespace fs = std::filesystem;

constexpr absl::string_view kTempPrefix = ".upload-";
constexpr size_t kMaxDescription = 1024;

absl::Status Invalid(absl::string_view field, absl::string_view rule,
                     absl::string_view value) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, " ", rule, ", got ", value));
}

absl::Status CheckHeader(const pb::UploadDatasetHeader& h, int64_t max_bytes) {
  PROXFLOW_RETURN_IF_ERROR(CheckResourceName("header.name", h.name()));
  if (h.format() != pb::DATASET_FORMAT_IDX &&
      h.format() != pb::DATASET_FORMAT_FLOAT32_ARRAY) {
    return Invalid("header.format",
                   "must be DATASET_FORMAT_IDX or DATASET_FORMAT_FLOAT32_ARRAY",
                   pb::DatasetFormat_IsValid(h.format())
                       ? pb::DatasetFormat_Name(h.format())
                       : absl::StrCat(static_cast<int>(h.format())));
  }
  if (!IsSha256Hex(h.sha256())) {
    return Invalid("header.sha256", "must be 64 lowercase hex digits",
                   QuoteForError(h.sha256()));
  }
  if (h.size_bytes() < 1 || h.size_bytes() > max_bytes) {
    return Invalid("header.size_bytes",
                   absl::StrCat("must be in [1, ", max_bytes, "]"),
                   absl::StrCat(h.size_bytes()));
  }
  if (h.description().size() > kMaxDescription) {
    return Invalid("header.description",
                   absl::StrCat("must be at most ", kMaxDescription, " bytes"),
                   absl::StrCat(h.description().size(), " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace

// Streams an upload into a staged file beside its final place, hashing as it
// goes.
class DatasetStore::FileUpload : public DatasetStore::Upload {
 public:
  FileUpload(DatasetStore* store, pb::UploadDatasetHeader header,
             std::unique_ptr<StagedFile> staged)
      : store_(store), header_(std::move(header)), staged_(std::move(staged)) {}

  absl::Status Append(absl::string_view chunk) override {
    const int64_t received =
        staged_->size() + static_cast<int64_t>(chunk.size());
    if (received > header_.size_bytes()) {
      return Invalid("header.size_bytes", "is smaller than the bytes sent",
                     absl::StrCat(header_.size_bytes(), " (received ", received,
                                  " bytes)"));
    }
    PROXFLOW_RETURN_IF_ERROR(staged_->Append(chunk));
    sha_.Update(chunk);
    return absl::OkStatus();
  }

  absl::StatusOr<pb::Dataset> Finish() override {
    if (staged_->size() != header_.size_bytes()) {
      return Invalid("header.size_bytes", "disagrees with the bytes sent",
                     absl::StrCat(header_.size_bytes(), " (received ",
                                  staged_->size(), " bytes)"));
    }
    const std::string digest = sha_.HexDigest();
    if (digest != header_.sha256()) {
      return Invalid(
          "header.sha256",
          absl::StrCat("does not match the received bytes (", digest, ")"),
          header_.sha256());
    }
    PROXFLOW_RETURN_IF_ERROR(staged_->Sync());
    const core::DataFileFormat format =
        header_.format() == pb::DATASET_FORMAT_IDX
            ? core::DataFileFormat::kIdx
            : core::DataFileFormat::kFloat32Array;
    PROXFLOW_ASSIGN_OR_RETURN(
        core::DataFileInfo info,
        core::InspectDataFile(
            staged_->temp_path(), format,
            absl::StrCat("dataset \"", header_.name(), "\"")));
    pb::Dataset d;
    d.set_name(header_.name());
    d.set_format(header_.format());
    d.set_sha256(digest);
    d.set_size_bytes(staged_->size());
    d.set_rows(info.rows);
    d.set_dimension(info.dimension);
    d.set_description(header_.description());
    *d.mutable_create_time() = NowTimestamp();
    const std::string file =
        absl::StrCat(header_.name(), ".", digest.substr(0, 16), ".data");
    const fs::path path = fs::path(store_->dir_) / file;
    PROXFLOW_RETURN_IF_ERROR(staged_->Publish(path.string()));
    if (absl::Status s = store_->Publish(d, file); !s.ok()) {
      std::error_code ec;
      fs::remove(path, ec);
      return s;
    }
    return d;
  }

 private:
  DatasetStore* const store_;
  const pb::UploadDatasetHeader header_;
  const std::unique_ptr<StagedFile> staged_;
  Sha256 sha_;
};

absl::StatusOr<std::unique_ptr<DatasetStore>> DatasetStore::Create(
    Database* db, const std::string& data_dir, int64_t max_dataset_bytes) {
  const fs::path dir = fs::path(data_dir) / "datasets";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  }
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (absl::StartsWith(entry.path().filename().string(), kTempPrefix))
      fs::remove(entry.path(), ec);
  }
  return std::unique_ptr<DatasetStore>(
      new DatasetStore(db, dir.string(), max_dataset_bytes));
}

absl::StatusOr<std::unique_ptr<DatasetStore::Upload>> DatasetStore::BeginUpload(
    const pb::UploadDatasetHeader& header) {
  PROXFLOW_RETURN_IF_ERROR(CheckHeader(header, max_bytes_));
  if (Get(header.name()).ok()) {
    return absl::AlreadyExistsError(
        absl::StrCat("dataset \"", header.name(), "\" already exists"));
  }
  PROXFLOW_ASSIGN_OR_RETURN(std::unique_ptr<StagedFile> staged,
                            StagedFile::Create(dir_, kTempPrefix));
  return std::unique_ptr<Upload>(
      new FileUpload(this, header, std::move(staged)));
}

absl::Status DatasetStore::Publish(const pb::Dataset& dataset,
                                   const std::string& file) {
  return db_->Write([&](Connection& c) -> absl::Status {
    PROXFLOW_ASSIGN_OR_RETURN(
        Statement s, c.Prepare("INSERT OR IGNORE INTO datasets(name, file, "
                               "dataset) VALUES (?, ?, ?)"));
    PROXFLOW_RETURN_IF_ERROR(s.Bind(1, dataset.name())
                                 .Bind(2, file)
                                 .BindBlob(3, dataset.SerializeAsString())
                                 .Run());
    if (c.Changes() == 0) {
      return absl::AlreadyExistsError(
          absl::StrCat("dataset \"", dataset.name(), "\" already exists"));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<pb::Dataset> DatasetStore::Get(absl::string_view name) {
  std::optional<pb::Dataset> out;
  PROXFLOW_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    PROXFLOW_ASSIGN_OR_RETURN(
        Statement s, c.Prepare("SELECT dataset FROM datasets WHERE name = ?"));
    PROXFLOW_ASSIGN_OR_RETURN(bool row, s.Bind(1, name).Step());
    if (!row) return absl::OkStatus();
    PROXFLOW_ASSIGN_OR_RETURN(
        out, ParseStored<pb::Dataset>(s.ColumnBlob(0), "dataset"));
    return absl::OkStatus();
  }));
  if (!out) {
    return absl::NotFoundError(
        absl::StrCat("dataset ", QuoteForError(name), " not found"));
  }
  return *std::move(out);
}

absl::StatusOr<std::string> DatasetStore::FilePath(absl::string_view name) {
  std::string file;
  PROXFLOW_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    PROXFLOW_ASSIGN_OR_RETURN(
        Statement s, c.Prepare("SELECT file FROM datasets WHERE name = ?"));
    PROXFLOW_ASSIGN_OR_RETURN(bool row, s.Bind(1, name).Step());
    if (row) file = s.ColumnText(0);
    return absl::OkStatus();
  }));
  if (file.empty()) {
    return absl::NotFoundError(
        absl::StrCat("dataset ", QuoteForError(name), " not found"));
  }
  return (fs::path(dir_) / file).string();
}

absl::StatusOr<DatasetStore::Page> DatasetStore::List(absl::string_view after,
                                                      int limit) {
  Page page;
  PROXFLOW_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    PROXFLOW_ASSIGN_OR_RETURN(
        Statement s, c.Prepare("SELECT dataset FROM datasets WHERE name > ? "
                               "ORDER BY name LIMIT ?"));
    s.Bind(1, after).Bind(2, int64_t{limit} + 1);
    while (true) {
      PROXFLOW_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      PROXFLOW_ASSIGN_OR_RETURN(
          pb::Dataset d, ParseStored<pb::Dataset>(s.ColumnBlob(0), "dataset"));
      page.datasets.push_back(std::move(d));
    }
    return absl::OkStatus();
  }));
  if (static_cast<int>(page.datasets.size()) > limit) {
    page.datasets.pop_back();
    page.next_after = page.datasets.back().name();
  }
  return page;
}

absl::Status DatasetStore::Delete(absl::string_view name) {
  std::string file;
  PROXFLOW_RETURN_IF_ERROR(db_->Write([&](Connection& c) -> absl::Status {
    PROXFLOW_ASSIGN_OR_RETURN(
        Statement s, c.Prepare("SELECT file FROM datasets WHERE name = ?"));
    PROXFLOW_ASSIGN_OR_RETURN(bool row, s.Bind(1, name).Step());
    if (!row) {
      return absl::NotFoundError(
          absl::StrCat("dataset ", QuoteForError(name), " not found"));
    }
    file = s.ColumnText(0);
    PROXFLOW_ASSIGN_OR_RETURN(
        Statement busy,
        c.Prepare(absl::StrCat("SELECT id FROM jobs WHERE dataset = ? AND "
                               "state IN ",
                               UnfinishedStatesSql(), " LIMIT 1")));
    PROXFLOW_ASSIGN_OR_RETURN(bool used, busy.Bind(1, name).Step());
    if (used) {
      return absl::FailedPreconditionError(
          absl::StrCat("dataset \"", name, "\" is used by job ",
                       busy.ColumnText(0), ", which has not finished"));
    }
    PROXFLOW_ASSIGN_OR_RETURN(Statement del,
                              c.Prepare("DELETE FROM datasets WHERE name = ?"));
    return del.Bind(1, name).Run();
  }));
  // The row is gone: no new job can reference the file; remove it.
  std::error_code ec;
  fs::remove(fs::path(dir_) / file, ec);
  return absl::OkStatus();
}

}  // namespace proxflow::server
