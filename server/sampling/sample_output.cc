#include "server/sampling/sample_output.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "core/base/sha256.h"
#include "core/base/status_macros.h"
#include "core/image/png.h"
#include "core/image/scatter_plot.h"

namespace proxflow::server {
namespace {

namespace pb = ::proxflow::v1;

static_assert(std::endian::native == std::endian::little,
              "FLOAT32 items are little-endian as stored in memory");

EncodedItem MakeItem(const SamplePlan& plan, pb::SampleItemKind kind, int index,
                     int count, int step, std::string bytes,
                     std::vector<int64_t> shape, pb::SampleEncoding encoding) {
  EncodedItem item;
  pb::ImageDone& d = item.done;
  d.mutable_item()->set_kind(kind);
  d.mutable_item()->set_index(index);
  d.mutable_item()->set_count(count);
  d.mutable_item()->set_step(step);
  for (int i = index; i < index + count; ++i) d.add_seeds(plan.seeds[i]);
  for (int64_t s : shape) d.add_shape(s);
  d.set_encoding(encoding);
  d.set_size_bytes(static_cast<int64_t>(bytes.size()));
  d.set_sha256(Sha256Hex(bytes));
  item.bytes = std::move(bytes);
  return item;
}

}  // namespace

absl::StatusOr<std::vector<EncodedItem>> EncodeSamples(const SamplePlan& plan,
                                                       pb::SampleItemKind kind,
                                                       int index, int step,
                                                       const float* values,
                                                       int rows) {
  const int d = plan.dimension;
  std::vector<EncodedItem> out;
  if (!plan.image()) {  // one block of points, float32
    std::string bytes(reinterpret_cast<const char*>(values),
                      sizeof(float) * static_cast<size_t>(rows) * d);
    out.push_back(MakeItem(plan, kind, index, rows, step, std::move(bytes),
                           {rows, d}, pb::SAMPLE_ENCODING_FLOAT32));
    return out;
  }
  out.reserve(rows);
  for (int r = 0; r < rows; ++r) {
    const float* x = values + static_cast<size_t>(r) * d;
    std::string bytes;
    if (plan.encoding == pb::SAMPLE_ENCODING_FLOAT32) {
      bytes.assign(reinterpret_cast<const char*>(x), sizeof(float) * d);
    } else {
      std::vector<uint8_t> pixels(d);
      std::transform(x, x + d, pixels.begin(), QuantizePixel);
      if (plan.encoding == pb::SAMPLE_ENCODING_PNG) {
        PROXFLOW_ASSIGN_OR_RETURN(
            bytes, image::EncodePng(pixels, plan.width, plan.height, 1));
      } else {
        bytes.assign(pixels.begin(), pixels.end());
      }
    }
    out.push_back(MakeItem(plan, kind, index + r, 1, step, std::move(bytes),
                           {plan.height, plan.width}, plan.encoding));
  }
  return out;
}

absl::StatusOr<EncodedItem> EncodeScatterPlot(
    const SamplePlan& plan, const std::vector<float>& values) {
  image::PointSeries series;
  const int d = plan.dimension;
  const size_t n = values.size() / d;
  series.xy.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    series.xy.push_back(values[i * d]);
    series.xy.push_back(values[i * d + 1]);
  }
  image::PlotOptions options;
  PROXFLOW_ASSIGN_OR_RETURN(std::string png,
                            image::RenderScatterPng({series}, options));
  return MakeItem(plan, pb::SAMPLE_ITEM_KIND_SCATTER_PLOT, 0,
                  plan.num_samples(), plan.steps, std::move(png),
                  {options.size, options.size, 3}, pb::SAMPLE_ENCODING_PNG);
}

void AppendItemEvents(EncodedItem item, size_t max_chunk,
                      std::vector<pb::SampleEvent>* out) {
  for (size_t offset = 0; offset < item.bytes.size(); offset += max_chunk) {
    pb::ImageChunk* chunk = out->emplace_back().mutable_image_chunk();
    *chunk->mutable_item() = item.done.item();
    chunk->set_offset(static_cast<int64_t>(offset));
    chunk->set_data(item.bytes.substr(offset, max_chunk));
  }
  *out->emplace_back().mutable_image_done() = std::move(item.done);
}

}  // namespace proxflow::server
