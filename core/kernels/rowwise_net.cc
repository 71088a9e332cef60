#include "core/kernels/rowwise_net.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/kernels/tanh_kernel.h"

namespace proxflow::core::kernels {
namespace {

// ConvTrunkImpl's shapes: 28×28 → conv 7×7 (pad 3) → 8 channels → pool 2 →
// conv → pool 2 → 8 × 7 × 7 features in (c, y, x) order.
constexpr int64_t kImage = 28;
constexpr int64_t kKernel = 7;
constexpr int64_t kPad = kKernel / 2;
constexpr int64_t kChannels = 8;
constexpr int64_t kPooled1 = kImage / 2;    // 14
constexpr int64_t kPooled2 = kPooled1 / 2;  // 7
static_assert(kTrunkFeatures == kChannels * kPooled2 * kPooled2);
constexpr int64_t kTaps = kKernel * kKernel;
// Codes per pooled value (one byte each, ReluMaxPool2x2's): the window
// position of the max (dy·2 + dx), or kPoolNoGradient when that max is ≤ 0
// (ReLU passes nothing).
constexpr int64_t kPoolCodes1 = kPooled1 * kPooled1 * kChannels;
constexpr int64_t kPoolCodes = kPoolCodes1 + kTrunkFeatures;
// Rows evaluated together: bounds the scratch buffers (width-512 layers:
// 64 KiB each).
constexpr int64_t kBlockRows = 32;

// σ(z) into `value` and σ'(z) into `slope` (may be null), n values.
void Activate(Activation activation, const float* z, float* value, float* slope,
              int64_t n) {
  switch (activation) {
    case Activation::kTanh:
      TanhKernel(z, value, slope, n);
      return;
    case Activation::kRelu:
      for (int64_t i = 0; i < n; ++i) {
        value[i] = std::max(z[i], 0.0f);
        if (slope != nullptr) slope[i] = z[i] > 0.0f ? 1.0f : 0.0f;
      }
      return;
    case Activation::kSoftplus:
      // at::softplus's threshold (β = 1): z above 20 passes unchanged.
      for (int64_t i = 0; i < n; ++i) {
        value[i] = z[i] > 20.0f ? z[i] : std::log1p(std::exp(z[i]));
        if (slope != nullptr) slope[i] = 1.0f / (1.0f + std::exp(-z[i]));
      }
      return;
  }
}

// The inverse routing of ReluMaxPool2x2: each pooled gradient g(py, px, c) goes
// to where its max came from in `grad` (rows of `grad_row` floats, already
// zero), nowhere when its code is kPoolNoGradient.
void Unpool(const float* pooled_grad, int64_t ph, int64_t pw,
            const uint8_t* codes, float* grad, int64_t grad_row) {
  for (int64_t py = 0; py < ph; ++py) {
    for (int64_t px = 0; px < pw; ++px) {
      for (int64_t c = 0; c < kChannels; ++c) {
        const int64_t i = (py * pw + px) * kChannels + c;
        if (codes[i] == kPoolNoGradient) continue;
        const int64_t y = 2 * py + codes[i] / 2;
        const int64_t x = 2 * px + codes[i] % 2;
        grad[y * grad_row + x * kChannels + c] = pooled_grad[i];
      }
    }
  }
}

// (out, in, ky, kx) weights as row_kernels' k × k × cin × cout, optionally
// flipped in space with in and out exchanged (the input gradient's
// convolution).
std::vector<float> ConvLayout(const std::vector<float>& w, int64_t out,
                              int64_t in, bool transposed) {
  const int64_t cin = transposed ? out : in;
  const int64_t cout = transposed ? in : out;
  std::vector<float> r(kTaps * cin * cout);
  for (int64_t o = 0; o < out; ++o) {
    for (int64_t i = 0; i < in; ++i) {
      for (int64_t ky = 0; ky < kKernel; ++ky) {
        for (int64_t kx = 0; kx < kKernel; ++kx) {
          const float v = w[((o * in + i) * kKernel + ky) * kKernel + kx];
          if (transposed) {
            const int64_t tap =
                (kKernel - 1 - ky) * kKernel + (kKernel - 1 - kx);
            r[(tap * cin + o) * cout + i] = v;
          } else {
            r[((ky * kKernel + kx) * cin + i) * cout + o] = v;
          }
        }
      }
    }
  }
  return r;
}

// The scratch of one block of rows.
struct Scratch {
  std::vector<float> a;  // a layer's input / activation
  std::vector<float> b;  // its pre-activation / the next gradient
  std::vector<std::vector<float>> slopes;  // σ'(z_l) per hidden layer
};

void Resize(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(n);
}

}  // namespace

MatrixView RowwiseNet::Layer::Forward() const {
  return {forward.data(), in, out, LaneStride(out)};
}

MatrixView RowwiseNet::Layer::Backward() const {
  return {backward.data(), out, in, LaneStride(in)};
}

absl::StatusOr<RowwiseNet> RowwiseNet::Create(const NetWeights& w,
                                              bool potential) {
  RowwiseNet net;
  net.input_dim_ = w.input_dim;
  net.with_time_ = w.with_time;
  net.potential_ = potential;
  net.activation_ = w.activation;
  net.trunk_ = !w.conv1.empty() || !w.conv2.empty();
  if (w.input_dim < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("input_dim must be >= 1, got ", w.input_dim));
  }
  if (w.layers.empty()) {
    return absl::InvalidArgumentError("the network has no layers");
  }
  int64_t features = w.input_dim;
  if (net.trunk_) {
    if (w.input_dim != kImage * kImage ||
        static_cast<int64_t>(w.conv1.size()) != kChannels * kTaps ||
        static_cast<int64_t>(w.conv2.size()) != kChannels * kChannels * kTaps) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the conv trunk needs 784 inputs and conv weights of 392 and 3136 "
          "values, got ",
          w.input_dim, ", ", w.conv1.size(), " and ", w.conv2.size()));
    }
    net.conv1_ = ConvLayout(w.conv1, kChannels, 1, false);
    net.conv2_ = ConvLayout(w.conv2, kChannels, kChannels, false);
    net.conv2_back_ = ConvLayout(w.conv2, kChannels, kChannels, true);
    net.conv1_back_ = ConvLayout(w.conv1, kChannels, 1, true);
    features = kTrunkFeatures;
  }
  int64_t in = features + (w.with_time ? 1 : 0);
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const NetWeights::Linear& source = w.layers[l];
    if (source.in != in || source.out < 1 ||
        static_cast<int64_t>(source.weight.size()) != source.in * source.out ||
        static_cast<int64_t>(source.bias.size()) != source.out) {
      return absl::InvalidArgumentError(absl::StrCat(
          "layer ", l, " must map ", in,
          " inputs with an (out, in) weight and "
          "an (out) bias, got in ",
          source.in, ", out ", source.out, ", ", source.weight.size(),
          " weights, ", source.bias.size(), " biases"));
    }
    Layer layer;
    layer.in = source.in;
    layer.out = source.out;
    const int64_t out_stride = LaneStride(layer.out);
    const int64_t in_stride = LaneStride(layer.in);
    layer.forward.assign(layer.in * out_stride, 0.0f);
    layer.backward.assign(layer.out * in_stride, 0.0f);
    layer.bias.assign(out_stride, 0.0f);
    for (int64_t o = 0; o < layer.out; ++o) {
      for (int64_t i = 0; i < layer.in; ++i) {
        const float v = source.weight[o * layer.in + i];
        layer.forward[i * out_stride + o] = v;
        layer.backward[o * in_stride + i] = v;
      }
      layer.bias[o] = source.bias[o];
    }
    in = layer.out;
    net.layers_.push_back(std::move(layer));
  }
  const int64_t out = net.layers_.back().out;
  const int64_t want = potential ? 1 : w.input_dim;
  if (out != want) {
    return absl::InvalidArgumentError(
        absl::StrCat(potential ? "a potential" : "a direct velocity",
                     " must have ", want, " outputs, got ", out));
  }
  net.output_dim_ = potential ? w.input_dim : out;
  if (potential) {
    net.output_row_.assign(LaneStride(net.layers_.back().in), 0.0f);
    std::copy(w.layers.back().weight.begin(), w.layers.back().weight.end(),
              net.output_row_.begin());
  }
  if (!w.quadratic.empty() && (!potential || w.quadratic.size() != 2)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the quadratic term needs a potential and 2 values, got ",
        w.quadratic.size(), potential ? "" : " on a direct velocity"));
  }
  net.quadratic_ = w.quadratic;
  return net;
}

