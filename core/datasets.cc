#include "core/datasets.h"

#include <ATen/ATen.h>

#include <cmath>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "core/base/status_macros.h"
#include "core/data_file.h"
#include "core/idx_reader.h"

namespace proxflow::core {
namespace {

constexpr double kPi =
    3.14159265358979323846;  // std::numbers is C++20; core stays C++17-clean
                             // (fuzz build)

at::Tensor Randn(int64_t n, int64_t d, at::Generator& gen) {
  return at::randn({n, d}, gen, at::kDouble);
}
at::Tensor Rand(int64_t n, at::Generator& gen) {
  return at::rand({n}, gen, at::kDouble);
}

at::Tensor Pinwheel(int64_t n, at::Generator& gen) {
  constexpr int kArms = 5;
  constexpr double kRadialStd = 0.3, kTangentialStd = 0.1, kRate = 0.25,
                   kScale = 1.4;
  at::Tensor f =
      Randn(n, 2, gen) * at::tensor({kRadialStd, kTangentialStd}, at::kDouble);
  f.select(1, 0).add_(1.0);
  at::Tensor arm = at::arange(n, at::kLong).remainder(kArms).to(at::kDouble);
  at::Tensor angle = arm * (2 * kPi / kArms) + kRate * at::exp(f.select(1, 0));
  at::Tensor c = at::cos(angle), s = at::sin(angle);
  at::Tensor x = f.select(1, 0) * c + f.select(1, 1) * s;
  at::Tensor y = -f.select(1, 0) * s + f.select(1, 1) * c;
  return kScale * at::stack({x, y}, 1);
}

at::Tensor Moons(int64_t n, at::Generator& gen) {
  constexpr double kNoise = 0.05, kScale = 4.2;
  at::Tensor theta = Rand(n, gen) * kPi;
  at::Tensor outer = at::arange(n, at::kLong).remainder(2).eq(0);
  at::Tensor x = at::where(outer, at::cos(theta), 1.0 - at::cos(theta));
  at::Tensor y = at::where(outer, at::sin(theta), 0.5 - at::sin(theta));
  at::Tensor p = at::stack({x, y}, 1) + kNoise * Randn(n, 2, gen);
  return kScale * (p - at::tensor({0.5, 0.2}, at::kDouble));
}

at::Tensor EightGaussians(int64_t n, at::Generator& gen) {
  constexpr double kRadius = 2.0, kStd = 0.2;
  at::Tensor k = at::randint(8, {n}, gen, at::kLong).to(at::kDouble);
  at::Tensor angle = k * (kPi / 4);
  at::Tensor centers = kRadius * at::stack({at::cos(angle), at::sin(angle)}, 1);
  return centers + kStd * Randn(n, 2, gen);
}

at::Tensor Checkerboard(int64_t n, at::Generator& gen) {
  at::Tensor x1 = Rand(n, gen) * 4 - 2;
  at::Tensor x2 =
      Rand(n, gen) - at::randint(2, {n}, gen, at::kLong).to(at::kDouble) * 2;
  x2 = x2 + at::floor(x1).remainder(2);
  return 2 * at::stack({x1, x2}, 1);
}

at::Tensor Swissroll(int64_t n, at::Generator& gen) {
  at::Tensor t = 1.5 * kPi * (1 + 2 * Rand(n, gen));
  at::Tensor p =
      at::stack({t * at::cos(t), t * at::sin(t)}, 1) + Randn(n, 2, gen);
  return p / 5.0;
}

at::Tensor Circles(int64_t n, at::Generator& gen) {
  constexpr double kFactor = 0.5, kNoise = 0.08, kScale = 3.0;
  at::Tensor angle = Rand(n, gen) * (2 * kPi);
  at::Tensor radius = at::where(at::arange(n, at::kLong).remainder(2).eq(0),
                                at::ones({n}, at::kDouble),
                                at::full({n}, kFactor, at::kDouble));
  at::Tensor p =
      at::stack({radius * at::cos(angle), radius * at::sin(angle)}, 1);
  return kScale * (p + kNoise * Randn(n, 2, gen));
}

at::Tensor TwoSpirals(int64_t n, at::Generator& gen) {
  at::Tensor r = at::sqrt(Rand(n, gen)) * (540.0 * 2 * kPi / 360.0);
  at::Tensor x = -at::cos(r) * r + Rand(n, gen) * 0.5;
  at::Tensor y = at::sin(r) * r + Rand(n, gen) * 0.5;
  at::Tensor sign =
      at::where(at::arange(n, at::kLong).remainder(2).eq(0),
                at::ones({n}, at::kDouble), -at::ones({n}, at::kDouble));
  at::Tensor p = at::stack({x * sign, y * sign}, 1) / 3.0;
  return p + 0.1 * Randn(n, 2, gen);
}

}  // namespace

absl::string_view ToyShapeName(ToyShape shape) {
  switch (shape) {
    case ToyShape::kPinwheel:
      return "pinwheel";
    case ToyShape::kMoons:
      return "moons";
    case ToyShape::kEightGaussians:
      return "8gaussians";
    case ToyShape::kCheckerboard:
      return "checkerboard";
    case ToyShape::kSwissroll:
      return "swissroll";
    case ToyShape::kCircles:
      return "circles";
    case ToyShape::kTwoSpirals:
      return "2spirals";
  }
  return "unknown";
}

at::Tensor SampleToy(ToyShape shape, int64_t n, at::Generator& gen) {
  at::Tensor p;
  switch (shape) {
    case ToyShape::kPinwheel:
      p = Pinwheel(n, gen);
      break;
    case ToyShape::kMoons:
      p = Moons(n, gen);
      break;
    case ToyShape::kEightGaussians:
      p = EightGaussians(n, gen);
      break;
    case ToyShape::kCheckerboard:
      p = Checkerboard(n, gen);
      break;
    case ToyShape::kSwissroll:
      p = Swissroll(n, gen);
      break;
    case ToyShape::kCircles:
      p = Circles(n, gen);
      break;
    case ToyShape::kTwoSpirals:
      p = TwoSpirals(n, gen);
      break;
  }
  return p.to(at::kFloat);
}

at::Tensor EmbedInDimension(const at::Tensor& points, int64_t dimension) {
  at::Tensor out = at::zeros({points.size(0), dimension}, points.options());
  out.narrow(1, 0, points.size(1)).copy_(points);
  return out;
}

at::Tensor SampleStudentT(int64_t n, int64_t dimension, double dof,
                          at::Generator& gen) {
  // t = z / sqrt(χ²_ν/ν), χ²_ν = 2·Gamma(ν/2), one χ² per sample (multivariate
  // t).
  at::Tensor z = Randn(n, dimension, gen);
  at::Tensor chi2 =
      2.0 * at::_standard_gamma(at::full({n, 1}, dof / 2.0, at::kDouble), gen);
  return (z / at::sqrt(chi2 / dof)).to(at::kFloat);
}

at::Tensor SampleSource(const SourceOptions& source, int64_t n,
                        int64_t dimension, at::Generator& gen) {
  if (source.kind == SourceKind::kUniform) {
    return source.low + (source.high - source.low) *
                            at::rand({n, dimension}, gen, at::kFloat);
  }
  return at::randn({n, dimension}, gen, at::kFloat);
}

at::Tensor SampleWithoutReplacement(int64_t n, int64_t k, at::Generator& gen) {
  at::Tensor u = at::rand({k}, gen, at::kDouble).contiguous();
  const double* uu = u.data_ptr<double>();
  at::Tensor out = at::empty({k}, at::kLong);
  int64_t* o = out.data_ptr<int64_t>();
  std::unordered_set<int64_t> chosen;
  chosen.reserve(static_cast<size_t>(k) * 2);
  for (int64_t i = 0; i < k; ++i) {
    const int64_t j = n - k + i;
    int64_t t = static_cast<int64_t>(uu[i] * static_cast<double>(j + 1));
    if (t > j) t = j;
    if (!chosen.insert(t).second) {
      t = j;
      chosen.insert(t);
    }
    o[i] = t;
  }
  return out;
}

namespace {

// All rows of an uploaded data file, checked against the configured shape.
absl::StatusOr<at::Tensor> LoadUploadedPool(const DatasetOptions& d,
                                            const std::string& path,
                                            int64_t min_rows) {
  const std::string name = absl::StrCat("dataset \"", d.uploaded_name, "\"");
  if (path.empty())
    return absl::FailedPreconditionError(absl::StrCat(name, " has no file"));
  PROXFLOW_ASSIGN_OR_RETURN(DataRows rows, ReadDataFile(path, name));
  if (rows.dimension != d.dimension) {
    return absl::InvalidArgumentError(
        absl::StrCat("training.dataset.dimension must equal the row length of ",
                     name, " (", rows.dimension, "), got ", d.dimension));
  }
  if (rows.rows < min_rows) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " has ", rows.rows,
                     " rows; training.batch_size and "
                     "training.eval_batch_size need at least ",
                     min_rows));
  }
  return at::from_blob(rows.values.data(), {rows.rows, rows.dimension},
                       at::kFloat)
      .clone();
}

}  // namespace

