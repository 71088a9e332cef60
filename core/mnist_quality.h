// MNIST sample quality without downloads (issue "reproduction lab" §2): a
// LeNet-style classifier trained by the project on the training pool, its
// penultimate features for a Fréchet distance and KID, and per-class coverage
// with mean confidence. Uses LibTorch in its interface: for core, the lab and
// tests. Not thread-safe (modules).
#ifndef PROXFLOW_CORE_MNIST_QUALITY_H_
#define PROXFLOW_CORE_MNIST_QUALITY_H_

#include <ATen/core/Tensor.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace proxflow::core {

struct ClassifierOptions {
  int epochs = 4;
  int batch_size = 64;
  double learning_rate = 1e-3;
  uint64_t seed = 0;
  std::string device = "auto";  // auto | cpu | cuda | cuda:N
};

// The recipe identity (architecture, options, format version): part of the
// cache key, so a change of recipe never reuses old weights.
std::string ClassifierRecipe(const ClassifierOptions& options);

// Conv 1→16 5×5 → ReLU → pool 2 → Conv 16→32 5×5 → ReLU → pool 2 → FC 1568→128
// → ReLU (the features) → FC 128→10.
class MnistClassifier {
 public:
  ~MnistClassifier();

  // Trains on `images` (N, 784) in [0, 1] with `labels` (N) int64, shuffled
  // by a generator seeded with options.seed. INVALID_ARGUMENT on bad shapes.
  static absl::StatusOr<std::unique_ptr<MnistClassifier>> Train(
      const at::Tensor& images, const at::Tensor& labels,
      const ClassifierOptions& options);
  // Reads weights written by Save onto `device`. INVALID_ARGUMENT when the
  // bytes are not such weights.
  static absl::StatusOr<std::unique_ptr<MnistClassifier>> Load(
      const std::string& bytes, const std::string& device);
  absl::StatusOr<std::string> Save() const;

  // Penultimate features (N, 128) float32 on the CPU, in evaluation batches.
  absl::StatusOr<at::Tensor> Features(const at::Tensor& images);
  // Class probabilities (N, 10) float32 on the CPU.
  absl::StatusOr<at::Tensor> Probabilities(const at::Tensor& images);
  // Fraction of `labels` predicted correctly.
  absl::StatusOr<double> Accuracy(const at::Tensor& images,
                                  const at::Tensor& labels);

 private:
  struct Impl;
  explicit MnistClassifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Trains the classifier on `training` images/labels, or reuses the weights in
// `cache_dir`/mnist-classifier-<key>.pt where key = sha256 of the training
// bytes and the recipe. Sets *cached to whether the cache served. An empty
// `cache_dir` trains without a cache; a cache that cannot be written is
// skipped (the weights are returned all the same).
absl::StatusOr<std::unique_ptr<MnistClassifier>> TrainOrLoadClassifier(
    const at::Tensor& images, const at::Tensor& labels,
    const ClassifierOptions& options, const std::string& cache_dir,
    bool* cached);

// Generated images as a user sees them (a grid, a sampled PNG): NaN as 0,
// every pixel clamped to [0, 1], float32 on the CPU. Every quality figure of
// generated images (the class monitor's, the lab's) reads these.
absl::StatusOr<at::Tensor> ViewableImages(const at::Tensor& images);

// Fréchet distance between Gaussians fitted to feature sets a (N, k) and b
// (M, k): ‖μa−μb‖² + tr Σa + tr Σb − 2 tr (Σa^½ Σb Σa^½)^½, in double, the
// square roots by symmetric eigendecomposition. N, M >= 2.
double FrechetDistance(const at::Tensor& a, const at::Tensor& b);
// The same from moments (means (k), covariances (k, k)).
double FrechetDistanceFromMoments(const at::Tensor& mean_a,
                                  const at::Tensor& cov_a,
                                  const at::Tensor& mean_b,
                                  const at::Tensor& cov_b);

// Kernel Inception Distance: the unbiased MMD² with kernel (xᵀy/k + 1)³,
// averaged over `subsets` random subsets of `subset_size` rows of each set
// (capped at the smaller set), drawn from a generator seeded with `seed`.
double KernelDistance(const at::Tensor& a, const at::Tensor& b, int subsets,
                      int subset_size, uint64_t seed);

struct Coverage {
  int64_t n = 0;                     // images read
  std::array<int64_t, 10> counts{};  // predicted class counts
  int classes_covered = 0;           // classes with >= 10 % of a uniform share
  double mean_confidence = 0;        // mean of the top class probability
  double largest_share = 0;          // the most predicted class's count / n
  // −Σ p log p of the predicted-class shares, in nats: log 10 ≈ 2.303 when
  // all ten are equally frequent, 0 when one class takes everything.
  double entropy = 0;
};
// From class probabilities (N, 10).
Coverage ClassCoverage(const at::Tensor& probabilities);

// How many of `classes` (digits 0..9; empty: all ten) hold at least half a
// uniform share of the images, i.e. count >= n / (2·|classes|): the coverage
// figure of the training monitor (core/class_monitor.h).
int ClassesHoldingHalfShare(const Coverage& coverage,
                            const std::vector<int>& classes);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_MNIST_QUALITY_H_
