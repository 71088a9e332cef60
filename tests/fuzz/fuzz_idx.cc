// libFuzzer target: the IDX (MNIST) reader on arbitrary bytes, in memory and
// through the file path (which inflates gzip).
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/idx_reader.h"
#include "tests/fuzz/fuzz_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  auto parsed = proxflow::core::ParseIdx(bytes, "fuzz");
  if (parsed.ok()) {
    size_t product = 1;
    for (int64_t d : parsed->dims) product *= static_cast<size_t>(d);
    if (product != parsed->data.size()) __builtin_trap();  // the contract
  }
  (void)proxflow::core::ReadIdxFile(proxflow::fuzz::WriteInput(bytes));
  return 0;
}
