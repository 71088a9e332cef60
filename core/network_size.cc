#include "core/network_size.h"

#include <algorithm>

namespace proxflow::core {
namespace {

// core/networks.h: the trunk takes a 28×28 image (784 inputs) to 8 × 7 × 7
// features; extra inputs (time) are appended after it.
constexpr int kImageInputs = 784;
constexpr int kConvTrunkFeatures = 392;
constexpr int64_t kConvTrunkParameters = 8 * 1 * 49 + 8 * 8 * 49;  // no biases

}  // namespace

int DataDimension(const TrainOptions& o) {
  return o.dataset.kind == DatasetKind::kMnist ? kImageInputs
                                               : o.dataset.dimension;
}

int64_t NetworkParameters(const NetworkOptions& n, int inputs, int outputs) {
  int64_t total = 0;
  int64_t in = inputs;
  if (n.architecture == Architecture::kConv) {
    total += kConvTrunkParameters;
    in = kConvTrunkFeatures + std::max(0, inputs - kImageInputs);
  }
  for (int i = 0; i < n.depth; ++i) {
    total += (in + 1) * n.width;
    in = n.width;
  }
  return total + (in + 1) * outputs;
}

int64_t GeneratorParameters(const TrainOptions& o) {
  const int d = DataDimension(o);
  const bool potential = o.generator.form == GeneratorForm::kPotential;
  // FlowNetImpl's (a₀, a₁) of the quadratic term.
  const int64_t quadratic = potential && o.generator.network.quadratic ? 2 : 0;
  return NetworkParameters(o.generator.network, d + 1, potential ? 1 : d) +
         quadratic;
}

int64_t CriticParameters(const TrainOptions& o) {
  return NetworkParameters(o.critic.network, DataDimension(o), 1);
}

}  // namespace proxflow::core
