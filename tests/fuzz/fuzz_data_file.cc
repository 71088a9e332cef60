// libFuzzer target: the dataset upload parser (IDX or float32 array files):
// the header check of both formats and the full read.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/data_file.h"
#include "tests/fuzz/fuzz_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace core = proxflow::core;
  const std::string path = proxflow::fuzz::WriteInput(
      std::string(reinterpret_cast<const char*>(data), size));
  for (auto format :
       {core::DataFileFormat::kIdx, core::DataFileFormat::kFloat32Array})
    (void)core::InspectDataFile(path, format, "fuzz");
  auto rows = core::ReadDataFile(path, "fuzz");
  if (rows.ok()) {
    if (static_cast<size_t>(rows->rows * rows->dimension) !=
        rows->values.size())
      __builtin_trap();  // the contract: shape matches the values
    for (float v : rows->values)
      if (!std::isfinite(v)) __builtin_trap();  // finite values only
  }
  return 0;
}
