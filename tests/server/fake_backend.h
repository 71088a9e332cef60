// FakeBackend: a deterministic TrainingBackend for server tests (no LibTorch).
//
// A run counts iterations and calls the hooks on the same schedule as
// core::Trainer::Run; evaluations report "sinkhorn" = EvalMetric(iteration).
// Checkpoints are "fake-ckpt:<iteration>\n<resolved config, binary>".
// Behaviour per test: diverge at an iteration, or hold at an iteration until
// Release() (so a test can act mid-run without sleeping). Thread-safe.
#ifndef PROXFLOW_TESTS_SERVER_FAKE_BACKEND_H_
#define PROXFLOW_TESTS_SERVER_FAKE_BACKEND_H_

#include <atomic>
#include <cmath>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "server/training_backend.h"

namespace proxflow::server::testing {

class FakeBackend : public TrainingBackend {
 public:
  // Runs diverge (metric "critic_loss" NaN) at this iteration; 0 never.
  void DivergeAt(int64_t iteration) { diverge_at_ = iteration; }
  // Runs stop before this iteration until Release(); 0 never.
  void HoldAt(int64_t iteration) {
    absl::MutexLock lock(&mu_);
    hold_at_ = iteration;
    released_ = false;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    released_ = true;
  }
  // The "sinkhorn" value evaluations report at an iteration (default 1/it:
  // every evaluation is the best so far).
  void SetEvalMetric(std::function<double(int64_t)> f) {
    absl::MutexLock lock(&mu_);
    eval_metric_ = std::move(f);
  }
  double EvalMetric(int64_t iteration) {
    absl::MutexLock lock(&mu_);
    return eval_metric_ ? eval_metric_(iteration) : 1.0 / iteration;
  }
  int starts() const { return starts_; }
  // The init_checkpoint of the last fine-tuning Start().
  std::string last_init() {
    absl::MutexLock lock(&mu_);
    return last_init_;
  }
  int resumes() const { return resumes_; }

  absl::StatusOr<std::unique_ptr<TrainingRun>> Start(
      const core::TrainOptions& options, const core::RuntimeOptions& runtime,
      absl::string_view init_checkpoint) override {
    if (!init_checkpoint.empty()) {
      absl::StatusOr<core::CheckpointSummary> init = Inspect(init_checkpoint);
      if (!init.ok()) return init.status();
      absl::MutexLock lock(&mu_);
      last_init_ = std::string(init_checkpoint);
    }
    ++starts_;
    return std::unique_ptr<TrainingRun>(new FakeRun(this, options, runtime, 0));
  }

  absl::StatusOr<std::unique_ptr<TrainingRun>> Resume(
      absl::string_view checkpoint,
      const core::RuntimeOptions& runtime) override;

  absl::StatusOr<core::CheckpointSummary> Inspect(
      absl::string_view checkpoint) override;
  std::string LibTorchVersion() const override { return "fake-torch"; }

  // The options of the last Start(): Resume() needs them (a real checkpoint
  // carries its config).
  core::TrainOptions last_options() {
    absl::MutexLock lock(&mu_);
    return last_options_;
  }
  // The runtime of the last Start() or Resume() (e.g. the catalog's MNIST).
  core::RuntimeOptions last_runtime() {
    absl::MutexLock lock(&mu_);
    return last_runtime_;
  }

 private:
  class FakeRun : public TrainingRun {
   public:
    FakeRun(FakeBackend* backend, core::TrainOptions options,
            core::RuntimeOptions runtime, int64_t start)
        : backend_(backend),
          options_(std::move(options)),
          runtime_(std::move(runtime)),
          iteration_(start) {
      absl::MutexLock lock(&backend_->mu_);
      backend_->last_options_ = options_;
      backend_->last_runtime_ = runtime_;
    }

    absl::StatusOr<core::RunResult> Run(
        const core::RunHooks& hooks, const std::atomic<bool>* cancel) override;
    absl::StatusOr<std::string> SerializeCheckpoint() const override {
      return absl::StrCat("fake-ckpt:", iteration_, "\n",
                          options_.resolved_config.SerializeAsString());
    }
    int64_t iteration() const override { return iteration_; }
    std::string device() const override { return runtime_.device; }

   private:
    FakeBackend* const backend_;
    const core::TrainOptions options_;
    const core::RuntimeOptions runtime_;
    int64_t iteration_;
  };