void RowwiseNet::Features(const float* x, int64_t n, float t, float* features,
                          int64_t stride, std::vector<uint8_t>* pool_codes,
                          Isa isa) const {
  const int64_t count = trunk_ ? kTrunkFeatures : input_dim_;
  if (!trunk_) {
    for (int64_t b = 0; b < n; ++b) {
      std::memcpy(features + b * stride, x + b * input_dim_,
                  sizeof(float) * input_dim_);
    }
  } else {
    constexpr int64_t kPadded1 = kImage + 2 * kPad;    // 34
    constexpr int64_t kPadded2 = kPooled1 + 2 * kPad;  // 20
    std::vector<float> image(kPadded1 * kPadded1, 0.0f);
    std::vector<float> z1(kImage * kImage * kChannels);
    std::vector<float> pooled1(kPadded2 * kPadded2 * kChannels, 0.0f);
    std::vector<float> z2(kPooled1 * kPooled1 * kChannels);
    std::vector<float> pooled2(kTrunkFeatures);
    if (pool_codes != nullptr) pool_codes->resize(n * kPoolCodes);
    for (int64_t b = 0; b < n; ++b) {
      for (int64_t y = 0; y < kImage; ++y) {
        std::memcpy(&image[(y + kPad) * kPadded1 + kPad],
                    x + b * input_dim_ + y * kImage, sizeof(float) * kImage);
      }
      uint8_t* codes =
          pool_codes != nullptr ? pool_codes->data() + b * kPoolCodes : nullptr;
      ConvSameNhwc(image.data(), kImage, kImage, 1, conv1_.data(), kKernel,
                   kChannels, z1.data(), isa);
      ReluMaxPool2x2(z1.data(), kImage, kImage, kChannels,
                     &pooled1[(kPad * kPadded2 + kPad) * kChannels],
                     kPadded2 * kChannels, codes, isa);
      ConvSameNhwc(pooled1.data(), kPooled1, kPooled1, kChannels, conv2_.data(),
                   kKernel, kChannels, z2.data(), isa);
      ReluMaxPool2x2(z2.data(), kPooled1, kPooled1, kChannels, pooled2.data(),
                     kPooled2 * kChannels,
                     codes != nullptr ? codes + kPoolCodes1 : nullptr, isa);
      // NHWC → the (c, y, x) order of ConvTrunkImpl's flatten.
      float* f = features + b * stride;
      for (int64_t c = 0; c < kChannels; ++c) {
        for (int64_t p = 0; p < kPooled2 * kPooled2; ++p) {
          f[c * kPooled2 * kPooled2 + p] = pooled2[p * kChannels + c];
        }
      }
    }
  }
  if (with_time_) {
    for (int64_t b = 0; b < n; ++b) features[b * stride + count] = t;
  }
}

