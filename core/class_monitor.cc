#include "core/class_monitor.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/base/status_macros.h"
#include "core/mnist_quality.h"
#include "core/random_streams.h"
#include "core/torch_fence.h"

namespace proxflow::core {
namespace {

constexpr int64_t kClassifierImages = 6000;  // images 0..5999 (datasets.h)
constexpr int64_t kMinHeldOut = 100;
constexpr int64_t kMaxReference = 10000;
// Stream index of the monitor's seeds, apart from the run's RandomStreams.
constexpr uint64_t kSeedStream = 0x636c617373;  // "class"

}  // namespace

ClassMonitor::~ClassMonitor() = default;

absl::StatusOr<std::unique_ptr<ClassMonitor>> ClassMonitor::Create(
    const MnistImages& mnist, const ClassMonitorOptions& options) {
  if (options.samples < 10) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the class monitor needs at least 10 samples, got ", options.samples));
  }
  for (int label : options.labels) {
    if (label < 0 || label > 9) {
      return absl::InvalidArgumentError(
          absl::StrCat("MNIST labels are digits 0..9, got ", label));
    }
  }
  const int64_t total = mnist.images.size(0);
  if (total < kClassifierImages + 1000) {
    return absl::FailedPreconditionError(absl::StrCat(
        "class coverage needs at least ", kClassifierImages + 1000,
        " MNIST images (classifier on 0..5999, reference from 6000), got ",
        total));
  }
  std::unique_ptr<ClassMonitor> monitor(new ClassMonitor());
  monitor->labels_ = options.labels;
  ClassifierOptions classifier_options;
  classifier_options.device = options.device;
  classifier_options.epochs = options.classifier_epochs;
  bool cached = false;
  PROXFLOW_ASSIGN_OR_RETURN(
      monitor->classifier_,
      TrainOrLoadClassifier(mnist.images.narrow(0, 0, kClassifierImages),
                            mnist.labels.narrow(0, 0, kClassifierImages),
                            classifier_options, options.cache_dir, &cached));
  PROXFLOW_ASSIGN_OR_RETURN(
      at::Tensor reference,
      Fence("class monitor reference", [&]() -> absl::StatusOr<at::Tensor> {
        at::Tensor images = mnist.images.narrow(0, kClassifierImages,
                                                total - kClassifierImages);
        if (!options.labels.empty()) {
          const at::Tensor labels = mnist.labels.narrow(
              0, kClassifierImages, total - kClassifierImages);
          at::Tensor keep = at::zeros_like(labels, at::kBool);
          for (int label : options.labels) keep.logical_or_(labels == label);
          images = images.index({keep});
        }
        return images.narrow(0, 0,
                             std::min<int64_t>(kMaxReference, images.size(0)));
      }));
  if (reference.size(0) < kMinHeldOut) {
    return absl::FailedPreconditionError(
        absl::StrCat("class coverage needs at least ", kMinHeldOut,
                     " held-out MNIST images of the run's classes, got ",
                     reference.size(0)));
  }
  PROXFLOW_ASSIGN_OR_RETURN(monitor->reference_features_,
                            monitor->classifier_->Features(reference));
  const uint64_t base = DeriveSeed(options.seed, kSeedStream);
  monitor->seeds_.reserve(options.samples);
  for (int i = 0; i < options.samples; ++i)
    monitor->seeds_.push_back(DeriveSeed(base, i));
  return monitor;
}

absl::StatusOr<std::vector<std::pair<std::string, double>>>
ClassMonitor::Measure(const at::Tensor& images) {
  PROXFLOW_ASSIGN_OR_RETURN(at::Tensor seen, ViewableImages(images));
  PROXFLOW_ASSIGN_OR_RETURN(at::Tensor probabilities,
                            classifier_->Probabilities(seen));
  PROXFLOW_ASSIGN_OR_RETURN(at::Tensor features, classifier_->Features(seen));
  return Fence(
      "class monitor",
      [&]() -> absl::StatusOr<std::vector<std::pair<std::string, double>>> {
        const Coverage c = ClassCoverage(probabilities);
        return std::vector<std::pair<std::string, double>>{
            {kClassCoverageMetric, ClassesHoldingHalfShare(c, labels_)},
            {kLargestClassShareMetric, c.largest_share},
            {kClassEntropyMetric, c.entropy},
            {kFrechetMetric, FrechetDistance(features, reference_features_)}};
      });
}

}  // namespace proxflow::core
