// BuiltinDatasets: the datasets this server offers by name from the directory
// its operator names with --datasets_root. A remote config names a dataset
// (DATASET_KIND_MNIST, or an upload by name), never a path on the server: only
// the operator decides which server directories are read. Torch-free.
//
// Layout: <root>/mnist holds MNIST's IDX files (t10k or train, images and
// labels, gzip or raw), checked when the catalog opens. Immutable after Open;
// thread-safe.
#ifndef PROXFLOW_SERVER_BUILTIN_DATASETS_H_
#define PROXFLOW_SERVER_BUILTIN_DATASETS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace proxflow::server {

class BuiltinDatasets {
 public:
  // Offers nothing.
  BuiltinDatasets() = default;

  // The catalog of `root` (empty: nothing offered). INVALID_ARGUMENT naming
  // --datasets_root when `root` is not a directory, or when <root>/mnist
  // exists but its files do not read as MNIST (the reader's error).
  static absl::StatusOr<BuiltinDatasets> Open(const std::string& root);

  // The directory MNIST jobs read; empty when this server offers no MNIST.
  const std::string& mnist_dir() const { return mnist_dir_; }
  int64_t mnist_images() const { return mnist_images_; }

  // "mnist (10000 images in /data/mnist)", or "none (no --datasets_root)":
  // the startup log's line.
  std::string Describe() const;

 private:
  std::string root_;
  std::string mnist_dir_;
  int64_t mnist_images_ = 0;
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_BUILTIN_DATASETS_H_
