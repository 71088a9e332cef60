// Checkpoint format (version 1): one torch archive (zip) holding
//   format = "proxflow-checkpoint", format_version = 1, torch_version,
//   config (uint8 tensor: the resolved TrainingConfig, protobuf binary),
//   iteration, generator/, critic/ (module archives), generator_optimizer/,
//   critic_optimizer/, rng/<stream> (generator states), history (double [K,
//   1+M]) with history_names.
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/version.h>

#include <cstring>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/base/status_macros.h"
#include "core/checkpoint_guard.h"
#include "core/device.h"
#include "core/options_resolver.h"
#include "core/torch_fence.h"
#include "core/trainer.h"
#include "core/trainer_impl.h"

namespace proxflow::core {
namespace {

constexpr char kFormat[] = "proxflow-checkpoint";
constexpr int64_t kFormatVersion = 1;

std::string RngKey(int i) {
  return absl::StrCat("rng_", RandomStreams::Name(static_cast<Stream>(i)));
}

at::Tensor BytesToTensor(const std::string& bytes) {
  at::Tensor t = at::empty({static_cast<int64_t>(bytes.size())}, at::kByte);
  if (!bytes.empty())
    std::memcpy(t.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  return t;
}

std::string TensorToBytes(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kByte).cpu().contiguous();
  return std::string(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()),
                     c.numel());
}

// Evaluation history as a dense table: column 0 is the iteration, the rest
// follow `names`.
void WriteHistory(const std::vector<Metrics>& history,
                  torch::serialize::OutputArchive& a) {
  std::vector<std::string> names;
  if (!history.empty()) {
    for (const auto& [name, value] : history.front().values)
      names.push_back(name);
  }
  at::Tensor table = at::zeros({static_cast<int64_t>(history.size()),
                                static_cast<int64_t>(names.size()) + 1},
                               at::kDouble);
  for (size_t r = 0; r < history.size(); ++r) {
    table[r][0] = static_cast<double>(history[r].iteration);
    for (size_t c = 0; c < names.size(); ++c) {
      table[r][c + 1] = history[r].Find(names[c]).value_or(std::nan(""));
    }
  }
  a.write("history", table);
  a.write("history_names", c10::IValue(absl::StrJoin(names, ",")));
}

std::vector<Metrics> ReadHistory(torch::serialize::InputArchive& a) {
  at::Tensor table;
  a.read("history", table);
  c10::IValue names_value;
  a.read("history_names", names_value);
  std::vector<std::string> names;
  if (!names_value.toStringRef().empty())
    names = absl::StrSplit(names_value.toStringRef(), ',');
  std::vector<Metrics> out;
  for (int64_t r = 0; r < table.size(0); ++r) {
    Metrics m;
    m.iteration = static_cast<int64_t>(table[r][0].item<double>());
    for (size_t c = 0;
         c < names.size() && static_cast<int64_t>(c + 1) < table.size(1); ++c) {
      m.values.emplace_back(names[c], table[r][c + 1].item<double>());
    }
    out.push_back(std::move(m));
  }
  return out;
}

// A file LibTorch cannot even open or read is bad input, not a server fault.
absl::Status NotReadableIsBadInput(absl::Status status) {
  if (status.code() != absl::StatusCode::kInternal) return status;
  return absl::InvalidArgumentError(
      absl::StrCat("checkpoint: not a readable proxflow checkpoint (",
                   status.message(), ")"));
}

}  // namespace

absl::StatusOr<std::string> Trainer::SerializeCheckpoint() const {
  return Fence("saving checkpoint", [&]() -> absl::StatusOr<std::string> {
    const Impl& s = *impl_;
    std::string config;
    if (!s.options.resolved_config.SerializeToString(&config)) {
      return absl::InternalError("could not serialize the resolved config");
    }
    torch::serialize::OutputArchive a;
    a.write("format", c10::IValue(std::string(kFormat)));
    a.write("format_version", c10::IValue(kFormatVersion));
    a.write("torch_version", c10::IValue(std::string(TORCH_VERSION)));
    a.write("config", BytesToTensor(config));
    a.write("iteration", c10::IValue(s.iteration));
    torch::serialize::OutputArchive generator, critic, generator_opt,
        critic_opt;
    s.generator->save(generator);
    s.critic->save(critic);
    s.generator_optimizer->save(generator_opt);
    s.critic_optimizer->save(critic_opt);
    a.write("generator", generator);
    a.write("critic", critic);
    a.write("generator_optimizer", generator_opt);
    a.write("critic_optimizer", critic_opt);
    for (int i = 0; i < RandomStreams::kNumStreams; ++i)
      a.write(RngKey(i), s.rng.at(i).get_state());
    WriteHistory(s.history, a);
    std::ostringstream out;
    a.save_to(out);
    return out.str();
  });
}

