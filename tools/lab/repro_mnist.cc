#include "tools/lab/repro_mnist.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/base/file_util.h"
#include "core/base/status_macros.h"
#include "core/datasets.h"
#include "core/image/grid.h"
#include "core/mnist_quality.h"
#include "core/options_resolver.h"
#include "core/torch_fence.h"
#include "core/trainer.h"
#include "tools/lab/lab_common.h"
#include "tools/lab/repro_report.h"
#include "tools/lab/repro_run.h"

namespace proxflow::lab {
namespace {

namespace pb = ::proxflow::v1;

constexpr int64_t kTrainingPool = 6000;  // images 0..5999; held out: the rest
constexpr int kGridImages = 64;

// Everything a generated set is compared with.
struct Reference {
  std::unique_ptr<core::MnistClassifier> classifier;
  at::Tensor held_out_features;
};

struct Quality {
  double frechet = NAN;
  double kid = NAN;
  core::Coverage coverage;
};

// The figures of `images` as a user sees them (core::ViewableImages, as the
// class monitor reads them); all NaN when a pixel is not finite (a diverged
// flow is not measured).
absl::StatusOr<Quality> Measure(Reference& ref, const at::Tensor& raw) {
  PROXFLOW_ASSIGN_OR_RETURN(
      const bool finite, core::Fence("MNIST quality", [&] {
        return absl::StatusOr<bool>(at::isfinite(raw).all().item<bool>());
      }));
  if (!finite) return Quality();
  PROXFLOW_ASSIGN_OR_RETURN(at::Tensor images, core::ViewableImages(raw));
  PROXFLOW_ASSIGN_OR_RETURN(at::Tensor features,
                            ref.classifier->Features(images));
  PROXFLOW_ASSIGN_OR_RETURN(at::Tensor probabilities,
                            ref.classifier->Probabilities(images));
  return core::Fence("MNIST quality", [&]() -> absl::StatusOr<Quality> {
    Quality q;
    q.frechet = core::FrechetDistance(features, ref.held_out_features);
    q.kid = core::KernelDistance(features, ref.held_out_features, 10, 1000, 0);
    q.coverage = core::ClassCoverage(probabilities);
    return q;
  });
}

absl::Status WriteGrid(const std::string& path, const at::Tensor& images) {
  PROXFLOW_ASSIGN_OR_RETURN(
      std::vector<std::vector<uint8_t>> tiles,
      core::Fence("grid pixels",
                  [&]() -> absl::StatusOr<std::vector<std::vector<uint8_t>>> {
                    const at::Tensor x =
                        images
                            .narrow(
                                0, 0,
                                std::min<int64_t>(kGridImages, images.size(0)))
                            .contiguous()
                            .cpu();
                    std::vector<std::vector<uint8_t>> out(x.size(0));
                    const float* p = x.data_ptr<float>();
                    for (int64_t i = 0; i < x.size(0); ++i) {
                      for (int64_t k = 0; k < 784; ++k)
                        out[i].push_back(image::QuantizePixel(p[i * 784 + k]));
                    }
                    return out;
                  }));
  image::GridOptions options;
  options.columns = 8;
  PROXFLOW_ASSIGN_OR_RETURN(std::string png,
                            image::TileGrayGrid(tiles, 28, 28, options));
  return WriteFileAtomically(path, png);
}

void Record(const Quality& q, RunRecord& r) {
  r.frechet = q.frechet;
  r.kid = q.kid;
  r.classes_covered = q.coverage.classes_covered;
  r.confidence = q.coverage.mean_confidence;
  r.class_counts.assign(q.coverage.counts.begin(), q.coverage.counts.end());
}

}  // namespace

absl::Status RunReproMnist(const ReproMnistCommand& command,
                           const std::atomic<bool>* cancel) {
  if (command.mnist_dir.empty()) {
    return absl::InvalidArgumentError(
        "--mnist_dir (or PROXFLOW_MNIST_DIR) must name the MNIST directory");
  }
  if (command.eval_samples < 100 || command.eval_samples > 20000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--eval_samples must be in [100, 20000], got ", command.eval_samples));
  }
  std::vector<pb::TrainingConfig> configs;
  if (command.seeds.empty())
    return absl::InvalidArgumentError("--seeds: no seed given");
  for (const std::string& method : command.methods) {
    for (uint64_t seed : command.seeds) {
      pb::TrainingConfig c;
      c.set_preset("mnist");
      if (command.iterations > 0) c.set_iterations(command.iterations);
      c.set_seed(seed);
      c.set_log_interval(std::max<int64_t>(1, command.iterations / 20));
      c.set_checkpoint_interval(0);
      c.set_eval_interval(command.eval_interval);
      PROXFLOW_RETURN_IF_ERROR(
          ApplyPatchAndMethod(command.config_patch, method, c));
      PROXFLOW_RETURN_IF_ERROR(core::ResolveTrainOptions(c).status());
      configs.push_back(std::move(c));
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(command.out_dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat(command.out_dir, ": ", ec.message()));
  }

  // The classifier and the reference sets.
  PROXFLOW_ASSIGN_OR_RETURN(core::MnistImages mnist,
                            core::LoadMnist(command.mnist_dir));
  const int64_t total = mnist.images.size(0);
  if (total < kTrainingPool + 1000) {
    return absl::FailedPreconditionError(absl::StrCat(
        command.mnist_dir, " holds ", total,
        " images; the MNIST study needs at least 7000 (pool 0..5999, "
        "held-out from 6000)"));
  }
  const int64_t held_out_end = std::min<int64_t>(total, 10000);
  const at::Tensor train_x = mnist.images.narrow(0, 0, kTrainingPool);
  const at::Tensor train_y = mnist.labels.narrow(0, 0, kTrainingPool);
  const at::Tensor held_x =
      mnist.images.narrow(0, kTrainingPool, held_out_end - kTrainingPool);
  const at::Tensor held_y =
      mnist.labels.narrow(0, kTrainingPool, held_out_end - kTrainingPool);
  core::ClassifierOptions classifier_options;
  classifier_options.epochs = command.classifier_epochs;
  classifier_options.device = command.device;
  const std::string cache_dir =
      command.cache_dir.empty()
          ? absl::StrCat(command.out_dir, "/../.classifier-cache")
          : command.cache_dir;
  bool cached = false;
  const Stopwatch classifier_clock;
  Reference ref;
  PROXFLOW_ASSIGN_OR_RETURN(
      ref.classifier,
      core::TrainOrLoadClassifier(train_x, train_y, classifier_options,
                                  cache_dir, &cached));
  PROXFLOW_ASSIGN_OR_RETURN(double accuracy,
                            ref.classifier->Accuracy(held_x, held_y));
  PROXFLOW_ASSIGN_OR_RETURN(ref.held_out_features,
                            ref.classifier->Features(held_x));
  std::fprintf(stderr,
               "classifier (%s): %s in %s, held-out accuracy %.4f on %lld "
               "images\n",
               core::ClassifierRecipe(classifier_options).c_str(),
               cached ? "loaded from cache" : "trained",
               FormatDuration(classifier_clock.Seconds()).c_str(), accuracy,
               static_cast<long long>(held_x.size(0)));

  Report report{"W1⊕W2 ablation on MNIST", command.command_line, {}, {}, true};
  report.notes.push_back(absl::StrFormat(
      "Classifier %s (%s): held-out accuracy %.4f on images %lld..%lld.",
      core::ClassifierRecipe(classifier_options),
      cached ? "weights from the cache" : "trained in this run", accuracy,
      static_cast<long long>(kTrainingPool),
      static_cast<long long>(held_out_end - 1)));
  // The floor with as many images as a generated set: the estimates are biased
  // by the sample size.
  const int64_t floor_n =
      std::min<int64_t>(command.eval_samples, kTrainingPool);
  PROXFLOW_ASSIGN_OR_RETURN(Quality floor,
                            Measure(ref, train_x.narrow(0, 0, floor_n)));
  report.notes.push_back(absl::StrFormat(
      "Floor (training pool, first %lld images, vs held-out pool): Fréchet "
      "%.3f, KID "
      "%.4f, classes covered %d, confidence %.3f.",
      static_cast<long long>(floor_n), floor.frechet, floor.kid,
      floor.coverage.classes_covered, floor.coverage.mean_confidence));

  size_t index = 0;
  bool ceiling_done = false;
  for (size_t k = 0; k < configs.size(); ++k) {
    const std::string& method = command.methods[k / command.seeds.size()];
    const uint64_t seed = command.seeds[k % command.seeds.size()];
    if (cancel != nullptr && cancel->load())
      return WriteReport(command.out_dir, report);
    RunRecord r;
    core::RuntimeOptions runtime;
    runtime.device = command.device;
    runtime.precision = command.precision;
    // As a server does: the directory is this machine's fact, so neither the
    // report's configs nor a saved checkpoint carry a local path.
    runtime.mnist_dir = command.mnist_dir;
    // The class monitor reads the same classifier as the study's figures.
    runtime.classifier_cache_dir = cache_dir;
    runtime.classifier_epochs = command.classifier_epochs;
    PROXFLOW_ASSIGN_OR_RETURN(
        auto trainer,
        StartRecordedRun(configs[index++], method, "mnist", runtime, r));
    if (!ceiling_done) {  // source noise vs held-out: the same for all methods
      std::vector<uint64_t> seeds(command.eval_samples);
      std::iota(seeds.begin(), seeds.end(), uint64_t{1});
      PROXFLOW_ASSIGN_OR_RETURN(core::PointSamples noise,
                                trainer->SourcePoints(seeds));
      PROXFLOW_ASSIGN_OR_RETURN(Quality ceiling, Measure(ref, ToTensor(noise)));
      report.notes.push_back(absl::StrFormat(
          "Ceiling (%d source draws vs held-out pool): Fréchet %.3f, KID %.4f, "
          "classes covered %d, confidence %.3f.",
          command.eval_samples, ceiling.frechet, ceiling.kid,
          ceiling.coverage.classes_covered, ceiling.coverage.mean_confidence));
      ceiling_done = true;
    }
    const std::string label = absl::StrCat(
        "[", index, "/", configs.size(), " ", method, " mnist",
        command.seeds.size() > 1 ? absl::StrCat(" seed ", seed) : std::string(),
        "]");
    const std::string stem =
        RunStem(method, "mnist", seed, command.seeds.size());
    const bool measurable = TrainRecorded(*trainer, label, cancel, r);
    const absl::Status plotted =
        WriteCurvePlot(command.out_dir, stem + "_curves.png", r);
    if (!plotted.ok()) r.reason = std::string(plotted.message());
    const absl::Status covered =
        WriteCoveragePlot(command.out_dir, stem + "_coverage.png", r);
    if (!covered.ok()) r.reason = std::string(covered.message());
    if (measurable) {
      auto flow = MeasureFlow(*trainer, command.eval_samples, r);
      if (!flow.ok()) {
        r.reason = std::string(flow.status().message());
      } else {
        auto quality = Measure(ref, flow->x1);
        if (quality.ok()) {
          Record(*quality, r);
          r.plot = stem + ".png";
          const absl::Status grid =
              WriteGrid(absl::StrCat(command.out_dir, "/", r.plot), flow->x1);
          if (!grid.ok()) r.reason = std::string(grid.message());
        } else {
          r.reason = std::string(quality.status().message());
        }
      }
    }
    if (command.save_checkpoints && measurable) {
      PROXFLOW_ASSIGN_OR_RETURN(std::string checkpoint,
                                trainer->SerializeCheckpoint());
      PROXFLOW_RETURN_IF_ERROR(WriteFileAtomically(
          absl::StrCat(command.out_dir, "/", stem, ".pxf"), checkpoint));
    }
    report.runs.push_back(std::move(r));
    PROXFLOW_RETURN_IF_ERROR(WriteReport(command.out_dir, report));
  }
  return absl::OkStatus();
}

}  // namespace proxflow::lab
