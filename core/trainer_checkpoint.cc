// Checkpoint format 2 (proto/proxflow/v1/checkpoint_file.proto, read and
// written by core/checkpoint_file.h): the resolved TrainingConfig, iteration,
// LibTorch version and evaluation history in the header; tensors
//   generator/<parameter or buffer>, critic/<parameter or buffer>,
//   generator_ema/<parameter or buffer> (generator.ema_decay > 0: the
//   weights' moving average, which FlowModel samples),
//   generator_optimizer/<i>/{step,exp_avg,exp_avg_sq[,max_exp_avg_sq]} (i = the
//   parameter's index in the optimiser), critic_optimizer/<i>/..., rng/<stream>
// in the data section. Loading checks every tensor's presence, dtype and shape
// against the networks the stored config builds; nothing else is trusted.
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/optim/adam.h>
#include <torch/version.h>

#include <cstring>
#include <sstream>
#include <type_traits>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base/status_macros.h"
#include "core/checkpoint_file.h"
#include "core/network_size.h"
#include "core/options_resolver.h"
#include "core/torch_fence.h"
#include "core/trainer.h"
#include "core/trainer_impl.h"
#include "core/weight_average.h"

namespace proxflow::core {
namespace {

namespace pb = proxflow::v1;

constexpr std::pair<at::ScalarType, pb::TensorDType> kDTypes[] = {
    {at::kFloat, pb::TENSOR_DTYPE_FLOAT32},
    {at::kDouble, pb::TENSOR_DTYPE_FLOAT64},
    {at::kLong, pb::TENSOR_DTYPE_INT64},
    {at::kByte, pb::TENSOR_DTYPE_UINT8},
    {at::kBFloat16, pb::TENSOR_DTYPE_BFLOAT16},
};

pb::TensorDType ToFileDType(at::ScalarType t) {
  for (const auto& [scalar, file] : kDTypes)
    if (scalar == t) return file;
  return pb::TENSOR_DTYPE_UNSPECIFIED;
}

at::ScalarType ToScalarType(pb::TensorDType t) {
  for (const auto& [scalar, file] : kDTypes)
    if (file == t) return scalar;
  return at::kFloat;  // unreachable: ParseCheckpointFile refuses unknown dtypes
}

void Add(CheckpointFileWriter& w, std::string name, const at::Tensor& t) {
  const at::Tensor c = t.detach().cpu().contiguous();
  TORCH_CHECK(ToFileDType(c.scalar_type()) != pb::TENSOR_DTYPE_UNSPECIFIED,
              "checkpoint: no file dtype for ", c.scalar_type());
  w.Add(std::move(name), ToFileDType(c.scalar_type()), c.sizes().vec(),
        absl::string_view(static_cast<const char*>(c.data_ptr()), c.nbytes()));
}

void AddModule(CheckpointFileWriter& w, absl::string_view prefix,
               const torch::nn::Module& m) {
  for (const auto& p : m.named_parameters(/*recurse=*/true))
    Add(w, absl::StrCat(prefix, "/", p.key()), p.value());
  for (const auto& b : m.named_buffers(/*recurse=*/true))
    Add(w, absl::StrCat(prefix, "/", b.key()), b.value());
}

// The key torch::optim keeps a parameter's state under: a string of the
// TensorImpl address in LibTorch 1.x, the address itself in later releases.
using OptimizerState =
    std::decay_t<decltype(std::declval<torch::optim::Adam&>().state())>;
using StateKey = OptimizerState::key_type;
template <typename Key>
Key KeyOf(const at::Tensor& p) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream os;  // as c10::guts::to_string writes it
    os << p.unsafeGetTensorImpl();
    return os.str();
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

std::vector<at::Tensor> OptimizerParams(torch::optim::Adam& opt) {
  std::vector<at::Tensor> params;
  for (auto& group : opt.param_groups())
    for (auto& p : group.params()) params.push_back(p);
  return params;
}

void AddAdam(CheckpointFileWriter& w, absl::string_view prefix,
             torch::optim::Adam& opt) {
  const std::vector<at::Tensor> params = OptimizerParams(opt);
  for (size_t i = 0; i < params.size(); ++i) {
    auto it = opt.state().find(KeyOf<StateKey>(params[i]));
    if (it == opt.state().end()) continue;  // never stepped
    const auto& st =
        static_cast<const torch::optim::AdamParamState&>(*it->second);
    const std::string base = absl::StrCat(prefix, "/", i, "/");
    Add(w, base + "step", at::tensor(st.step(), at::kLong));
    Add(w, base + "exp_avg", st.exp_avg());
    Add(w, base + "exp_avg_sq", st.exp_avg_sq());
    if (st.max_exp_avg_sq().defined())
      Add(w, base + "max_exp_avg_sq", st.max_exp_avg_sq());
  }
}

absl::Status Bad(absl::string_view context, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(context, what));
}

// The tensor `name` of the file on the CPU, or INVALID_ARGUMENT naming it when
// it is missing or has another dtype or shape than `like` (when given; only
// its metadata is read, it may live on any device).
absl::StatusOr<at::Tensor> Get(const CheckpointFileView& file,
                               const std::string& name,
                               absl::string_view context,
                               const at::Tensor* like = nullptr) {
  auto it = file.tensors.find(name);
  if (it == file.tensors.end()) {
    return Bad(context, absl::StrCat("no tensor ", name));
  }
  const auto& [entry, bytes] = it->second;
  const std::vector<int64_t> shape(entry->shape().begin(),
                                   entry->shape().end());
  if (like != nullptr) {
    if (ToFileDType(like->scalar_type()) != entry->dtype()) {
      return Bad(
          context,
          absl::StrCat("tensor ", name, " has dtype ",
                       pb::TensorDType_Name(entry->dtype()),
                       ", this network needs ",
                       pb::TensorDType_Name(ToFileDType(like->scalar_type()))));
    }
    if (like->sizes().vec() != shape) {
      return Bad(context,
                 absl::StrCat("tensor ", name, " has shape ",
                              c10::str(at::IntArrayRef(shape)),
                              ", this config needs ", c10::str(like->sizes())));
    }
  }
  at::Tensor t =
      at::empty(shape, at::TensorOptions().dtype(ToScalarType(entry->dtype())));
  if (!bytes.empty()) std::memcpy(t.data_ptr(), bytes.data(), bytes.size());
  return t;
}

absl::Status LoadAdam(const CheckpointFileView& file, absl::string_view prefix,
                      torch::optim::Adam& opt) {
  const std::vector<at::Tensor> params = OptimizerParams(opt);
  opt.state().clear();
  const std::string context = "checkpoint: ";
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string base = absl::StrCat(prefix, "/", i, "/");
    if (!file.tensors.contains(base + "step")) continue;
    const at::Tensor& p = params[i];
    PROXFLOW_ASSIGN_OR_RETURN(at::Tensor step,
                              Get(file, base + "step", context));
    if (step.scalar_type() != at::kLong || step.numel() != 1 ||
        step.item<int64_t>() < 0) {
      return Bad(context, absl::StrCat("tensor ", base,
                                       "step is not one "
                                       "non-negative int64"));
    }
    PROXFLOW_ASSIGN_OR_RETURN(at::Tensor exp_avg,
                              Get(file, base + "exp_avg", context, &p));
    PROXFLOW_ASSIGN_OR_RETURN(at::Tensor exp_avg_sq,
                              Get(file, base + "exp_avg_sq", context, &p));
    auto state = std::make_unique<torch::optim::AdamParamState>();
    state->step(step.item<int64_t>());
    state->exp_avg(exp_avg.to(p.device()));
    state->exp_avg_sq(exp_avg_sq.to(p.device()));
    if (file.tensors.contains(base + "max_exp_avg_sq")) {
      PROXFLOW_ASSIGN_OR_RETURN(
          at::Tensor max_sq, Get(file, base + "max_exp_avg_sq", context, &p));
      state->max_exp_avg_sq(max_sq.to(p.device()));
    }
    opt.state()[KeyOf<StateKey>(p)] = std::move(state);
  }
  return absl::OkStatus();
}

