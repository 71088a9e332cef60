// Format-2 checkpoint files (proto/proxflow/v1/checkpoint_file.proto): a
// protobuf header and a data section of raw tensor bytes. Reading one parses a
// protobuf and checks byte ranges; nothing from the file is unpickled, compiled
// or allocated by a size it merely claims (the header is bounded, every tensor
// must lie inside the bytes at hand). Torch-free: the LibTorch side
// (trainer_checkpoint.cc) turns views into tensors. Little-endian hosts only.
// Functions are thread-safe; a writer is not.
#ifndef PROXFLOW_CORE_CHECKPOINT_FILE_H_
#define PROXFLOW_CORE_CHECKPOINT_FILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proxflow/v1/checkpoint_file.pb.h"

namespace proxflow::core {

inline constexpr char kCheckpointMagic[] = "PXFLCKPT";
inline constexpr uint32_t kCheckpointFormatVersion = 2;
inline constexpr char kCheckpointFormatName[] = "proxflow-checkpoint";
// Limits a file must respect; a breach is INVALID_ARGUMENT naming the limit.
inline constexpr uint64_t kMaxCheckpointHeaderBytes = 16u << 20;
inline constexpr int kMaxCheckpointTensors = 4096;
inline constexpr int kMaxCheckpointTensorRank = 8;
inline constexpr size_t kMaxCheckpointTensorName = 256;

// Bytes per element; 0 for an unknown dtype.
int64_t DTypeBytes(proxflow::v1::TensorDType dtype);

// A checked file: the header and each tensor's bytes (views into the parsed
// buffer, which must outlive this).
struct CheckpointFileView {
  proxflow::v1::CheckpointHeader header;
  // name → (entry in header.tensors(), its bytes).
  absl::flat_hash_map<std::string, std::pair<const proxflow::v1::TensorEntry*,
                                             absl::string_view>>
      tensors;
};

// Parses and checks `bytes`: magic, version, header size and syntax, format
// name, data size and SHA-256, each tensor's name (unique, ≤ 256 chars),
// dtype, rank, dimensions and byte range, history row widths. INVALID_ARGUMENT
// starting "checkpoint: " saying what is wrong. A format-1 file (a LibTorch
// zip archive) is refused with a message naming the conversion command.
absl::StatusOr<CheckpointFileView> ParseCheckpointFile(absl::string_view bytes);

// The file layout around `header` and `data`, as they are (nothing filled
// in or checked): for the writer, and for tests and tools that craft files.
std::string AssembleCheckpointFile(const proxflow::v1::CheckpointHeader& header,
                                   absl::string_view data,
                                   uint32_t version = kCheckpointFormatVersion);

// Collects tensors, then writes a file. Tensor bytes are copied at Add().
class CheckpointFileWriter {
 public:
  // `bytes` must hold product(shape) elements of `dtype`, row-major.
  void Add(std::string name, proxflow::v1::TensorDType dtype,
           std::vector<int64_t> shape, absl::string_view bytes);
  // The file: `header` (format, tensors, data_size, data_sha256 are filled in
  // here) followed by the data. Ends the writer.
  std::string Finish(proxflow::v1::CheckpointHeader header);

 private:
  std::vector<proxflow::v1::TensorEntry> entries_;
  std::string data_;
};

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_CHECKPOINT_FILE_H_