namespace {

// Copies every parameter and buffer of `from` into the same-named tensor of
// `to`; INVALID_ARGUMENT naming the first one missing or of another shape.
absl::Status CopyWeights(const torch::nn::Module& from, torch::nn::Module& to,
                         absl::string_view what) {
  const auto source = from.named_parameters(/*recurse=*/true);
  const auto source_buffers = from.named_buffers(/*recurse=*/true);
  const auto copy = [&](const std::string& name, at::Tensor& target,
                        const at::Tensor* value) -> absl::Status {
    if (value == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("training.init_from: the checkpoint's ", what,
                       " has no tensor ", name));
    }
    if (value->sizes() != target.sizes()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "training.init_from: the checkpoint's ", what, " tensor ", name,
          " has shape ", c10::str(value->sizes()), ", this config needs ",
          c10::str(target.sizes())));
    }
    torch::NoGradGuard no_grad;
    target.copy_(*value);
    return absl::OkStatus();
  };
  for (auto& p : to.named_parameters(/*recurse=*/true)) {
    PROXFLOW_RETURN_IF_ERROR(copy(p.key(), p.value(), source.find(p.key())));
  }
  for (auto& b : to.named_buffers(/*recurse=*/true)) {
    PROXFLOW_RETURN_IF_ERROR(
        copy(b.key(), b.value(), source_buffers.find(b.key())));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TrainOptions> LoadCheckpointArchive(
    absl::string_view bytes, const c10::Device& device,
    torch::serialize::InputArchive& a) {
  PROXFLOW_RETURN_IF_ERROR(CheckCheckpointContainer(bytes));
  proxflow::v1::TrainingConfig config;
  absl::Status header = Fence("reading checkpoint", [&]() -> absl::Status {
    a.load_from(bytes.data(), bytes.size(), device);
    c10::IValue format, version;
    if (!a.try_read("format", format) || !format.isString() ||
        format.toStringRef() != kFormat) {
      return absl::InvalidArgumentError(
          "checkpoint: not a proxflow checkpoint (no format tag)");
    }
    if (!a.try_read("format_version", version) || !version.isInt() ||
        version.toInt() != kFormatVersion) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint: unsupported format_version ",
                       version.isInt() ? version.toInt() : -1,
                       " (this build reads ", kFormatVersion, ")"));
    }
    at::Tensor config_bytes;
    a.read("config", config_bytes);
    if (!config.ParseFromString(TensorToBytes(config_bytes))) {
      return absl::InvalidArgumentError(
          "checkpoint: the stored config does not parse");
    }
    return absl::OkStatus();
  });
  PROXFLOW_RETURN_IF_ERROR(NotReadableIsBadInput(std::move(header)));
  absl::StatusOr<TrainOptions> options = ResolveTrainOptions(config);
  if (!options.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint: its stored config does not resolve (",
                     options.status().message(), ")"));
  }
  return options;
}

absl::StatusOr<Networks> LoadNetworks(torch::serialize::InputArchive& a,
                                      const TrainOptions& options,
                                      bool with_critic) {
  Networks nets = MakeNetworks(options);
  PROXFLOW_RETURN_IF_ERROR(NotReadableIsBadInput(
      Fence("loading checkpoint networks", [&]() -> absl::Status {
        torch::serialize::InputArchive generator;
        a.read("generator", generator);
        nets.generator->load(generator);
        if (with_critic) {
          torch::serialize::InputArchive critic;
          a.read("critic", critic);
          nets.critic->load(critic);
        }
        return absl::OkStatus();
      })));
  return nets;
}

