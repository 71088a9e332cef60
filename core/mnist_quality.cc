#include "core/mnist_quality.h"

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "core/base/file_util.h"
#include "core/base/sha256.h"
#include "core/base/status_macros.h"
#include "core/device.h"
#include "core/networks.h"
#include "core/torch_fence.h"

namespace proxflow::core {
namespace {

constexpr int64_t kFormat = 1;
constexpr int64_t kEvalBatch = 1024;

class LeNetImpl : public torch::nn::Module {
 public:
  LeNetImpl() {
    conv1_ = register_module(
        "conv1",
        torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 16, 5).padding(2)));
    conv2_ = register_module(
        "conv2",
        torch::nn::Conv2d(torch::nn::Conv2dOptions(16, 32, 5).padding(2)));
    fc1_ = register_module("fc1", torch::nn::Linear(32 * 7 * 7, 128));
    fc2_ = register_module("fc2", torch::nn::Linear(128, 10));
  }
  at::Tensor Features(const at::Tensor& x) {
    at::Tensor h = x.reshape({-1, 1, 28, 28});
    h = at::max_pool2d(at::relu(conv1_->forward(h)), {2, 2});
    h = at::max_pool2d(at::relu(conv2_->forward(h)), {2, 2});
    return at::relu(fc1_->forward(h.flatten(1)));
  }
  at::Tensor forward(const at::Tensor& x) { return fc2_->forward(Features(x)); }

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(LeNet);

absl::StatusOr<c10::Device> TorchDevice(const std::string& spec) {
  PROXFLOW_ASSIGN_OR_RETURN(DeviceSpec d, ResolveDevice(spec));
  return d.cuda ? c10::Device(c10::kCUDA, d.index) : c10::Device(c10::kCPU);
}

absl::Status CheckImages(const at::Tensor& images) {
  if (images.dim() != 2 || images.size(1) != 784) {
    return absl::InvalidArgumentError(absl::StrCat(
        "images must be (N, 784), got ", images.dim(), " dimensions"));
  }
  return absl::OkStatus();
}

// Mean (k) and unbiased covariance (k, k) of rows, in double.
std::pair<at::Tensor, at::Tensor> Moments(const at::Tensor& x) {
  const at::Tensor d = x.to(at::kDouble);
  const at::Tensor mean = d.mean(0);
  const at::Tensor centred = d - mean;
  return {mean, centred.t().mm(centred) / (d.size(0) - 1)};
}

// Symmetric positive semi-definite square root by eigendecomposition.
at::Tensor SqrtPsd(const at::Tensor& m) {
  auto [values, vectors] = at::linalg_eigh(0.5 * (m + m.t()));
  return vectors.mm(at::diag(values.clamp_min(0).sqrt())).mm(vectors.t());
}

}  // namespace

std::string ClassifierRecipe(const ClassifierOptions& o) {
  return absl::StrCat("lenet-16-32-128/format", kFormat, "/epochs", o.epochs,
                      "/batch", o.batch_size, "/lr", o.learning_rate, "/seed",
                      o.seed);
}

struct MnistClassifier::Impl {
  LeNet net;
  c10::Device device{c10::kCPU};

  // Applies `fn` to evaluation batches of `images` without gradients and
  // concatenates the results on the CPU.
  template <typename Fn>
  at::Tensor Batched(const at::Tensor& images, Fn fn) {
    torch::NoGradGuard no_grad;
    net->eval();
    std::vector<at::Tensor> parts;
    for (int64_t i = 0; i < images.size(0); i += kEvalBatch) {
      const int64_t n = std::min(kEvalBatch, images.size(0) - i);
      parts.push_back(
          fn(images.narrow(0, i, n).to(device, at::kFloat)).to(at::kCPU));
    }
    return at::cat(parts);
  }
};