// LibTorch refusing values read from the file (e.g. an RNG state it cannot
// use) is bad input, not a fault of the server.
absl::Status RefusedIsBadInput(absl::Status status) {
  if (status.code() != absl::StatusCode::kInternal) return status;
  return absl::InvalidArgumentError(absl::StrCat(
      "checkpoint: LibTorch refused its contents (", status.message(), ")"));
}

std::vector<Metrics> HistoryOf(const pb::CheckpointHeader& h) {
  std::vector<Metrics> out;
  for (const pb::HistoryRow& row : h.history()) {
    Metrics m;
    m.iteration = row.iteration();
    for (int c = 0; c < row.values_size(); ++c)
      m.values.emplace_back(h.history_names(c), row.values(c));
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> Trainer::SerializeCheckpoint() const {
  return Fence("saving checkpoint", [&]() -> absl::StatusOr<std::string> {
    const Impl& s = *impl_;
    pb::CheckpointHeader h;
    h.set_torch_version(TORCH_VERSION);
    *h.mutable_config() = s.options.resolved_config;
    h.set_iteration(s.iteration);
    if (!s.history.empty()) {
      for (const auto& [name, value] : s.history.front().values)
        h.add_history_names(name);
    }
    for (const Metrics& m : s.history) {
      pb::HistoryRow* row = h.add_history();
      row->set_iteration(m.iteration);
      for (const std::string& name : h.history_names())
        row->add_values(m.Find(name).value_or(std::nan("")));
    }
    CheckpointFileWriter w;
    AddModule(w, "generator", *s.generator);
    if (s.average) AddModule(w, kAveragePrefix, *s.average);
    AddModule(w, "critic", *s.critic);
    AddAdam(w, "generator_optimizer", *s.generator_optimizer);
    AddAdam(w, "critic_optimizer", *s.critic_optimizer);
    for (int i = 0; i < RandomStreams::kNumStreams; ++i) {
      Add(w, absl::StrCat("rng/", RandomStreams::Name(static_cast<Stream>(i))),
          s.rng.at(i).get_state());
    }
    return w.Finish(std::move(h));
  });
}

absl::StatusOr<StoredCheckpoint> ReadCheckpoint(absl::string_view bytes) {
  PROXFLOW_ASSIGN_OR_RETURN(CheckpointFileView file,
                            ParseCheckpointFile(bytes));
  absl::StatusOr<TrainOptions> options =
      ResolveStoredTrainOptions(file.header.config());
  if (!options.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint: its stored config does not resolve (",
                     options.status().message(), ")"));
  }
  // The file must carry the values its config claims before any network is
  // built: a small file whose config names huge networks would otherwise make
  // the loader allocate them.
  std::vector<std::pair<std::string, int64_t>> needs = {
      {"generator/", GeneratorParameters(*options)},
      {"critic/", CriticParameters(*options)}};
  if (options->generator.ema_decay > 0)
    needs.emplace_back(absl::StrCat(kAveragePrefix, "/"),
                       GeneratorParameters(*options));
  for (const auto& [prefix, need] : needs) {
    int64_t held = 0;
    for (const auto& [name, tensor] : file.tensors) {
      if (absl::StartsWith(name, prefix))
        held += static_cast<int64_t>(tensor.second.size()) /
                DTypeBytes(tensor.first->dtype());
    }
    if (held < need) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint: its config builds a ",
                       prefix.substr(0, prefix.size() - 1), " of ", need,
                       " parameters, the file holds ", held, " values for it"));
    }
  }
  if (file.header.iteration() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint: negative iteration ", file.header.iteration()));
  }
  return StoredCheckpoint{std::move(file), *std::move(options)};
}

