// Class coverage of generated MNIST images while training (issue "MNIST
// fidelity" §2): a user must see a flow collapse onto a few digits while it
// happens, not after the run.
//
// A ClassMonitor holds the project's MNIST classifier (core/mnist_quality.h),
// trained on images 0..5999 of the run's MNIST directory with their labels (or
// loaded from a weights cache), the classifier features of the held-out images
// 6000.. of the run's classes, and a fixed set of per-row sample seeds derived
// from the run seed. Trainer::Evaluate samples the flow from those seeds at
// every evaluation and Measure() reads the images: the same starting points at
// every evaluation, so the curve shows the flow changing, not sampling noise.
//
// Uses LibTorch in its interface: core only. Not thread-safe: owned by one
// Trainer.
#ifndef PROXFLOW_CORE_CLASS_MONITOR_H_
#define PROXFLOW_CORE_CLASS_MONITOR_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/datasets.h"

namespace proxflow::core {

class MnistClassifier;

struct ClassMonitorOptions {
  std::vector<int> labels;  // the run's classes (dataset.mnist_labels); empty: 0..9
  int samples = 1000;       // generated images per evaluation, >= 10
  uint64_t seed = 0;        // the run seed; the fixed sample seeds derive from it
  std::string cache_dir;    // classifier weights cache; empty: trained each time
  int classifier_epochs = 4;  // the project's classifier (ClassifierOptions)
  std::string device = "cpu";
};

// The metric names Measure() reports, in its order.
inline constexpr const char* kClassCoverageMetric = "class_coverage";
inline constexpr const char* kLargestClassShareMetric = "largest_class_share";
inline constexpr const char* kClassEntropyMetric = "class_entropy";
inline constexpr const char* kFrechetMetric = "frechet";

class ClassMonitor {
 public:
  // Images 0..5999 train the classifier (all ten digits, whatever the run's
  // classes); images from 6000 on of the run's classes (at most 10,000) are
  // the Fréchet reference. FAILED_PRECONDITION when `mnist` holds fewer than
  // 7,000 images or fewer than 100 held-out images of the run's classes;
  // INVALID_ARGUMENT for samples < 10.
  static absl::StatusOr<std::unique_ptr<ClassMonitor>> Create(
      const MnistImages& mnist, const ClassMonitorOptions& options);
  ~ClassMonitor();

  // One seed per generated image, the same for the whole run.
  const std::vector<uint64_t>& seeds() const { return seeds_; }

  // Reads generated images (N, 784) as a user sees them (NaN as 0, clamped to
  // [0, 1]) and returns, in this order:
  //   class_coverage       how many of the run's classes hold at least half a
  //                        uniform share of the images (ClassesHoldingHalfShare)
  //   largest_class_share  the most predicted digit's fraction of the images
  //   class_entropy        entropy of the predicted-digit shares, nats
  //   frechet              Fréchet distance of the classifier features to the
  //                        held-out reference (FrechetDistance)
  absl::StatusOr<std::vector<std::pair<std::string, double>>> Measure(
      const at::Tensor& images);

 private:
  ClassMonitor() = default;
  std::unique_ptr<MnistClassifier> classifier_;
  at::Tensor reference_features_;  // (M, 128) on the CPU
  std::vector<int> labels_;
  std::vector<uint64_t> seeds_;
};

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_CLASS_MONITOR_H_
