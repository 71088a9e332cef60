// libFuzzer target: the checkpoint file parser (core/checkpoint_file.h), the
// part of every checkpoint load that reads untrusted bytes; what follows it
// copies tensors whose dtype and shape were checked (fuzz_checkpoint runs the
// whole loader with LibTorch). Torch-free, so CI runs it cheaply. A parsed file
// must keep its promises: each tensor's bytes lie inside the input and match
// its dtype and shape.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/checkpoint_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  auto file = proxflow::core::ParseCheckpointFile(bytes);
  if (!file.ok()) return 0;
  for (const auto& [name, tensor] : file->tensors) {
    const auto& [entry, view] = tensor;
    uint64_t count = 1;
    for (int64_t d : entry->shape()) count *= static_cast<uint64_t>(d);
    const uint64_t expected =
        count *
        static_cast<uint64_t>(proxflow::core::DTypeBytes(entry->dtype()));
    if (view.size() != expected || view.data() < bytes.data() ||
        view.data() + view.size() > bytes.data() + bytes.size()) {
      std::abort();
    }
  }
  return 0;
}