absl::Status LoadModule(const CheckpointFileView& file,
                        absl::string_view prefix, torch::nn::Module& module,
                        absl::string_view context, bool exact) {
  return RefusedIsBadInput(
      Fence("loading checkpoint weights", [&]() -> absl::Status {
        absl::flat_hash_set<std::string> used;
        const auto fill = [&](const std::string& name,
                              at::Tensor& target) -> absl::Status {
          const std::string key = absl::StrCat(prefix, "/", name);
          PROXFLOW_ASSIGN_OR_RETURN(at::Tensor value,
                                    Get(file, key, context, &target));
          torch::NoGradGuard no_grad;
          target.copy_(value);
          used.insert(key);
          return absl::OkStatus();
        };
        for (auto& p : module.named_parameters(/*recurse=*/true))
          PROXFLOW_RETURN_IF_ERROR(fill(p.key(), p.value()));
        for (auto& b : module.named_buffers(/*recurse=*/true))
          PROXFLOW_RETURN_IF_ERROR(fill(b.key(), b.value()));
        if (exact) {
          const std::string start = absl::StrCat(prefix, "/");
          for (const auto& [name, unused] : file.tensors) {
            if (absl::StartsWith(name, start) && !used.contains(name)) {
              return Bad(context, absl::StrCat("tensor ", name,
                                               " is not part of the network "
                                               "its config builds"));
            }
          }
        }
        return absl::OkStatus();
      }));
}

