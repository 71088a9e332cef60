// An exponential moving average of a network's weights (Polyak averaging, as
// GAN and diffusion trainers keep for their generators): the averaged copy is
// what a run samples and evaluates, while training goes on with the live
// weights. Internal to core (the trainer).
//
// Contract: update k (k = 0, 1, ... the generator steps so far) uses the decay
// AverageDecay(decay, k) = min(decay, (1 + k) / (10 + k)), so the average
// forgets the initialisation within the first few dozen steps instead of the
// 1 / (1 − decay) a fixed decay needs. Each value is computed as
// average · d + live · (1 − d), two rounded products and one rounded sum, so
// its bits depend on neither the CPU's vector width nor LibTorch's kernels.
// Not thread-safe for one average.
#ifndef PROXFLOW_CORE_WEIGHT_AVERAGE_H_
#define PROXFLOW_CORE_WEIGHT_AVERAGE_H_

#include <torch/nn/module.h>

#include <cstdint>

namespace proxflow::core {

double AverageDecay(double decay, int64_t update);

// average ← average · d + live · (1 − d) for every parameter and floating
// buffer, d = AverageDecay(decay, update). The modules must have the same
// parameters and buffers in the same order, shapes and dtypes (two networks
// built from one config); the average's tensors keep their version counters
// moving (in-place ATen operations), so weight caches see the change.
void UpdateAverage(torch::nn::Module& average, const torch::nn::Module& live,
                   double decay, int64_t update);

// average ← live, tensor by tensor (same requirements as UpdateAverage).
void CopyWeights(torch::nn::Module& average, const torch::nn::Module& live);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_WEIGHT_AVERAGE_H_
