#include "server/storage/dataset_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base/file_util.h"
#include "core/base/resource_name.h"
#include "core/base/sha256.h"
#include "core/base/status_macros.h"
#include "core/data_file.h"
#include "google/protobuf/util/time_util.h"
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

absl::Status Errno(absl::string_view what) {
  return absl::InternalError(
      absl::StrCat("dataset storage: ", what, ": ", std::strerror(errno)));
}

std::string RandomHex(int bytes) {
  absl::BitGen gen;
  std::string raw(bytes, '\0');
  for (char& c : raw) c = static_cast<char>(absl::Uniform<uint8_t>(gen));
  return absl::BytesToHexString(raw);
}

absl::Status CheckHeader(const pb::UploadDatasetHeader& h, int64_t max_bytes) {
  if (!IsValidResourceName(h.name())) {
    return Invalid("header.name", "must be 1..128 characters of [A-Za-z0-9._-]",
                   absl::StrCat("\"", h.name().substr(0, 64), "\""));
  }
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
                   absl::StrCat("\"", h.sha256().substr(0, 80), "\""));
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

// Streams an upload into a temp file beside its final place, hashing as it
// goes.
class DatasetStore::FileUpload : public DatasetStore::Upload {
 public:
  FileUpload(DatasetStore* store, pb::UploadDatasetHeader header,
             std::string temp, int fd)
      : store_(store),
        header_(std::move(header)),
        temp_(std::move(temp)),
        fd_(fd) {}

  ~FileUpload() override {
    if (fd_ >= 0) ::close(fd_);
    if (!published_) {
      std::error_code ec;
      fs::remove(temp_, ec);
    }
  }

  absl::Status Append(absl::string_view chunk) override {
    if (received_ + static_cast<int64_t>(chunk.size()) > header_.size_bytes()) {
      return Invalid("header.size_bytes", "is smaller than the bytes sent",
                     absl::StrCat(header_.size_bytes(), " (received ",
                                  received_ + chunk.size(), " bytes)"));
    }
    PROXFLOW_RETURN_IF_ERROR(WriteAll(fd_, chunk, "a dataset upload"));
    sha_.Update(chunk);
    received_ += static_cast<int64_t>(chunk.size());
    return absl::OkStatus();
  }

  absl::StatusOr<pb::Dataset> Finish() override {
    if (received_ != header_.size_bytes()) {
      return Invalid("header.size_bytes", "disagrees with the bytes sent",
                     absl::StrCat(header_.size_bytes(), " (received ",
                                  received_, " bytes)"));
    }
    const std::string digest = sha_.HexDigest();
    if (digest != header_.sha256()) {
      return Invalid(
          "header.sha256",
          absl::StrCat("does not match the received bytes (", digest, ")"),
          header_.sha256());
    }
    if (::fsync(fd_) != 0) return Errno("fsync of an upload");
    ::close(fd_);
    fd_ = -1;
    const core::DataFileFormat format =
        header_.format() == pb::DATASET_FORMAT_IDX
            ? core::DataFileFormat::kIdx
            : core::DataFileFormat::kFloat32Array;
    PROXFLOW_ASSIGN_OR_RETURN(
        core::DataFileInfo info,
        core::InspectDataFile(
            temp_, format, absl::StrCat("dataset \"", header_.name(), "\"")));
    pb::Dataset d;
    d.set_name(header_.name());
    d.set_format(header_.format());
    d.set_sha256(digest);
    d.set_size_bytes(received_);
    d.set_rows(info.rows);
    d.set_dimension(info.dimension);
    d.set_description(header_.description());
    *d.mutable_create_time() =
        google::protobuf::util::TimeUtil::GetCurrentTime();
    const std::string file =
        absl::StrCat(header_.name(), ".", digest.substr(0, 16), ".data");
    std::error_code ec;
    fs::rename(temp_, fs::path(store_->dir_) / file, ec);
    if (ec) {
      return absl::InternalError(
          absl::StrCat("dataset storage: rename failed: ", ec.message()));
    }
    if (absl::Status s = store_->Publish(d, file); !s.ok()) {
      fs::remove(fs::path(store_->dir_) / file, ec);
      return s;
    }
    published_ = true;
    return d;
  }

 private:
  DatasetStore* const store_;
  const pb::UploadDatasetHeader header_;
  const std::string temp_;
  int fd_;
  Sha256 sha_;
  int64_t received_ = 0;
  bool published_ = false;
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
  const std::string temp =
      (fs::path(dir_) / absl::StrCat(kTempPrefix, RandomHex(8))).string();
  const int fd =
      ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("creating an upload file");
  return std::unique_ptr<Upload>(new FileUpload(this, header, temp, fd));
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
        absl::StrCat("dataset \"", name.substr(0, 128), "\" not found"));
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
        absl::StrCat("dataset \"", name.substr(0, 128), "\" not found"));
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
          absl::StrCat("dataset \"", name.substr(0, 128), "\" not found"));
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
