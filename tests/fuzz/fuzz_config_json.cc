// libFuzzer target: a TrainingConfig from arbitrary JSON (what the CLI sends
// and the server resolves), then the resolver. Any input must give a message
// or a clean error; crashes, hangs and sanitizer reports are findings.
#include <google/protobuf/util/json_util.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/options_resolver.h"
#include "proxflow/v1/config.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  proxflow::v1::TrainingConfig config;
  const std::string json(reinterpret_cast<const char*>(data), size);
  if (!google::protobuf::util::JsonStringToMessage(json, &config).ok())
    return 0;
  (void)proxflow::core::ResolveTrainOptions(config);
  return 0;
}