absl::StatusOr<at::Tensor> BuildTargetPool(const DatasetOptions& d,
                                           const std::string& uploaded_path,
                                           int64_t min_rows,
                                           at::Generator& gen) {
  switch (d.kind) {
    case DatasetKind::kToy:
      return EmbedInDimension(SampleToy(d.toy, d.pool_size, gen), d.dimension);
    case DatasetKind::kStudentT:
      return SampleStudentT(d.pool_size, d.dimension, d.student_t_dof, gen);
    case DatasetKind::kMnist: {
      PROXFLOW_ASSIGN_OR_RETURN(MnistImages mnist, LoadMnist(d.mnist_dir));
      return MnistTrainingPool(mnist, d.mnist_labels, d.subset_size);
    }
    case DatasetKind::kUploaded:
      return LoadUploadedPool(d, uploaded_path, min_rows);
  }
  return absl::InternalError("unknown dataset kind");
}

absl::StatusOr<MnistImages> LoadMnist(const std::string& dir) {
  PROXFLOW_ASSIGN_OR_RETURN(MnistIdx idx, ReadMnistIdx(dir));
  IdxFile& images = idx.images;
  IdxFile& labels = idx.labels;
  const int64_t n = images.dims[0];
  MnistImages out;
  out.images = at::from_blob(images.data.data(), {n, 784}, at::kByte)
                   .to(at::kFloat)
                   .div_(255.0);
  out.labels = at::from_blob(labels.data.data(), {n}, at::kByte).to(at::kLong);
  return out;
}

absl::StatusOr<at::Tensor> MnistTrainingPool(const MnistImages& mnist,
                                             const std::vector<int>& labels,
                                             int subset_size) {
  constexpr int64_t kTrainingPool = 6000;
  const int64_t available =
      std::min<int64_t>(kTrainingPool, mnist.images.size(0));
  at::Tensor images = mnist.images.narrow(0, 0, available);
  if (!labels.empty()) {
    at::Tensor keep = at::zeros({available}, at::kBool);
    at::Tensor l = mnist.labels.narrow(0, 0, available);
    for (int label : labels) keep |= l.eq(label);
    images = images.index({keep});
  }
  if (images.size(0) < subset_size) {
    return absl::FailedPreconditionError(absl::StrCat(
        "training.dataset.subset_size is ", subset_size,
        " but the MNIST training pool",
        " (images 0..5999, label filter applied) holds only ", images.size(0)));
  }
  return images.narrow(0, 0, subset_size).contiguous();
}

}  // namespace proxflow::core
