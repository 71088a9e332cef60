// A small, fast toy training run for core tests: the toy-2d preset with pools
// of 1,000, batch 64, seed 42, no evaluations or checkpoints by schedule, and
// a trainer built from it on the CPU (failures are reported as test failures).
#ifndef PROXFLOW_TESTS_TESTING_SMALL_TRAINER_H_
#define PROXFLOW_TESTS_TESTING_SMALL_TRAINER_H_

#include <gtest/gtest.h>

#include <memory>

#include "core/options_resolver.h"
#include "core/trainer.h"
#include "proxflow/v1/config.pb.h"

namespace proxflow::testing {

inline proxflow::v1::TrainingConfig SmallToyConfig(int64_t iterations) {
  proxflow::v1::TrainingConfig c;
  c.set_iterations(iterations);
  c.set_batch_size(64);
  c.set_seed(42);
  c.mutable_dataset()->set_pool_size(1000);
  c.mutable_source()->set_pool_size(1000);
  c.set_eval_interval(0);
  c.set_eval_batch_size(256);
  c.set_checkpoint_interval(0);
  c.set_log_interval(1);
  return c;
}

inline std::unique_ptr<core::Trainer> MakeSmallTrainer(
    const proxflow::v1::TrainingConfig& c) {
  auto options = core::ResolveTrainOptions(c);
  EXPECT_TRUE(options.ok()) << options.status();
  if (!options.ok()) return nullptr;
  auto trainer = core::Trainer::Create(*options, {"cpu", ""});
  EXPECT_TRUE(trainer.ok()) << trainer.status();
  if (!trainer.ok()) return nullptr;
  return std::move(trainer).value();
}

}  // namespace proxflow::testing

#endif  // PROXFLOW_TESTS_TESTING_SMALL_TRAINER_H_
