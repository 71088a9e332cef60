#include "core/checkpoint_file.h"

#include <cstring>
#include <limits>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/base/sha256.h"

namespace proxflow::core {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "checkpoint files store little-endian bytes as they are");

namespace pb = proxflow::v1;

constexpr size_t kFixedHeader = 24;  // magic, version, reserved, header size
constexpr uint64_t kDataAlignment = 64;

uint64_t AlignUp(uint64_t n) {
  return (n + kDataAlignment - 1) / kDataAlignment * kDataAlignment;
}

template <typename T>
T ReadLe(absl::string_view bytes, size_t at) {
  T v;
  std::memcpy(&v, bytes.data() + at, sizeof(T));
  return v;
}

template <typename T>
void AppendLe(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

absl::Status Bad(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("checkpoint: ", what));
}

// Checks one entry against the data section; `name` is already unique.
absl::Status CheckEntry(const pb::TensorEntry& e, uint64_t data_size) {
  const std::string where =
      absl::StrCat("tensor \"", absl::CEscape(e.name()), "\"");
  const int64_t element = DTypeBytes(e.dtype());
  if (element == 0) {
    return Bad(absl::StrCat(where, " has unknown dtype ", e.dtype()));
  }
  if (e.shape_size() > kMaxCheckpointTensorRank) {
    return Bad(absl::StrCat(
        where, " has rank ", e.shape_size(),
        " (limit kMaxCheckpointTensorRank = ", kMaxCheckpointTensorRank, ")"));
  }
  // Element count, refusing overflow: every product stays ≤ data_size.
  uint64_t count = 1;
  for (int i = 0; i < e.shape_size(); ++i) {
    const int64_t d = e.shape(i);
    if (d < 0) {
      return Bad(absl::StrCat(where, " has negative dimension ", d));
    }
    if (d != 0 && count > data_size / static_cast<uint64_t>(d)) {
      return Bad(absl::StrCat(where, " has shape larger than the file's ",
                              data_size, " data bytes"));
    }
    count *= static_cast<uint64_t>(d);
  }
  if (count > data_size / static_cast<uint64_t>(element)) {
    return Bad(absl::StrCat(where, " has ", count, " elements of ", element,
                            " bytes, more than the file's ", data_size,
                            " data bytes"));
  }
  if (count * static_cast<uint64_t>(element) != e.size()) {
    return Bad(absl::StrCat(where, " declares ", e.size(),
                            " bytes; its dtype and shape need ",
                            count * static_cast<uint64_t>(element)));
  }
  if (e.offset() > data_size || e.size() > data_size - e.offset()) {
    return Bad(absl::StrCat(where, " lies outside the data section (offset ",
                            e.offset(), ", size ", e.size(), ", data ",
                            data_size, " bytes)"));
  }
  return absl::OkStatus();
}

}  // namespace

int64_t DTypeBytes(pb::TensorDType dtype) {
  switch (dtype) {
    case pb::TENSOR_DTYPE_FLOAT32:
      return 4;
    case pb::TENSOR_DTYPE_FLOAT64:
    case pb::TENSOR_DTYPE_INT64:
      return 8;
    case pb::TENSOR_DTYPE_UINT8:
      return 1;
    case pb::TENSOR_DTYPE_BFLOAT16:
      return 2;
    default:
      return 0;
  }
}

