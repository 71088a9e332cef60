// Datasets and sources (ALGORITHM.md §5): toy 2-D sets, their embedding into
// R^d, Student-t, MNIST from IDX files, and the Gaussian/uniform sources. Draws
// use the given generator only, so equal seeds give equal data. Free functions;
// thread-compatible.
#ifndef PROXFLOW_CORE_DATASETS_H_
#define PROXFLOW_CORE_DATASETS_H_

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/options.h"

namespace proxflow::core {

absl::string_view ToyShapeName(ToyShape shape);

// n samples (n, 2), float32, of a toy set.
at::Tensor SampleToy(ToyShape shape, int64_t n, at::Generator& gen);

// Places (n, 2) points into coordinates 0,1 of R^dimension; the other
// coordinates are 0.
at::Tensor EmbedInDimension(const at::Tensor& points, int64_t dimension);

// n samples of a standard multivariate Student-t in R^dimension with `dof`
// degrees of freedom.
at::Tensor SampleStudentT(int64_t n, int64_t dimension, double dof,
                          at::Generator& gen);

// n source samples in R^dimension: N(0, I) or U[low, high]^dimension.
at::Tensor SampleSource(const SourceOptions& source, int64_t n,
                        int64_t dimension, at::Generator& gen);

struct MnistImages {
  at::Tensor images;  // (N, 784) float32 in [0, 1]
  at::Tensor labels;  // (N) int64
};

// Reads MNIST from `dir` (the t10k or train IDX files, gzip or raw). Errors
// name the file and the problem (missing, wrong magic, truncated, mismatched
// counts): NOT_FOUND or INVALID_ARGUMENT/DATA_LOSS, never a partial read.
absl::StatusOr<MnistImages> LoadMnist(const std::string& dir);

// The training pool convention: images 0..5999, filtered by `labels` (empty:
// all), first `subset_size` kept. FAILED_PRECONDITION when fewer images remain
// than requested.
absl::StatusOr<at::Tensor> MnistTrainingPool(const MnistImages& mnist,
                                             const std::vector<int>& labels,
                                             int subset_size);

// Builds the target pool a run trains on: toy/Student-t pools drawn from `gen`,
// MNIST from its directory, an uploaded dataset from `uploaded_path` (all its
// rows; INVALID_ARGUMENT when its row length differs from dataset.dimension or
// it has fewer rows than `min_rows`). Returns (pool_size, dimension) float32 on
// CPU.
absl::StatusOr<at::Tensor> BuildTargetPool(const DatasetOptions& dataset,
                                           const std::string& uploaded_path,
                                           int64_t min_rows,
                                           at::Generator& gen);

// k distinct indices in [0, n) (Floyd's algorithm), as an int64 tensor; k <= n.
at::Tensor SampleWithoutReplacement(int64_t n, int64_t k, at::Generator& gen);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_DATASETS_H_
