// Sample outputs: integrated values turned into items (PNG, raw float32 or
// uint8 bytes with their ImageDone record), and items into stream events
// (chunks of at most kMaxChunkBytes, then the done event). Pure functions;
// thread-safe. Runs on the engine's encoder threads, never on the integration
// thread.
#ifndef PROXFLOW_SERVER_SAMPLING_SAMPLE_OUTPUT_H_
#define PROXFLOW_SERVER_SAMPLING_SAMPLE_OUTPUT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/image/grid.h"
#include "proxflow/v1/sampling_service.pb.h"
#include "server/sampling/sample_plan.h"

namespace proxflow::server {

inline constexpr size_t kMaxSampleChunkBytes = 1 << 20;  // 1 MiB

// PNG and UINT8 encodings quantise with image::QuantizePixel.
using image::QuantizePixel;

struct EncodedItem {
  proxflow::v1::ImageDone done;  // identity, seeds, shape, size, sha256
  std::string bytes;
};

// Samples [index, index + rows) of `plan` after `step` steps, `values` holding
// rows × plan.dimension floats: one item per image for image models, one block
// item for point models. `kind` is SAMPLE or TRAJECTORY_FRAME.
absl::StatusOr<std::vector<EncodedItem>> EncodeSamples(
    const SamplePlan& plan, proxflow::v1::SampleItemKind kind, int index,
    int step, const float* values, int rows);

// The scatter plot of all final samples of a point model (`values`: every
// sample in index order).
absl::StatusOr<EncodedItem> EncodeScatterPlot(const SamplePlan& plan,
                                              const std::vector<float>& values);

// The item's chunk events (in offset order, each at most `max_chunk` bytes;
// none for an empty item) followed by its done event, appended to `out`.
void AppendItemEvents(EncodedItem item, size_t max_chunk,
                      std::vector<proxflow::v1::SampleEvent>* out);

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_SAMPLING_SAMPLE_OUTPUT_H_