  // Blocks while a hold at `iteration` is in force, until Release() or
  // `cancel` (polled: the flag is an atomic that cannot signal the mutex).
  void MaybeHold(int64_t iteration, const std::atomic<bool>* cancel) {
    absl::MutexLock lock(&mu_);
    while (hold_at_ == iteration && !released_ &&
           !(cancel != nullptr && cancel->load())) {
      mu_.AwaitWithTimeout(absl::Condition(&released_), absl::Milliseconds(5));
    }
  }

  std::atomic<int64_t> diverge_at_{0};
  std::atomic<int> starts_{0};
  std::atomic<int> resumes_{0};
  absl::Mutex mu_;
  int64_t hold_at_ ABSL_GUARDED_BY(mu_) = 0;
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  core::TrainOptions last_options_ ABSL_GUARDED_BY(mu_);
  core::RuntimeOptions last_runtime_ ABSL_GUARDED_BY(mu_);
  std::function<double(int64_t)> eval_metric_ ABSL_GUARDED_BY(mu_);
  std::string last_init_ ABSL_GUARDED_BY(mu_);
};

inline absl::StatusOr<core::CheckpointSummary> FakeBackend::Inspect(
    absl::string_view checkpoint) {
  core::CheckpointSummary summary;
  absl::string_view rest = checkpoint;
  const bool prefixed = absl::ConsumePrefix(&rest, "fake-ckpt:");
  const size_t newline = rest.find('\n');
  if (!prefixed || newline == absl::string_view::npos ||
      !absl::SimpleAtoi(rest.substr(0, newline), &summary.iteration) ||
      !summary.config.ParseFromString(std::string(rest.substr(newline + 1)))) {
    return absl::InvalidArgumentError("not a fake checkpoint");
  }
  summary.torch_version = "fake-torch";
  return summary;
}

inline absl::StatusOr<std::unique_ptr<TrainingRun>> FakeBackend::Resume(
    absl::string_view checkpoint, const core::RuntimeOptions& runtime) {
  absl::StatusOr<core::CheckpointSummary> summary = Inspect(checkpoint);
  if (!summary.ok()) return summary.status();
  const int64_t step = summary->iteration;
  ++resumes_;
  return std::unique_ptr<TrainingRun>(
      new FakeRun(this, last_options(), runtime, step));
}

inline absl::StatusOr<core::RunResult> FakeBackend::FakeRun::Run(
    const core::RunHooks& hooks, const std::atomic<bool>* cancel) {
  const core::TrainOptions& o = options_;
  core::RunResult result;
  while (iteration_ < o.iterations) {
    backend_->MaybeHold(iteration_ + 1, cancel);
    if (cancel != nullptr && cancel->load()) {
      if (hooks.on_checkpoint) {
        if (absl::Status s = hooks.on_checkpoint(iteration_); !s.ok()) return s;
      }
      result.outcome = core::RunOutcome::kCancelled;
      result.iteration = iteration_;
      return result;
    }
    const int64_t it = ++iteration_;
    core::Metrics m;
    m.iteration = it;
    const bool diverged = backend_->diverge_at_ == it;
    m.values = {{"critic_loss", diverged ? std::nan("") : 1.0 / it},
                {"kinetic_energy", 0.5}};
    if (diverged) {
      result.outcome = core::RunOutcome::kDiverged;
      result.iteration = it;
      result.reason =
          absl::StrCat("diverged at iteration ", it, ": critic_loss is nan");
      return result;
    }
    if (hooks.on_log && (it % o.log_interval == 0 || it == o.iterations))
      hooks.on_log(m);
    if (hooks.on_eval && o.eval_interval > 0 &&
        (it % o.eval_interval == 0 || it == o.iterations)) {
      core::Metrics e;
      e.iteration = it;
      e.values = {{"sinkhorn", backend_->EvalMetric(it)}};
      hooks.on_eval(e);
    }
    if (hooks.on_checkpoint && o.checkpoint_interval > 0 &&
        (it % o.checkpoint_interval == 0 || it == o.iterations)) {
      if (absl::Status s = hooks.on_checkpoint(it); !s.ok()) return s;
    }
  }
  result.iteration = iteration_;
  return result;
}

}  // namespace proxflow::server::testing

#endif  // PROXFLOW_TESTS_SERVER_FAKE_BACKEND_H_