MnistClassifier::MnistClassifier(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
MnistClassifier::~MnistClassifier() = default;

absl::StatusOr<std::unique_ptr<MnistClassifier>> MnistClassifier::Train(
    const at::Tensor& images, const at::Tensor& labels,
    const ClassifierOptions& o) {
  PROXFLOW_RETURN_IF_ERROR(CheckImages(images));
  if (labels.dim() != 1 || labels.size(0) != images.size(0)) {
    return absl::InvalidArgumentError("labels must be (N) for N images");
  }
  if (o.epochs < 1 || o.batch_size < 1 || !(o.learning_rate > 0)) {
    return absl::InvalidArgumentError(
        "classifier epochs, batch_size and learning_rate must be positive");
  }
  PROXFLOW_ASSIGN_OR_RETURN(c10::Device device, TorchDevice(o.device));
  return Fence(
      "training the MNIST classifier",
      [&]() -> absl::StatusOr<std::unique_ptr<MnistClassifier>> {
        auto impl = std::make_unique<Impl>();
        impl->device = device;
        at::Generator gen = at::detail::createCPUGenerator(o.seed);
        GlorotNormalInit(*impl->net, gen);
        impl->net->to(device);
        torch::optim::Adam adam(impl->net->parameters(),
                                torch::optim::AdamOptions(o.learning_rate));
        const at::Tensor x = images.to(device, at::kFloat);
        const at::Tensor y = labels.to(device, at::kLong);
        const int64_t n = x.size(0);
        impl->net->train();
        for (int epoch = 0; epoch < o.epochs; ++epoch) {
          const at::Tensor order =
              at::randperm(n, gen, at::TensorOptions().dtype(at::kLong))
                  .to(device);
          for (int64_t i = 0; i < n; i += o.batch_size) {
            const at::Tensor idx =
                order.narrow(0, i, std::min<int64_t>(o.batch_size, n - i));
            const at::Tensor loss = at::nll_loss(
                at::log_softmax(impl->net->forward(x.index_select(0, idx)), 1),
                y.index_select(0, idx));
            adam.zero_grad();
            loss.backward();
            adam.step();
          }
        }
        return std::unique_ptr<MnistClassifier>(
            new MnistClassifier(std::move(impl)));
      });
}

absl::StatusOr<std::unique_ptr<MnistClassifier>> MnistClassifier::Load(
    const std::string& bytes, const std::string& device_spec) {
  PROXFLOW_ASSIGN_OR_RETURN(c10::Device device, TorchDevice(device_spec));
  auto loaded =
      Fence("loading the MNIST classifier",
            [&]() -> absl::StatusOr<std::unique_ptr<MnistClassifier>> {
              auto impl = std::make_unique<Impl>();
              impl->device = device;
              torch::serialize::InputArchive archive;
              archive.load_from(bytes.data(), bytes.size(), device);
              at::Tensor format;
              if (!archive.try_read("format", format) ||
                  format.item<int64_t>() != kFormat) {
                return absl::InvalidArgumentError(
                    "not MNIST classifier weights of this format");
              }
              impl->net->load(archive);
              impl->net->to(device);
              return std::unique_ptr<MnistClassifier>(
                  new MnistClassifier(std::move(impl)));
            });
  if (!loaded.ok() && loaded.status().code() == absl::StatusCode::kInternal) {
    return absl::InvalidArgumentError(loaded.status().message());
  }
  return loaded;
}

absl::StatusOr<std::string> MnistClassifier::Save() const {
  return Fence("saving the MNIST classifier",
               [&]() -> absl::StatusOr<std::string> {
                 torch::serialize::OutputArchive archive;
                 archive.write("format", at::tensor(kFormat));
                 impl_->net->save(archive);
                 std::ostringstream out;
                 archive.save_to(out);
                 return out.str();
               });
}

absl::StatusOr<at::Tensor> MnistClassifier::Features(const at::Tensor& images) {
  PROXFLOW_RETURN_IF_ERROR(CheckImages(images));
  return Fence("classifier features", [&]() -> absl::StatusOr<at::Tensor> {
    return impl_->Batched(
        images, [&](const at::Tensor& x) { return impl_->net->Features(x); });
  });
}

absl::StatusOr<at::Tensor> ViewableImages(const at::Tensor& images) {
  return Fence("viewable images", [&]() -> absl::StatusOr<at::Tensor> {
    return at::nan_to_num(images.detach().to(at::kCPU, at::kFloat), 0.0, 1.0,
                          0.0)
        .clamp(0.0, 1.0);
  });
}

absl::StatusOr<at::Tensor> MnistClassifier::Probabilities(
    const at::Tensor& images) {
  PROXFLOW_RETURN_IF_ERROR(CheckImages(images));
  return Fence("classifier probabilities", [&]() -> absl::StatusOr<at::Tensor> {
    return impl_->Batched(images, [&](const at::Tensor& x) {
      return at::softmax(impl_->net->forward(x), 1);
    });
  });
}

absl::StatusOr<double> MnistClassifier::Accuracy(const at::Tensor& images,
                                                 const at::Tensor& labels) {
  PROXFLOW_ASSIGN_OR_RETURN(at::Tensor p, Probabilities(images));
  return Fence("classifier accuracy", [&]() -> absl::StatusOr<double> {
    return p.argmax(1)
        .eq(labels.to(at::kLong))
        .to(at::kDouble)
        .mean()
        .item<double>();
  });
}

absl::StatusOr<std::unique_ptr<MnistClassifier>> TrainOrLoadClassifier(
    const at::Tensor& images, const at::Tensor& labels,
    const ClassifierOptions& options, const std::string& cache_dir,
    bool* cached) {
  *cached = false;
  PROXFLOW_RETURN_IF_ERROR(CheckImages(images));
  if (cache_dir.empty()) return MnistClassifier::Train(images, labels, options);
  PROXFLOW_ASSIGN_OR_RETURN(
      std::string key,
      Fence("hashing the training set", [&]() -> absl::StatusOr<std::string> {
        const at::Tensor x = images.to(at::kFloat).contiguous().cpu();
        const at::Tensor y = labels.to(at::kLong).contiguous().cpu();
        return Sha256Hex(absl::StrCat(
            ClassifierRecipe(options), "\n",
            absl::string_view(static_cast<const char*>(x.data_ptr()),
                              x.nbytes()),
            absl::string_view(static_cast<const char*>(y.data_ptr()),
                              y.nbytes())));
      }));
  const std::string path =
      absl::StrCat(cache_dir, "/mnist-classifier-", key.substr(0, 16), ".pt");
  if (auto bytes = ReadFile(path, size_t{64} << 20); bytes.ok()) {
    auto loaded = MnistClassifier::Load(*bytes, options.device);
    if (loaded.ok()) {
      *cached = true;
      return loaded;
    }
  }
  PROXFLOW_ASSIGN_OR_RETURN(auto trained,
                            MnistClassifier::Train(images, labels, options));
  PROXFLOW_ASSIGN_OR_RETURN(std::string bytes, trained->Save());
  // The cache is an optimisation: weights that cannot be stored are trained
  // again next time, never an error of the caller.
  std::error_code ec;
  std::filesystem::create_directories(cache_dir, ec);
  if (!ec) WriteFileAtomically(path, bytes).IgnoreError();
  return trained;
}

double FrechetDistanceFromMoments(const at::Tensor& mean_a,
                                  const at::Tensor& cov_a,
                                  const at::Tensor& mean_b,
                                  const at::Tensor& cov_b) {
  const at::Tensor ma = mean_a.to(at::kDouble), mb = mean_b.to(at::kDouble);
  const at::Tensor ca = cov_a.to(at::kDouble), cb = cov_b.to(at::kDouble);
  const at::Tensor root_a = SqrtPsd(ca);
  const at::Tensor inner = root_a.mm(cb).mm(root_a);
  const at::Tensor eig = at::linalg_eigvalsh(0.5 * (inner + inner.t()));
  const double cross = eig.clamp_min(0).sqrt().sum().item<double>();
  return (ma - mb).pow(2).sum().item<double>() + ca.trace().item<double>() +
         cb.trace().item<double>() - 2 * cross;
}

double FrechetDistance(const at::Tensor& a, const at::Tensor& b) {
  const auto [ma, ca] = Moments(a.cpu());
  const auto [mb, cb] = Moments(b.cpu());
  return FrechetDistanceFromMoments(ma, ca, mb, cb);
}

double KernelDistance(const at::Tensor& a, const at::Tensor& b, int subsets,
                      int subset_size, uint64_t seed) {
  const at::Tensor x = a.cpu().to(at::kDouble), y = b.cpu().to(at::kDouble);
  const int64_t m = std::min<int64_t>(
      {static_cast<int64_t>(subset_size), x.size(0), y.size(0)});
  const double k = static_cast<double>(x.size(1));
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const auto kernel = [&](const at::Tensor& p, const at::Tensor& q) {
    return (p.mm(q.t()) / k + 1).pow(3);
  };
  double total = 0;
  for (int s = 0; s < subsets; ++s) {
    const at::Tensor xs = x.index_select(
        0, at::randperm(x.size(0), gen, at::kLong).narrow(0, 0, m));
    const at::Tensor ys = y.index_select(
        0, at::randperm(y.size(0), gen, at::kLong).narrow(0, 0, m));
    const at::Tensor kxx = kernel(xs, xs), kyy = kernel(ys, ys);
    const double off = static_cast<double>(m) * (m - 1);
    total += ((kxx.sum() - kxx.trace()) / off +
              (kyy.sum() - kyy.trace()) / off - 2 * kernel(xs, ys).mean())
                 .item<double>();
  }
  return total / std::max(subsets, 1);
}

Coverage ClassCoverage(const at::Tensor& probabilities) {
  Coverage c;
  const at::Tensor p = probabilities.cpu().to(at::kFloat);
  const int64_t n = p.size(0);
  if (n == 0) return c;
  const auto [top, cls] = p.max(1);
  c.mean_confidence = top.to(at::kDouble).mean().item<double>();
  const at::Tensor counts = at::bincount(cls, {}, 10);
  c.n = n;
  for (int i = 0; i < 10; ++i) {
    c.counts[i] = counts[i].item<int64_t>();
    if (c.counts[i] * 100 >= n) ++c.classes_covered;  // >= 10 % of n/10
    const double share = static_cast<double>(c.counts[i]) / n;
    c.largest_share = std::max(c.largest_share, share);
    if (share > 0) c.entropy -= share * std::log(share);
  }
  return c;
}

int ClassesHoldingHalfShare(const Coverage& coverage,
                            const std::vector<int>& classes) {
  std::vector<int> all;
  const std::vector<int>* set = &classes;
  if (classes.empty()) {
    for (int i = 0; i < 10; ++i) all.push_back(i);
    set = &all;
  }
  int held = 0;
  for (int c : *set) {
    if (c < 0 || c > 9) continue;
    // count >= n / (2k), in integers.
    if (coverage.counts[c] * 2 * static_cast<int64_t>(set->size()) >=
        coverage.n)
      ++held;
  }
  return coverage.n > 0 ? held : 0;
}

}  // namespace proxflow::core
