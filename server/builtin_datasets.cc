#include "server/builtin_datasets.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "core/idx_reader.h"

namespace proxflow::server {

absl::StatusOr<BuiltinDatasets> BuiltinDatasets::Open(const std::string& root) {
  BuiltinDatasets catalog;
  if (root.empty()) return catalog;
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--datasets_root must name a directory, got \"", root,
                     "\"", ec ? absl::StrCat(" (", ec.message(), ")") : ""));
  }
  catalog.root_ = std::filesystem::absolute(root, ec).lexically_normal();
  if (ec) catalog.root_ = root;
  const std::string mnist =
      (std::filesystem::path(catalog.root_) / "mnist").string();
  if (std::filesystem::is_directory(mnist, ec)) {
    absl::StatusOr<core::MnistIdx> idx = core::ReadMnistIdx(mnist);
    if (!idx.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--datasets_root: ", mnist,
                       " does not hold MNIST: ", idx.status().message()));
    }
    catalog.mnist_dir_ = mnist;
    catalog.mnist_images_ = idx->images.dims[0];
  }
  return catalog;
}

std::string BuiltinDatasets::Describe() const {
  if (root_.empty()) return "none (no --datasets_root)";
  if (mnist_dir_.empty())
    return absl::StrCat("none (", root_, " has no mnist/)");
  return absl::StrCat("mnist (", mnist_images_, " images in ", mnist_dir_, ")");
}

}  // namespace proxflow::server
