#include "tools/lab/bench_train.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "core/base/status_macros.h"
#include "core/options_resolver.h"
#include "core/trainer.h"

namespace proxflow::lab {

absl::Status RunBenchTrain(const BenchTrainCommand& command) {
  if (command.iterations < 1 || command.repeats < 1 || command.warmup < 0) {
    return absl::InvalidArgumentError(
        "bench: --iterations and --repeats must be >= 1");
  }
  proxflow::v1::TrainingConfig config;
  config.set_preset(command.preset);
  config.set_eval_interval(0);
  config.set_checkpoint_interval(0);
  PROXFLOW_ASSIGN_OR_RETURN(core::TrainOptions options,
                            core::ResolveTrainOptions(config));
  PROXFLOW_ASSIGN_OR_RETURN(
      auto trainer, core::Trainer::Create(options, {command.device, ""}));
  for (int i = 0; i < command.warmup; ++i)
    PROXFLOW_RETURN_IF_ERROR(trainer->Step().status());
  std::vector<double> rates;
  for (int r = 0; r < command.repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < command.iterations; ++i) {
      PROXFLOW_RETURN_IF_ERROR(trainer->Step().status());
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    rates.push_back(command.iterations / seconds);
  }
  std::vector<double> sorted = rates;
  std::sort(sorted.begin(), sorted.end());
  std::printf(
      "{\"implementation\": \"proxflow\", \"preset\": \"%s\", \"device\": "
      "\"%s\", "
      "\"threads\": %d, \"iterations_per_second_median\": %.3f, \"min\": %.3f, "
      "\"max\": %.3f, "
      "\"repeats\": %d}\n",
      command.preset.c_str(), trainer->device().c_str(), command.threads,
      sorted[sorted.size() / 2], sorted.front(), sorted.back(),
      command.repeats);
  return absl::OkStatus();
}

}  // namespace proxflow::lab