absl::StatusOr<CheckpointSummary> InspectCheckpoint(absl::string_view bytes) {
  PROXFLOW_ASSIGN_OR_RETURN(StoredCheckpoint stored, ReadCheckpoint(bytes));
  Networks nets = MakeNetworks(stored.options);
  PROXFLOW_RETURN_IF_ERROR(LoadModule(stored.file, "generator", *nets.generator,
                                      "checkpoint: ", /*exact=*/true));
  PROXFLOW_RETURN_IF_ERROR(LoadModule(stored.file, "critic", *nets.critic,
                                      "checkpoint: ", /*exact=*/true));
  if (stored.options.generator.ema_decay > 0) {
    PROXFLOW_RETURN_IF_ERROR(LoadModule(stored.file, kAveragePrefix,
                                        *nets.generator, "checkpoint: ",
                                        /*exact=*/true));
  }
  CheckpointSummary summary;
  summary.config = std::move(stored.options.resolved_config);
  summary.iteration = stored.file.header.iteration();
  summary.torch_version = stored.file.header.torch_version();
  summary.history = HistoryOf(stored.file.header);
  return summary;
}

absl::StatusOr<std::unique_ptr<Trainer>> Trainer::CreateFromWeights(
    const TrainOptions& options, const RuntimeOptions& runtime,
    absl::string_view init_checkpoint) {
  // The file first: foreign bytes are refused before anything is built.
  absl::StatusOr<StoredCheckpoint> stored = ReadCheckpoint(init_checkpoint);
  if (!stored.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("training.init_from: ", stored.status().message()));
  }
  PROXFLOW_ASSIGN_OR_RETURN(std::unique_ptr<Impl> impl,
                            BuildImpl(options, runtime));
  // Same names, shapes checked one by one: another architecture is refused
  // naming the first tensor that does not fit.
  PROXFLOW_RETURN_IF_ERROR(
      LoadModule(stored->file, "generator", *impl->generator,
                 "training.init_from: the checkpoint's generator ",
                 /*exact=*/true));
  PROXFLOW_RETURN_IF_ERROR(LoadModule(
      stored->file, "critic", *impl->critic,
      "training.init_from: the checkpoint's critic ", /*exact=*/true));
  // The moving average starts at the weights the run starts from (the
  // parent's trained weights, not its average).
  if (impl->average) {
    PROXFLOW_RETURN_IF_ERROR(Fence("starting the weights' average", [&] {
      CopyWeights(*impl->average, *impl->generator);
      return absl::OkStatus();
    }));
  }
  return std::unique_ptr<Trainer>(new Trainer(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<Trainer>> Trainer::FromCheckpoint(
    absl::string_view bytes, const RuntimeOptions& runtime) {
  // Header first: reject foreign files before building anything.
  PROXFLOW_ASSIGN_OR_RETURN(StoredCheckpoint stored, ReadCheckpoint(bytes));
  PROXFLOW_ASSIGN_OR_RETURN(std::unique_ptr<Impl> impl,
                            BuildImpl(stored.options, runtime));
  Impl& s = *impl;
  PROXFLOW_RETURN_IF_ERROR(LoadModule(stored.file, "generator", *s.generator,
                                      "checkpoint: ", /*exact=*/true));
  PROXFLOW_RETURN_IF_ERROR(LoadModule(stored.file, "critic", *s.critic,
                                      "checkpoint: ", /*exact=*/true));
  if (s.average) {
    PROXFLOW_RETURN_IF_ERROR(LoadModule(stored.file, kAveragePrefix, *s.average,
                                        "checkpoint: ",
                                        /*exact=*/true));
  }
  PROXFLOW_RETURN_IF_ERROR(
      RefusedIsBadInput(Fence("restoring checkpoint", [&]() -> absl::Status {
        PROXFLOW_RETURN_IF_ERROR(LoadAdam(stored.file, "generator_optimizer",
                                          *s.generator_optimizer));
        PROXFLOW_RETURN_IF_ERROR(
            LoadAdam(stored.file, "critic_optimizer", *s.critic_optimizer));
        for (int i = 0; i < RandomStreams::kNumStreams; ++i) {
          const at::Tensor like = s.rng.at(i).get_state();
          PROXFLOW_ASSIGN_OR_RETURN(
              at::Tensor state,
              Get(stored.file,
                  absl::StrCat("rng/",
                               RandomStreams::Name(static_cast<Stream>(i))),
                  "checkpoint: ", &like));
          s.rng.at(i).set_state(state);
        }
        return absl::OkStatus();
      })));
  s.iteration = stored.file.header.iteration();
  s.history = HistoryOf(stored.file.header);
  return std::unique_ptr<Trainer>(new Trainer(std::move(impl)));
}

}  // namespace proxflow::core
