// libFuzzer target: the checkpoint loader (LibTorch archive, header, stored
// config, network weights) on arbitrary bytes, as the sampling service and
// fine-tuning load what clients upload.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/device.h"
#include "core/flow_model.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)proxflow::core::ConfigureTorchThreads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)proxflow::core::FlowModel::Load(
      std::string(reinterpret_cast<const char*>(data), size), "cpu");
  return 0;
}
