// Format-1 checkpoints (LibTorch zip archives written by torch::serialize:
// format = "proxflow-checkpoint", format_version = 1, config as a uint8 tensor,
// iteration, generator/, critic/, generator_optimizer/, critic_optimizer/
// module archives, rng_<stream>, history, history_names). Reading them runs
// LibTorch's TorchScript importer, which fuzzing crashed with a crafted file,
// so only the offline converter (`proxflow-lab convert-checkpoint`) reads them,
// on files the user trusts; the server and every other loader read format 2
// only.
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/serialize/input-archive.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/base/status_macros.h"
#include "core/checkpoint_guard.h"
#include "core/options_resolver.h"
#include "core/torch_fence.h"
#include "core/trainer.h"
#include "core/trainer_impl.h"

namespace proxflow::core {
namespace {

constexpr char kFormat[] = "proxflow-checkpoint";
constexpr int64_t kFormatVersion = 1;

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

// A file LibTorch cannot even open or read is bad input, not a fault.
absl::Status NotReadableIsBadInput(absl::Status status) {
  if (status.code() != absl::StatusCode::kInternal) return status;
  return absl::InvalidArgumentError(
      absl::StrCat("checkpoint: not a readable format-1 checkpoint (",
                   status.message(), ")"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Trainer>> Trainer::FromLegacyCheckpoint(
    absl::string_view bytes, const RuntimeOptions& runtime) {
  if (bytes.substr(0, 8) == "PXFLCKPT") {
    return absl::InvalidArgumentError(
        "checkpoint: already format 2, nothing to convert");
  }
  PROXFLOW_RETURN_IF_ERROR(CheckCheckpointContainer(bytes));
  torch::serialize::InputArchive a;
  proxflow::v1::TrainingConfig config;
  PROXFLOW_RETURN_IF_ERROR(NotReadableIsBadInput(
      Fence("reading a format-1 checkpoint", [&]() -> absl::Status {
        a.load_from(bytes.data(), bytes.size(), c10::Device(c10::kCPU));
        c10::IValue format, version;
        if (!a.try_read("format", format) || !format.isString() ||
            format.toStringRef() != kFormat) {
          return absl::InvalidArgumentError(
              "checkpoint: not a proxflow checkpoint (no format tag)");
        }
        if (!a.try_read("format_version", version) || !version.isInt() ||
            version.toInt() != kFormatVersion) {
          return absl::InvalidArgumentError(
              "checkpoint: not a format-1 checkpoint");
        }
        at::Tensor config_bytes;
        a.read("config", config_bytes);
        const at::Tensor c = config_bytes.to(at::kByte).contiguous();
        if (!config.ParseFromArray(c.data_ptr<uint8_t>(),
                                   static_cast<int>(c.numel()))) {
          return absl::InvalidArgumentError(
              "checkpoint: the stored config does not parse");
        }
        return absl::OkStatus();
      })));
  absl::StatusOr<TrainOptions> options = ResolveTrainOptions(config);
  if (!options.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint: its stored config does not resolve (",
                     options.status().message(), ")"));
  }
  RuntimeOptions cpu = runtime;
  cpu.device = "cpu";
  PROXFLOW_ASSIGN_OR_RETURN(std::unique_ptr<Impl> impl,
                            BuildImpl(*options, cpu));
  PROXFLOW_RETURN_IF_ERROR(NotReadableIsBadInput(
      Fence("restoring a format-1 checkpoint", [&]() -> absl::Status {
        Impl& s = *impl;
        c10::IValue iteration;
        a.read("iteration", iteration);
        s.iteration = iteration.toInt();
        torch::serialize::InputArchive generator, critic, generator_opt,
            critic_opt;
        a.read("generator", generator);
        a.read("critic", critic);
        a.read("generator_optimizer", generator_opt);
        a.read("critic_optimizer", critic_opt);
        s.generator->load(generator);
        s.critic->load(critic);
        s.generator_optimizer->load(generator_opt);
        s.critic_optimizer->load(critic_opt);
        for (int i = 0; i < RandomStreams::kNumStreams; ++i) {
          at::Tensor state;
          a.read(
              absl::StrCat("rng_", RandomStreams::Name(static_cast<Stream>(i))),
              state);
          s.rng.at(i).set_state(state.cpu());
        }
        s.history = ReadHistory(a);
        return absl::OkStatus();
      })));
  return std::unique_ptr<Trainer>(new Trainer(std::move(impl)));
}

}  // namespace proxflow::core
