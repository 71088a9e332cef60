// FakeSamplingBackend: a deterministic SamplingBackend for server tests (no
// LibTorch). Loads FakeBackend checkpoints ("fake-ckpt:<it>\n<config>"). A
// row's value after k steps is FakeValue(seed, j, k) for coordinate j, so
// tests can predict every byte. Steps can be held (HoldSteps) so that a test
// acts between two steps without sleeping; every step and batch size is
// counted. Thread-safe.
#ifndef PROXFLOW_TESTS_SERVER_FAKE_SAMPLING_BACKEND_H_
#define PROXFLOW_TESTS_SERVER_FAKE_SAMPLING_BACKEND_H_

#include <atomic>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "core/options_resolver.h"
#include "server/sampling/sampling_backend.h"

namespace proxflow::server::testing {

// In [0, 1) for image-sized models, spread over [-2, 2) for points.
inline float FakeValue(uint64_t seed, int64_t j, int step) {
  const double v = std::fmod(static_cast<double>(seed % 9973) * 0.0137 +
                                 static_cast<double>(j) * 0.0071 + step * 0.031,
                             1.0);
  return static_cast<float>(v);
}

class FakeSamplingBackend : public SamplingBackend {
 public:
  // Steps numbered > `step` (1-based within a run) wait until ReleaseSteps().
  void HoldStepsAfter(int step) {
    absl::MutexLock lock(&mu_);
    hold_after_ = step;
  }
  void ReleaseSteps() {
    absl::MutexLock lock(&mu_);
    hold_after_ = -1;
  }
  // Blocks until a run waits at the hold before step `step` (any step when
  // 0), or `deadline`; true if one does.
  bool AwaitHeld(absl::Time deadline, int step = 0) {
    absl::MutexLock lock(&mu_);
    auto held = [this, step]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return waiting_step_ != 0 && (step == 0 || waiting_step_ == step);
    };
    return mu_.AwaitWithDeadline(absl::Condition(&held), deadline);
  }
  void FailLoads(bool fail) { fail_loads_ = fail; }
  int loads() const { return loads_; }
  int64_t steps() const { return steps_; }
  std::vector<int64_t> batch_rows() {
    absl::MutexLock lock(&mu_);
    return batch_rows_;
  }

  absl::StatusOr<std::unique_ptr<LoadedFlow>> Load(
      absl::string_view checkpoint, const std::string& device) override {
    absl::string_view rest = checkpoint;
    proxflow::v1::TrainingConfig config;
    const size_t newline = rest.find('\n');
    if (fail_loads_ || !absl::ConsumePrefix(&rest, "fake-ckpt:") ||
        newline == absl::string_view::npos ||
        !config.ParseFromString(std::string(checkpoint.substr(newline + 1)))) {
      return absl::InvalidArgumentError("not a fake checkpoint");
    }
    absl::StatusOr<core::TrainOptions> options =
        core::ResolveTrainOptions(config);
    if (!options.ok()) return options.status();
    ++loads_;
    return std::unique_ptr<LoadedFlow>(
        new Flow(this, *std::move(options), device));
  }

 private:
  class Run : public IntegrationRun {
   public:
    Run(FakeSamplingBackend* backend, std::vector<uint64_t> seeds, int steps,
        int dimension)
        : backend_(backend),
          seeds_(std::move(seeds)),
          steps_(steps),
          dimension_(dimension) {}
    absl::Status Step() override {
      if (done_ >= steps_) return absl::FailedPreconditionError("done");
      backend_->MaybeHold(done_ + 1);
      ++done_;
      ++backend_->steps_;
      return absl::OkStatus();
    }
    absl::Status KeepRows(const std::vector<int64_t>& rows) override {
      std::vector<uint64_t> kept;
      for (int64_t r : rows) kept.push_back(seeds_.at(r));
      seeds_ = std::move(kept);
      return absl::OkStatus();
    }
    absl::StatusOr<core::PointSamples> Points() const override {
      core::PointSamples p;
      p.n = static_cast<int64_t>(seeds_.size());
      p.dimension = dimension_;
      for (uint64_t seed : seeds_)
        for (int j = 0; j < dimension_; ++j)
          p.values.push_back(FakeValue(seed, j, done_));
      return p;
    }

   private:
    FakeSamplingBackend* const backend_;
    std::vector<uint64_t> seeds_;
    const int steps_;
    const int dimension_;
    int done_ = 0;
  };

  class Flow : public LoadedFlow {
   public:
    Flow(FakeSamplingBackend* backend, core::TrainOptions options,
         std::string device)
        : backend_(backend),
          options_(std::move(options)),
          device_(std::move(device)) {}
    absl::StatusOr<std::unique_ptr<IntegrationRun>> Start(
        const std::vector<uint64_t>& seeds, core::Solver /*solver*/,
        int steps) override {
      {
        absl::MutexLock lock(&backend_->mu_);
        backend_->batch_rows_.push_back(static_cast<int64_t>(seeds.size()));
      }
      return std::unique_ptr<IntegrationRun>(
          new Run(backend_, seeds, steps, options_.dataset.dimension));
    }
    int64_t parameter_bytes() const override { return 1000; }
    std::string device() const override { return device_; }

   private:
    FakeSamplingBackend* const backend_;
    const core::TrainOptions options_;
    const std::string device_;
  };

  void MaybeHold(int step) {
    absl::MutexLock lock(&mu_);
    auto released = [this, step]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return hold_after_ < 0 || step <= hold_after_;
    };
    if (released()) return;
    waiting_step_ = step;
    mu_.Await(absl::Condition(&released));
    if (waiting_step_ == step) waiting_step_ = 0;
  }

  std::atomic<bool> fail_loads_{false};
  std::atomic<int> loads_{0};
  std::atomic<int64_t> steps_{0};
  absl::Mutex mu_;
  int hold_after_ ABSL_GUARDED_BY(mu_) = -1;
  int waiting_step_ ABSL_GUARDED_BY(mu_) = 0;  // a run waits before it
  std::vector<int64_t> batch_rows_ ABSL_GUARDED_BY(mu_);
};

}  // namespace proxflow::server::testing

#endif  // PROXFLOW_TESTS_SERVER_FAKE_SAMPLING_BACKEND_H_
