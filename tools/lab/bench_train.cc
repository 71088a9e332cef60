#include "tools/lab/bench_train.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/status_macros.h"
#include "core/options_resolver.h"
#include "core/trainer.h"
#include "tools/lab/lab_common.h"
#include "tools/lab/spread.h"

namespace proxflow::lab {

absl::Status RunBenchTrain(const BenchTrainCommand& command) {
  if (command.iterations < 1 || command.repeats < 1 || command.warmup < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bench: --iterations and --repeats must be >= 1 and "
        "--warmup >= 0, got ",
        command.iterations, ", ", command.repeats, ", ", command.warmup));
  }
  PROXFLOW_ASSIGN_OR_RETURN(auto trainer,
                            BenchTrainer(command.preset, command.mnist_dir,
                                         command.device, command.precision));
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
  const Spread rate = SpreadOf(rates);
  std::printf(
      "{\"implementation\": \"proxflow\", \"preset\": \"%s\", \"device\": "
      "\"%s\", \"precision\": \"%s\", "
      "\"threads\": %d, \"iterations_per_second_median\": %.3f, \"min\": %.3f, "
      "\"max\": %.3f, "
      "\"repeats\": %d, \"peak_rss_mib\": %.1f}\n",
      command.preset.c_str(), trainer->device().c_str(),
      trainer->precision().c_str(), command.threads, rate.median, rate.min,
      rate.max, command.repeats, PeakResidentMiB());
  return absl::OkStatus();
}

}  // namespace proxflow::lab