absl::StatusOr<CheckpointFileView> ParseCheckpointFile(absl::string_view b) {
  if (b.size() >= 4 && b.substr(0, 4) == absl::string_view("PK\x03\x04", 4)) {
    return Bad(
        "this is a format-1 checkpoint (a LibTorch archive), which is no "
        "longer loaded: reading it runs LibTorch's TorchScript importer, which "
        "crashes on crafted files. Convert a file you trust with "
        "`proxflow-lab convert-checkpoint IN OUT`");
  }
  if (b.size() < kFixedHeader) {
    return Bad(absl::StrCat("not a proxflow checkpoint (", b.size(),
                            " bytes, shorter than the ", kFixedHeader,
                            "-byte file header)"));
  }
  if (b.substr(0, 8) != kCheckpointMagic) {
    return Bad("not a proxflow checkpoint (no PXFLCKPT magic)");
  }
  const uint32_t version = ReadLe<uint32_t>(b, 8);
  if (version != kCheckpointFormatVersion) {
    return Bad(absl::StrCat("unsupported format version ", version,
                            " (this build reads ", kCheckpointFormatVersion,
                            ")"));
  }
  if (ReadLe<uint32_t>(b, 12) != 0)
    return Bad("reserved header field is not 0");
  const uint64_t header_size = ReadLe<uint64_t>(b, 16);
  if (header_size > kMaxCheckpointHeaderBytes) {
    return Bad(absl::StrCat("header of ", header_size,
                            " bytes exceeds kMaxCheckpointHeaderBytes = ",
                            kMaxCheckpointHeaderBytes));
  }
  if (header_size > b.size() - kFixedHeader) {
    return Bad(absl::StrCat("truncated: the header claims ", header_size,
                            " bytes, the file has ", b.size() - kFixedHeader,
                            " after the file header"));
  }
  CheckpointFileView view;
  pb::CheckpointHeader& h = view.header;
  if (!h.ParseFromArray(b.data() + kFixedHeader,
                        static_cast<int>(header_size))) {
    return Bad("the header does not parse (protobuf)");
  }
  if (h.format() != kCheckpointFormatName) {
    return Bad(absl::StrCat("format is \"", absl::CEscape(h.format()),
                            "\", not \"", kCheckpointFormatName, "\""));
  }
  const uint64_t data_start = AlignUp(kFixedHeader + header_size);
  if (data_start > b.size() || b.size() - data_start != h.data_size()) {
    return Bad(absl::StrCat("truncated or padded: the header declares ",
                            h.data_size(), " data bytes, the file has ",
                            data_start > b.size() ? 0 : b.size() - data_start));
  }
  const absl::string_view data = b.substr(data_start);
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  // (Fuzz builds skip this one check so that mutated inputs reach the rest.)
  if (Sha256Hex(data) != h.data_sha256()) {
    return Bad("corrupted: the data section does not match its SHA-256");
  }
#endif
  if (h.tensors_size() > kMaxCheckpointTensors) {
    return Bad(absl::StrCat(
        h.tensors_size(),
        " tensors exceed kMaxCheckpointTensors = ", kMaxCheckpointTensors));
  }
  for (const pb::TensorEntry& e : h.tensors()) {
    if (e.name().empty() || e.name().size() > kMaxCheckpointTensorName) {
      return Bad(absl::StrCat("tensor name of ", e.name().size(),
                              " characters (1 to ", kMaxCheckpointTensorName,
                              " allowed)"));
    }
    if (absl::Status s = CheckEntry(e, data.size()); !s.ok()) return s;
    if (!view.tensors
             .emplace(e.name(),
                      std::make_pair(&e, data.substr(e.offset(), e.size())))
             .second) {
      return Bad(absl::StrCat("tensor \"", absl::CEscape(e.name()),
                              "\" appears twice"));
    }
  }
  for (const pb::HistoryRow& row : h.history()) {
    if (row.values_size() != h.history_names_size()) {
      return Bad(absl::StrCat("history row of iteration ", row.iteration(),
                              " has ", row.values_size(), " values for ",
                              h.history_names_size(), " names"));
    }
  }
  return view;
}

void CheckpointFileWriter::Add(std::string name, pb::TensorDType dtype,
                               std::vector<int64_t> shape,
                               absl::string_view bytes) {
  data_.resize(AlignUp(data_.size()), '\0');
  pb::TensorEntry e;
  e.set_name(std::move(name));
  e.set_dtype(dtype);
  for (int64_t d : shape) e.add_shape(d);
  e.set_offset(data_.size());
  e.set_size(bytes.size());
  data_.append(bytes.data(), bytes.size());
  entries_.push_back(std::move(e));
}

std::string AssembleCheckpointFile(const pb::CheckpointHeader& header,
                                   absl::string_view data, uint32_t version) {
  std::string serialized;
  header.SerializeToString(&serialized);
  std::string out;
  out.reserve(AlignUp(kFixedHeader + serialized.size()) + data.size());
  out.append(kCheckpointMagic, 8);
  AppendLe<uint32_t>(out, version);
  AppendLe<uint32_t>(out, 0);
  AppendLe<uint64_t>(out, serialized.size());
  out += serialized;
  out.resize(AlignUp(out.size()), '\0');
  out.append(data.data(), data.size());
  return out;
}

std::string CheckpointFileWriter::Finish(pb::CheckpointHeader header) {
  header.set_format(kCheckpointFormatName);
  header.clear_tensors();
  for (auto& e : entries_) *header.add_tensors() = std::move(e);
  header.set_data_size(data_.size());
  header.set_data_sha256(Sha256Hex(data_));
  std::string out = AssembleCheckpointFile(header, data_);
  data_.clear();
  entries_.clear();
  return out;
}

}  // namespace proxflow::core
