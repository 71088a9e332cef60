// Data parallelism for one optimiser step on the CPU: the rows of a batch cut
// into shards, each shard's forward and backward pass a task of one OpenMP
// team (core/team_tasks.h), the parameters' gradients summed over the shards.
// Internal to core (the trainer's critic and generator steps).
//
// A loss that is not a sum over rows (the Donsker–Varadhan log-mean-exp, the
// terminal residual's Frobenius norm) still shards: each shard returns its
// parts (per-row values, per-shard means or norms), `combine` builds the loss
// from all of them on the calling thread, and the gradient flows back into
// each shard's graph from there.
#ifndef PROXFLOW_CORE_SHARDED_BACKWARD_H_
#define PROXFLOW_CORE_SHARDED_BACKWARD_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace proxflow::core {

// parts[s][j]: the j-th tensor shard s's forward returned (undefined tensors
// are passed through as they are).
using ShardParts = std::vector<std::vector<at::Tensor>>;

// Sets the .grad of every tensor of `params` to ∂loss/∂param, loss =
// combine(parts), parts[s] = forward(s) for s in [0, shards), as
// optimizer.zero_grad() followed by loss.backward() would: a parameter the
// loss does not reach keeps an undefined .grad, or a zeroed one if it had one.
// Returns the loss (detached).
//
// With one shard everything runs on the caller through one graph: the same
// operations, and so the same bits, as combine({forward(0)}).backward(). With
// more, forward(s) and the backward pass through it run as task s of a team;
// combine runs on the caller over detached copies of the parts (leaves that
// require grad wherever the part did) and may also use params directly; each
// gradient is the sum of combine's and the shards' in shard order, so a run
// is deterministic for a given shard count (its bits depend on that count).
// forward must be safe to call concurrently for different shards, and must
// build each shard's graph on the thread it runs on (core/team_tasks.h: a
// graph built on two threads is summed in a history-dependent order). With
// `forward_on_caller`, every forward(s) runs on the calling thread, in shard
// order, and only the backward passes run as tasks: for parts that extend
// graphs the caller began (rollouts built beside other work).
at::Tensor ShardedBackward(
    int64_t shards, const std::vector<at::Tensor>& params,
    const std::function<std::vector<at::Tensor>(int64_t shard)>& forward,
    const std::function<at::Tensor(const ShardParts& parts)>& combine,
    bool forward_on_caller = false);

// The parts number j of every shard as one tensor along dimension 0 (the
// shard's own tensor when there is one shard).
at::Tensor JoinedPart(const ShardParts& parts, size_t j);

// Σ_s (rows_s / Σ rows) · parts[s][j]: the batch mean from per-shard means
// (parts[0][j] itself when there is one shard; undefined when it is).
at::Tensor RowWeightedMean(const ShardParts& parts, size_t j,
                           const std::vector<int64_t>& rows);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_SHARDED_BACKWARD_H_
