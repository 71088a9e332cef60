// The data-parallel gradient (core/sharded_backward.h): any shard count gives
// the one-graph gradient up to float rounding, a given count gives the same
// bits every time, and parameters the loss does not reach end as after
// zero_grad() + backward().
#include "core/sharded_backward.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/autograd.h>

#include <vector>

#include "core/team_tasks.h"

namespace proxflow::core {
namespace {

// A loss that is not a sum over rows: log-mean-exp of a per-row score (the
// Donsker–Varadhan form) plus the root of a sum of squares (the terminal
// residual's form), a parameter used by the combine alone, and one unused.
struct Problem {
  at::Tensor x, w, b, shift, unused;
  std::vector<at::Tensor> params() const { return {w, b, shift, unused}; }
};

Problem MakeProblem() {
  at::manual_seed(3);
  Problem p;
  p.x = at::randn({37, 5});
  p.w = at::randn({5, 4}).requires_grad_(true);
  p.b = at::randn({4}).requires_grad_(true);
  p.shift = at::randn({}).requires_grad_(true);
  p.unused = at::randn({3}).requires_grad_(true);
  return p;
}

at::Tensor ShardedLoss(const Problem& p, int64_t shards) {
  return ShardedBackward(
      shards, p.params(),
      [&](int64_t s) -> std::vector<at::Tensor> {
        const Span span = EvenSpan(p.x.size(0), shards, s);
        const at::Tensor h = at::tanh(
            at::matmul(p.x.narrow(0, span.begin, span.size), p.w) + p.b);
        return {h.sum(1), h.square().sum(), at::Tensor()};
      },
      [&](const ShardParts& parts) {
        at::Tensor squares = parts[0][1];
        for (size_t s = 1; s < parts.size(); ++s)
          squares = squares + parts[s][1];
        EXPECT_FALSE(parts[0][2].defined());
        return at::logsumexp(JoinedPart(parts, 0), 0) +
               squares.sqrt() * p.shift;
      });
}

std::vector<at::Tensor> Grads(const Problem& p) {
  std::vector<at::Tensor> g;
  for (const at::Tensor& t : p.params())
    g.push_back(t.grad().defined() ? t.grad().clone() : at::Tensor());
  return g;
}

TEST(ShardedBackward, AnyShardCountGivesTheOneGraphGradient) {
  const Problem p = MakeProblem();
  // The reference: one graph, backward() as the optimisers see it.
  {
    const at::Tensor h = at::tanh(at::matmul(p.x, p.w) + p.b);
    (at::logsumexp(h.sum(1), 0) + h.square().sum().sqrt() * p.shift).backward();
  }
  const std::vector<at::Tensor> expected = Grads(p);
  ASSERT_FALSE(expected[3].defined());
  for (const int64_t shards : {1, 2, 3, 5}) {
    for (const at::Tensor& t : p.params()) {
      if (t.grad().defined()) const_cast<at::Tensor&>(t).mutable_grad().zero_();
    }
    ShardedLoss(p, shards);
    const std::vector<at::Tensor> got = Grads(p);
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_TRUE(at::allclose(got[i], expected[i], 1e-5, 1e-6))
          << "parameter " << i << " with " << shards << " shards: max diff "
          << (got[i] - expected[i]).abs().max().item<float>();
    }
    if (shards == 1) {
      for (size_t i = 0; i < 3; ++i)
        EXPECT_TRUE(at::equal(got[i], expected[i]));
    }
    EXPECT_FALSE(p.unused.grad().defined());  // never reached: stays undefined
  }
}

TEST(ShardedBackward, AGivenShardCountGivesTheSameBitsOnAnyThreadCount) {
  const Problem p = MakeProblem();
  const int threads = at::get_num_threads();
  std::vector<at::Tensor> first;
  for (const int t : {1, 2, 3}) {
    at::set_num_threads(t);
    ShardedLoss(p, 3);
    const std::vector<at::Tensor> got = Grads(p);
    if (first.empty()) {
      first = got;
      continue;
    }
    for (size_t i = 0; i < 3; ++i)
      EXPECT_TRUE(at::equal(got[i], first[i]))
          << "parameter " << i << ", " << t << " threads";
  }
  at::set_num_threads(threads);
}

TEST(ShardedBackward, AZeroedGradientOfAnUnreachedParameterStaysZero) {
  const Problem p = MakeProblem();
  const_cast<at::Tensor&>(p.unused).mutable_grad() = at::ones({3});
  ShardedLoss(p, 2);
  ASSERT_TRUE(p.unused.grad().defined());
  EXPECT_TRUE(at::equal(p.unused.grad(), at::zeros({3})));
}

TEST(ShardedBackward, AShardsExceptionReachesTheCaller) {
  const Problem p = MakeProblem();
  EXPECT_THROW(ShardedBackward(
                   2, p.params(),
                   [&](int64_t s) -> std::vector<at::Tensor> {
                     if (s == 1) TORCH_CHECK(false, "shard 1 fails");
                     return {at::matmul(p.x, p.w).sum()};
                   },
                   [&](const ShardParts& parts) { return parts[0][0]; }),
               c10::Error);
}

TEST(TeamTasks, EveryTaskRunsOnceWithTheCallersGradMode) {
  std::vector<int> runs(7, 0);
  std::vector<int> grad_enabled(7, -1);
  {
    torch::NoGradGuard no_grad;
    RunTeamTasks(7, [&](int64_t i) {
      ++runs[i];
      grad_enabled[i] = at::GradMode::is_enabled() ? 1 : 0;
      // Inside a task, nested parallelism is serial.
      EXPECT_FALSE(at::get_num_threads() > 1 && !at::in_parallel_region());
    });
  }
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(runs[i], 1) << "task " << i;
    EXPECT_EQ(grad_enabled[i], 0) << "task " << i;
  }
}

TEST(TeamTasks, EvenSpansCoverTheItemsInOrder) {
  int64_t next = 0;
  for (int64_t part = 0; part < 4; ++part) {
    const Span s = EvenSpan(10, 4, part);
    EXPECT_EQ(s.begin, next);
    EXPECT_EQ(s.size, part < 2 ? 3 : 2);
    next += s.size;
  }
  EXPECT_EQ(next, 10);
}

}  // namespace
}  // namespace proxflow::core