void RowwiseNet::TrunkGradient(const float* feature_grad, int64_t stride,
                               int64_t n,
                               const std::vector<uint8_t>& pool_codes,
                               float scale, float* out, Isa isa) const {
  constexpr int64_t kPadded1 = kImage + 2 * kPad;
  constexpr int64_t kPadded2 = kPooled1 + 2 * kPad;
  std::vector<float> pooled2_grad(kTrunkFeatures);
  std::vector<float> z2_grad(kPadded2 * kPadded2 * kChannels);
  std::vector<float> pooled1_grad(kPooled1 * kPooled1 * kChannels);
  std::vector<float> z1_grad(kPadded1 * kPadded1 * kChannels);
  std::vector<float> image_grad(kImage * kImage);
  for (int64_t b = 0; b < n; ++b) {
    const float* g = feature_grad + b * stride;
    for (int64_t c = 0; c < kChannels; ++c) {
      for (int64_t p = 0; p < kPooled2 * kPooled2; ++p) {
        pooled2_grad[p * kChannels + c] = g[c * kPooled2 * kPooled2 + p];
      }
    }
    const uint8_t* codes = pool_codes.data() + b * kPoolCodes;
    std::fill(z2_grad.begin(), z2_grad.end(), 0.0f);
    Unpool(pooled2_grad.data(), kPooled2, kPooled2, codes + kPoolCodes1,
           &z2_grad[(kPad * kPadded2 + kPad) * kChannels],
           kPadded2 * kChannels);
    ConvSameNhwc(z2_grad.data(), kPooled1, kPooled1, kChannels,
                 conv2_back_.data(), kKernel, kChannels, pooled1_grad.data(),
                 isa);
    std::fill(z1_grad.begin(), z1_grad.end(), 0.0f);
    Unpool(pooled1_grad.data(), kPooled1, kPooled1, codes,
           &z1_grad[(kPad * kPadded1 + kPad) * kChannels],
           kPadded1 * kChannels);
    ConvSameNhwc(z1_grad.data(), kImage, kImage, kChannels, conv1_back_.data(),
                 kKernel, 1, image_grad.data(), isa);
    float* o = out + b * input_dim_;
    for (int64_t i = 0; i < kImage * kImage; ++i) o[i] = image_grad[i] * scale;
  }
}

