#include "core/sharded_backward.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include <numeric>

#include "core/team_tasks.h"

namespace proxflow::core {
namespace {

// p.grad := g (a gradient of the step's loss), as zero_grad() + backward().
void SetGradient(const at::Tensor& p, const at::Tensor& g) {
  at::Tensor& grad = const_cast<at::Tensor&>(p).mutable_grad();
  if (g.defined()) {
    grad = g;
  } else if (grad.defined()) {
    grad.detach_();
    grad.zero_();
  }
}

// a + b where either may be undefined (no gradient).
at::Tensor Plus(const at::Tensor& a, const at::Tensor& b) {
  if (!a.defined()) return b;
  if (!b.defined()) return a;
  return a + b;
}

}  // namespace

at::Tensor ShardedBackward(
    int64_t shards, const std::vector<at::Tensor>& params,
    const std::function<std::vector<at::Tensor>(int64_t shard)>& forward,
    const std::function<at::Tensor(const ShardParts& parts)>& combine,
    bool forward_on_caller) {
  if (shards <= 1) {
    const at::Tensor loss = combine({forward(0)});
    const std::vector<at::Tensor> grads = torch::autograd::grad(
        {loss}, params, {}, /*retain_graph=*/false, /*create_graph=*/false,
        /*allow_unused=*/true);
    for (size_t i = 0; i < params.size(); ++i) SetGradient(params[i], grads[i]);
    return loss.detach();
  }
  ShardParts parts(static_cast<size_t>(shards));
  if (forward_on_caller) {
    for (int64_t s = 0; s < shards; ++s) parts[s] = forward(s);
  } else {
    RunTeamTasks(shards, [&](int64_t s) { parts[s] = forward(s); });
  }

  // The combine's graph starts at detached copies of the parts.
  ShardParts leaves = parts;
  std::vector<at::Tensor> inputs;  // the leaves that require grad, then params
  // Shard s's leaves start at inputs[first_leaf[s]].
  std::vector<size_t> first_leaf(static_cast<size_t>(shards), 0);
  for (size_t s = 0; s < leaves.size(); ++s) {
    first_leaf[s] = inputs.size();
    for (at::Tensor& t : leaves[s]) {
      if (t.defined() && t.requires_grad()) {
        t = t.detach().requires_grad_(true);
        inputs.push_back(t);
      }
    }
  }
  const size_t leaf_count = inputs.size();
  inputs.insert(inputs.end(), params.begin(), params.end());
  const at::Tensor loss = combine(leaves);
  const std::vector<at::Tensor> combine_grads = torch::autograd::grad(
      {loss}, inputs, {}, /*retain_graph=*/false, /*create_graph=*/false,
      /*allow_unused=*/true);

  // Each shard's backward pass from the gradients at its parts.
  std::vector<std::vector<at::Tensor>> shard_grads(static_cast<size_t>(shards));
  RunTeamTasks(shards, [&](int64_t s) {
    std::vector<at::Tensor> outputs, grad_outputs;
    size_t leaf = first_leaf[s];
    for (const at::Tensor& t : parts[s]) {
      if (!t.defined() || !t.requires_grad()) continue;
      const at::Tensor& g = combine_grads[leaf++];
      if (!g.defined()) continue;  // the loss does not use this part
      outputs.push_back(t);
      grad_outputs.push_back(g);
    }
    if (outputs.empty()) return;
    shard_grads[s] = torch::autograd::grad(outputs, params, grad_outputs,
                                           /*retain_graph=*/false,
                                           /*create_graph=*/false,
                                           /*allow_unused=*/true);
  });

  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params.size(); ++i) {
    at::Tensor total = combine_grads[leaf_count + i];
    for (const auto& grads : shard_grads) {
      if (!grads.empty()) total = Plus(total, grads[i]);
    }
    SetGradient(params[i], total);
  }
  return loss.detach();
}

at::Tensor JoinedPart(const ShardParts& parts, size_t j) {
  if (parts.size() == 1) return parts[0][j];
  std::vector<at::Tensor> pieces;
  pieces.reserve(parts.size());
  for (const auto& shard : parts) pieces.push_back(shard[j]);
  return at::cat(pieces, 0);
}

at::Tensor RowWeightedMean(const ShardParts& parts, size_t j,
                           const std::vector<int64_t>& rows) {
  if (parts.size() == 1 || !parts[0][j].defined()) return parts[0][j];
  const double total = static_cast<double>(
      std::accumulate(rows.begin(), rows.end(), int64_t{0}));
  at::Tensor mean;
  for (size_t s = 0; s < parts.size(); ++s) {
    const at::Tensor term =
        parts[s][j] * (static_cast<double>(rows[s]) / total);
    mean = mean.defined() ? mean + term : term;
  }
  return mean;
}

}  // namespace proxflow::core
