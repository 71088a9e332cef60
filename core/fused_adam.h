// One step of torch::optim::Adam computed in one pass over each parameter's
// floats, instead of LibTorch's seven elementwise operations (each with its
// dispatch and, for the denominator, an allocation): on the toy presets'
// small networks the optimiser steps were per-operation overhead on the
// critic chain, the critical path of a 2-thread iteration
// (docs/PERFORMANCE.md). Internal to core (the trainer).
//
// Contract: the same state as torch::optim::Adam::step (AdamParamState's
// step, exp_avg, exp_avg_sq, created on first use as Adam creates them: so
// checkpoints and a later adam.step() see no difference) and the same bits
// for every value, at every position of the tensor (LibTorch runs a vector
// body and a scalar tail; both compute the same per-element expression,
// which this file writes out: tests/core/fused_adam_test.cc compares with
// Adam::step over tensors of every tail length). When a parameter, its
// gradient or its state is not a contiguous CPU float32 tensor, or a group
// asks for amsgrad or weight decay, the whole step is Adam::step. Not
// thread-safe for one optimiser.
#ifndef PROXFLOW_CORE_FUSED_ADAM_H_
#define PROXFLOW_CORE_FUSED_ADAM_H_

#include <torch/optim/adam.h>

namespace proxflow::core {

void FusedAdamStep(torch::optim::Adam& adam);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_FUSED_ADAM_H_