absl::StatusOr<CheckpointSummary> InspectCheckpoint(absl::string_view bytes) {
  torch::serialize::InputArchive a;
  PROXFLOW_ASSIGN_OR_RETURN(
      TrainOptions options,
      LoadCheckpointArchive(bytes, c10::Device(c10::kCPU), a));
  PROXFLOW_RETURN_IF_ERROR(
      LoadNetworks(a, options, /*with_critic=*/true).status());
  CheckpointSummary summary;
  summary.config = std::move(options.resolved_config);
  PROXFLOW_RETURN_IF_ERROR(
      NotReadableIsBadInput(Fence("reading checkpoint", [&]() -> absl::Status {
        c10::IValue iteration, torch_version;
        a.read("iteration", iteration);
        summary.iteration = iteration.toInt();
        if (a.try_read("torch_version", torch_version) &&
            torch_version.isString()) {
          summary.torch_version = torch_version.toStringRef();
        }
        summary.history = ReadHistory(a);
        return absl::OkStatus();
      })));
  return summary;
}

absl::StatusOr<std::unique_ptr<Trainer>> Trainer::CreateFromWeights(
    const TrainOptions& options, const RuntimeOptions& runtime,
    absl::string_view init_checkpoint) {
  PROXFLOW_ASSIGN_OR_RETURN(std::unique_ptr<Impl> impl,
                            BuildImpl(options, runtime));
  // Loaded into networks of the checkpoint's own shapes, then copied tensor
  // by tensor after a shape check (Module::load would silently take any).
  torch::serialize::InputArchive a;
  PROXFLOW_ASSIGN_OR_RETURN(
      TrainOptions stored,
      LoadCheckpointArchive(init_checkpoint, c10::Device(c10::kCPU), a));
  PROXFLOW_ASSIGN_OR_RETURN(Networks from,
                            LoadNetworks(a, stored, /*with_critic=*/true));
  PROXFLOW_RETURN_IF_ERROR(
      CopyWeights(*from.generator, *impl->generator, "generator"));
  PROXFLOW_RETURN_IF_ERROR(CopyWeights(*from.critic, *impl->critic, "critic"));
  return std::unique_ptr<Trainer>(new Trainer(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<Trainer>> Trainer::FromCheckpoint(
    absl::string_view bytes, const RuntimeOptions& runtime) {
  // Header first: reject foreign files before building anything. The archive is
  // loaded onto the run's device so that optimiser state lands next to the
  // parameters.
  PROXFLOW_ASSIGN_OR_RETURN(DeviceSpec spec, ResolveDevice(runtime.device));
  const c10::Device device =
      spec.cuda ? c10::Device(c10::kCUDA, spec.index) : c10::Device(c10::kCPU);
  torch::serialize::InputArchive a;
  PROXFLOW_ASSIGN_OR_RETURN(TrainOptions options,
                            LoadCheckpointArchive(bytes, device, a));
  PROXFLOW_ASSIGN_OR_RETURN(std::unique_ptr<Impl> impl,
                            BuildImpl(options, runtime));
  PROXFLOW_RETURN_IF_ERROR(Fence("restoring checkpoint", [&]() -> absl::Status {
    Impl& s = *impl;
    c10::IValue iteration;
    a.read("iteration", iteration);
    s.iteration = iteration.toInt();
    torch::serialize::InputArchive generator, critic, generator_opt, critic_opt;
    a.read("generator", generator);
    a.read("critic", critic);
    a.read("generator_optimizer", generator_opt);
    a.read("critic_optimizer", critic_opt);
    s.generator->load(generator);
    s.critic->load(critic);
    s.generator->to(s.device);
    s.critic->to(s.device);
    s.generator_optimizer->load(generator_opt);
    s.critic_optimizer->load(critic_opt);
    for (int i = 0; i < RandomStreams::kNumStreams; ++i) {
      at::Tensor state;
      a.read(RngKey(i), state);
      s.rng.at(i).set_state(state.cpu());
    }
    s.history = ReadHistory(a);
    return absl::OkStatus();
  }));
  return std::unique_ptr<Trainer>(new Trainer(std::move(impl)));
}

}  // namespace proxflow::core