void RowwiseNet::Evaluate(const float* x, int64_t n, float t, float scale,
                          float* out, Isa isa) const {
  const size_t hidden = layers_.size() - 1;
  Scratch s;
  s.slopes.resize(potential_ ? hidden : 0);
  std::vector<uint8_t> pool_codes;
  for (int64_t begin = 0; begin < n; begin += kBlockRows) {
    const int64_t rows = std::min(kBlockRows, n - begin);
    const float* xb = x + begin * input_dim_;
    float* ob = out + begin * output_dim_;
    int64_t stride = LaneStride(layers_[0].in);
    Resize(s.a, rows * stride);
    Features(xb, rows, t, s.a.data(), stride,
             potential_ && trunk_ ? &pool_codes : nullptr, isa);
    // Forward through the hidden layers: s.a holds each layer's input.
    for (size_t l = 0; l < hidden; ++l) {
      const int64_t next = LaneStride(layers_[l].out);
      Resize(s.b, rows * next);
      DenseRows(s.a.data(), rows, stride, layers_[l].Forward(),
                layers_[l].bias.data(), s.b.data(), next, isa);
      float* slope = nullptr;
      if (potential_) {
        Resize(s.slopes[l], rows * next);
        slope = s.slopes[l].data();
      }
      Resize(s.a, rows * next);
      Activate(activation_, s.b.data(), s.a.data(), slope, rows * next);
      stride = next;
    }
    if (!potential_) {
      const Layer& last = layers_.back();
      const int64_t next = LaneStride(last.out);
      Resize(s.b, rows * next);
      DenseRows(s.a.data(), rows, stride, last.Forward(), last.bias.data(),
                s.b.data(), next, isa);
      for (int64_t b = 0; b < rows; ++b) {
        for (int64_t j = 0; j < output_dim_; ++j) {
          ob[b * output_dim_ + j] = s.b[b * next + j] * scale;
        }
      }
      continue;
    }
    // Backward from U's output row w: δ_L = w ⊙ σ'(z_L), then
    // e_l = δ_l W_l and δ_{l−1} = e_l ⊙ σ'(z_{l−1}); e_1 is ∂U/∂features.
    const int64_t in_stride = LaneStride(layers_[0].in);
    if (hidden == 0) {
      Resize(s.b, rows * in_stride);
      for (int64_t b = 0; b < rows; ++b) {
        std::copy(output_row_.begin(), output_row_.end(),
                  s.b.begin() + b * in_stride);
      }
    } else {
      Resize(s.a, rows * stride);
      for (int64_t b = 0; b < rows; ++b) {
        const float* slope = s.slopes[hidden - 1].data() + b * stride;
        for (int64_t j = 0; j < stride; ++j)
          s.a[b * stride + j] = output_row_[j] * slope[j];
      }
      for (size_t l = hidden; l-- > 0;) {
        const int64_t prev = LaneStride(layers_[l].in);
        Resize(s.b, rows * prev);
        DenseRows(s.a.data(), rows, stride, layers_[l].Backward(), nullptr,
                  s.b.data(), prev, isa);
        if (l == 0) break;
        Resize(s.a, rows * prev);
        const float* slope = s.slopes[l - 1].data();
        for (int64_t i = 0; i < rows * prev; ++i) s.a[i] = s.b[i] * slope[i];
        stride = prev;
      }
    }
    if (trunk_) {
      TrunkGradient(s.b.data(), in_stride, rows, pool_codes, scale, ob, isa);
    } else {
      for (int64_t b = 0; b < rows; ++b) {
        for (int64_t k = 0; k < input_dim_; ++k) {
          ob[b * input_dim_ + k] = s.b[b * in_stride + k] * scale;
        }
      }
    }
    if (!quadratic_.empty()) {
      // ∇ₓ ½(a₀ + a₁t)‖x‖² = (a₀ + a₁t)·x, row by row.
      const float a = (quadratic_[0] + quadratic_[1] * t) * scale;
      for (int64_t i = 0; i < rows * input_dim_; ++i) ob[i] += a * xb[i];
    }
  }
}

}  // namespace proxflow::core::kernels
