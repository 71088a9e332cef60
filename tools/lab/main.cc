// proxflow-lab: experiments on the core library, in process.
//
//   proxflow-lab train [--preset toy-2d] [--toy pinwheel] [--iterations N]
//   [--seed S]
//                      [--batch_size B] [--critic_lr X] [--generator_lr X]
//                      [--mnist_dir DIR] [--out_dir DIR] [--samples N]
//   proxflow-lab repro manifold [--dataset pinwheel] [--dims 2,7,12]
//                      [--methods w1w2,w2,w1,none] [--iterations N]
//                      [--seed S | --seeds 0,1,2]
//                      [--eval_samples 5000] [--out_dir DIR]
//   proxflow-lab repro mnist [--methods w1w2,w2,w1,none] [--iterations N]
//                      [--seed S | --seeds 0,1,2] [--eval_samples N]
//                      [--classifier_epochs 4] [--eval_interval N]
//                      [--cache_dir DIR] [--save_checkpoints] [--out_dir DIR]
//   proxflow-lab bench train [--preset toy-2d] [--iterations 200] [--repeats 3]
//   proxflow-lab bench sample [--preset toy-2d] [--batches 1,16,256,4096]
//                      [--steps K] [--repeats 3]
//   proxflow-lab bench matmul [--n 8192]
//   proxflow-lab bench blas   the OpenBLAS kernels in use, as JSON (so a
//                      reference can be run on the same ones), and whether
//                      this CPU executes them
//   proxflow-lab convert-checkpoint IN OUT [--mnist_dir DIR |
//   --uploaded_dataset F]
//                      rewrites a format-1 checkpoint (LibTorch archive) as
//                      format 2; only for files you trust (it runs LibTorch's
//                      TorchScript importer); needs the run's data as resuming
//                      does
// Common: [--threads T] [--device auto|cpu|cuda:N] [--precision auto|fp32|bf16]
// [--mnist_dir DIR]. Ctrl-C stops a repro study
// and keeps the report of what finished.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/base/blas_kernels.h"
#include "core/base/file_util.h"
#include "core/base/program_help.h"
#include "core/base/status_macros.h"
#include "core/device.h"
#include "core/kernels/row_kernels.h"
#include "core/trainer.h"
#include "tools/lab/bench_sample.h"
#include "tools/lab/bench_train.h"
#include "tools/lab/lab_train.h"
#include "tools/lab/repro_manifold.h"
#include "tools/lab/repro_mnist.h"

ABSL_FLAG(std::string, preset, "toy-2d",
          "train: toy-2d, manifold-7d, manifold-12d, mnist, mnist-paper");
ABSL_FLAG(std::string, toy, "",
          "train: toy set for toy presets (e.g. pinwheel, eight_gaussians)");
ABSL_FLAG(int64_t, iterations, 0, "generator iterations (0: the preset's)");
ABSL_FLAG(int64_t, seed, 0, "seed of every random stream");
ABSL_FLAG(std::string, seeds, "",
          "repro: seeds to run each configuration with, comma-separated "
          "(e.g. 0,1,2; instead of --seed); the report adds the spread");
ABSL_FLAG(int32_t, batch_size, 0, "train: batch size (0: the preset's)");
ABSL_FLAG(int32_t, threads, 0, "LibTorch intra-op threads (0: all cores)");
ABSL_FLAG(std::string, device, "auto", "auto, cpu, cuda or cuda:N");
ABSL_FLAG(std::string, precision, "auto",
          "network bodies: auto (bf16 on CUDA, fp32 on CPU), fp32 or bf16");
ABSL_FLAG(std::string, batches, "1,16,256,4096",
          "bench sample: batch sizes, comma-separated");
ABSL_FLAG(int32_t, steps, 0, "bench sample: steps (0: the preset's)");
ABSL_FLAG(int32_t, n, 8192, "bench matmul: matrix size");
ABSL_FLAG(std::string, mnist_dir, "",
          "MNIST directory (default: $PROXFLOW_MNIST_DIR)");
ABSL_FLAG(std::string, out_dir, "",
          "output directory (default: lab-output or repro-<study>)");
ABSL_FLAG(std::string, uploaded_dataset, "",
          "convert-checkpoint: the data file of an uploaded-dataset run");
ABSL_FLAG(int32_t, samples, 2000,
          "train: points in the plot and the MMD estimate");
ABSL_FLAG(double, critic_lr, 0,
          "train: critic learning rate (0: the preset's)");
ABSL_FLAG(double, generator_lr, 0,
          "train: generator learning rate (0: the preset's)");
ABSL_FLAG(std::string, dataset, "pinwheel", "repro manifold: toy set");
ABSL_FLAG(std::string, dims, "2,7,12", "repro manifold: ambient dimensions");
ABSL_FLAG(std::string, methods, "w1w2,w2,w1,none",
          "repro manifold: ablations to run");
ABSL_FLAG(int32_t, eval_samples, 5000,
          "repro: generated and target points per measurement");

ABSL_FLAG(int32_t, classifier_epochs, 4,
          "repro mnist: epochs of the quality classifier");
ABSL_FLAG(int64_t, eval_interval, 0,
          "repro mnist: evaluate every N iterations (class coverage, largest "
          "class share, Fréchet from the class monitor) for the report's "
          "coverage curve; 0: at the end only");
ABSL_FLAG(bool, save_checkpoints, false,
          "repro mnist: write each run's final checkpoint as OUT_DIR/STEM.pxf "
          "(what proxflow ckpt upload takes)");
ABSL_FLAG(std::string, cache_dir, "",
          "repro mnist: classifier weights cache (default OUT_DIR/../"
          ".classifier-cache)");
ABSL_FLAG(std::string, config_patch, "",
          "repro: a TrainingConfig in JSON merged over every run's config, "
          "e.g. '{\"generator\": {\"network\": {\"width\": 64}}}', or "
          "@FILE holding one");
ABSL_FLAG(int32_t, repeats, 3, "bench: timed blocks (the median is reported)");
ABSL_FLAG(int32_t, warmup, 10,
          "bench train: untimed iterations before the timed blocks");

namespace {

std::atomic<bool> g_cancel{false};

void OnSignal(int) { g_cancel.store(true); }

// --mnist_dir, else $PROXFLOW_MNIST_DIR, else "".
std::string MnistDir() {
  std::string dir = absl::GetFlag(FLAGS_mnist_dir);
  if (dir.empty() && std::getenv("PROXFLOW_MNIST_DIR") != nullptr)
    dir = std::getenv("PROXFLOW_MNIST_DIR");
  return dir;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "proxflow-lab: %s\n",
               std::string(status.message()).c_str());
  return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

int Train() {
  proxflow::lab::TrainCommand command;
  auto& config = command.config;
  config.set_preset(absl::GetFlag(FLAGS_preset));
  config.set_seed(static_cast<uint64_t>(absl::GetFlag(FLAGS_seed)));
  if (absl::GetFlag(FLAGS_iterations) != 0)
    config.set_iterations(absl::GetFlag(FLAGS_iterations));
  if (absl::GetFlag(FLAGS_batch_size) != 0)
    config.set_batch_size(absl::GetFlag(FLAGS_batch_size));
  if (absl::GetFlag(FLAGS_critic_lr) != 0) {
    config.mutable_critic()->set_learning_rate(absl::GetFlag(FLAGS_critic_lr));
  }
  if (absl::GetFlag(FLAGS_generator_lr) != 0) {
    config.mutable_generator()->set_learning_rate(
        absl::GetFlag(FLAGS_generator_lr));
  }
  if (!absl::GetFlag(FLAGS_toy).empty()) {
    proxflow::v1::ToyShape shape;
    const std::string name =
        "TOY_SHAPE_" + absl::AsciiStrToUpper(absl::GetFlag(FLAGS_toy));
    if (!proxflow::v1::ToyShape_Parse(name, &shape)) {
      return Fail(absl::InvalidArgumentError("--toy: unknown toy set \"" +
                                             absl::GetFlag(FLAGS_toy) + "\""));
    }
    config.mutable_dataset()->set_toy(shape);
  }
  const std::string mnist_dir = MnistDir();
  if (!mnist_dir.empty()) config.mutable_dataset()->set_mnist_dir(mnist_dir);
  command.device = absl::GetFlag(FLAGS_device);
  command.precision = absl::GetFlag(FLAGS_precision);
  command.out_dir = absl::GetFlag(FLAGS_out_dir).empty()
                        ? "lab-output"
                        : absl::GetFlag(FLAGS_out_dir);
  command.samples = absl::GetFlag(FLAGS_samples);
  const absl::Status status = proxflow::lab::RunTrain(command);
  return status.ok() ? 0 : Fail(status);
}

// --seeds as a list, else {--seed}. INVALID_ARGUMENT names the flag and the
// value.
absl::StatusOr<std::vector<uint64_t>> StudySeeds() {
  const std::string list = absl::GetFlag(FLAGS_seeds);
  const int64_t seed = absl::GetFlag(FLAGS_seed);
  if (list.empty()) {
    if (seed < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--seed must be >= 0, got ", seed));
    }
    return std::vector<uint64_t>{static_cast<uint64_t>(seed)};
  }
  if (seed != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("give --seed or --seeds, not both (--seed ", seed,
                     ", --seeds \"", list, "\")"));
  }
  std::vector<uint64_t> seeds;
  for (absl::string_view part : absl::StrSplit(list, ',')) {
    uint64_t s = 0;
    if (!absl::SimpleAtoi(part, &s)) {  // refuses "", "-1", "x"
      return absl::InvalidArgumentError(absl::StrCat(
          "--seeds: each seed must be a non-negative integer, got \"", part,
          "\""));
    }
    if (std::find(seeds.begin(), seeds.end(), s) != seeds.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--seeds: seed ", s, " is listed twice"));
    }
    seeds.push_back(s);
  }
  return seeds;
}

// --config_patch: JSON, or @FILE holding it. INVALID_ARGUMENT names the flag
// and the file when it cannot be read.
absl::StatusOr<std::string> ConfigPatch() {
  const std::string value = absl::GetFlag(FLAGS_config_patch);
  if (value.empty() || value[0] != '@') return value;
  absl::StatusOr<std::string> json =
      proxflow::ReadFile(value.substr(1), size_t{1} << 20);
  if (!json.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--config_patch ", value, ": ", json.status().message()));
  }
  return *json;
}

// The flags every repro study shares.
template <typename Command>
absl::Status ReadStudyFlags(Command& command, const std::string& default_out,
                            const std::string& command_line) {
  command.methods = absl::StrSplit(absl::GetFlag(FLAGS_methods), ',');
  command.iterations = absl::GetFlag(FLAGS_iterations);
  PROXFLOW_ASSIGN_OR_RETURN(command.seeds, StudySeeds());
  command.eval_samples = absl::GetFlag(FLAGS_eval_samples);
  command.device = absl::GetFlag(FLAGS_device);
  command.precision = absl::GetFlag(FLAGS_precision);
  command.out_dir = absl::GetFlag(FLAGS_out_dir).empty()
                        ? default_out
                        : absl::GetFlag(FLAGS_out_dir);
  PROXFLOW_ASSIGN_OR_RETURN(command.config_patch, ConfigPatch());
  command.command_line = command_line;
  return absl::OkStatus();
}

// Runs a study with Ctrl-C/SIGTERM ending it after writing what finished.
// Exit status: 0, 130 when interrupted, Fail's otherwise.
template <typename Run>
int RunStudy(Run run, const std::string& out_dir) {
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  const absl::Status status = run(&g_cancel);
  if (!status.ok()) return Fail(status);
  std::printf("report: %s/report.md, %s/report.json\n", out_dir.c_str(),
              out_dir.c_str());
  return g_cancel.load() ? 130 : 0;
}

int ReproManifold(const std::string& command_line) {
  proxflow::lab::ReproManifoldCommand command;
  command.dataset = absl::GetFlag(FLAGS_dataset);
  command.dims.clear();
  for (absl::string_view part :
       absl::StrSplit(absl::GetFlag(FLAGS_dims), ',')) {
    int d = 0;
    if (!absl::SimpleAtoi(part, &d) || d < 2 || d > 4096) {
      return Fail(absl::InvalidArgumentError(
          "--dims: each dimension must be an integer in [2, 4096], got \"" +
          std::string(part) + "\""));
    }
    command.dims.push_back(d);
  }
  if (absl::Status read =
          ReadStudyFlags(command, "repro-manifold", command_line);
      !read.ok())
    return Fail(read);
  if (command.eval_samples < 10 || command.eval_samples > 20000) {
    return Fail(absl::InvalidArgumentError(
        "--eval_samples must be in [10, 20000], got " +
        std::to_string(command.eval_samples)));
  }
  return RunStudy(
      [&](const std::atomic<bool>* cancel) {
        return proxflow::lab::RunReproManifold(command, cancel);
      },
      command.out_dir);
}

int ReproMnist(const std::string& command_line) {
  proxflow::lab::ReproMnistCommand command;
  if (absl::Status read = ReadStudyFlags(command, "repro-mnist", command_line);
      !read.ok())
    return Fail(read);
  command.classifier_epochs = absl::GetFlag(FLAGS_classifier_epochs);
  command.eval_interval = absl::GetFlag(FLAGS_eval_interval);
  if (command.eval_interval < 0) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "--eval_interval must be >= 0, got ", command.eval_interval)));
  }
  command.mnist_dir = MnistDir();
  command.cache_dir = absl::GetFlag(FLAGS_cache_dir);
  command.save_checkpoints = absl::GetFlag(FLAGS_save_checkpoints);
  return RunStudy(
      [&](const std::atomic<bool>* cancel) {
        return proxflow::lab::RunReproMnist(command, cancel);
      },
      command.out_dir);
}

absl::Status ConvertCheckpoint(const std::string& in, const std::string& out) {
  PROXFLOW_ASSIGN_OR_RETURN(std::string bytes,
                            proxflow::ReadFile(in, size_t{8} << 30));
  proxflow::core::RuntimeOptions runtime;
  runtime.device = "cpu";
  runtime.uploaded_dataset_path = absl::GetFlag(FLAGS_uploaded_dataset);
  PROXFLOW_ASSIGN_OR_RETURN(
      auto trainer,
      proxflow::core::Trainer::FromLegacyCheckpoint(bytes, runtime));
  PROXFLOW_ASSIGN_OR_RETURN(std::string converted,
                            trainer->SerializeCheckpoint());
  PROXFLOW_RETURN_IF_ERROR(proxflow::WriteFileAtomically(out, converted));
  std::printf("{\"converted\": \"%s\", \"iteration\": %lld, \"bytes\": %zu}\n",
              out.c_str(), static_cast<long long>(trainer->iteration()),
              converted.size());
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread starts: may re-execute with better BLAS kernels.
  const proxflow::BlasKernels blas =
      proxflow::SelectBlasKernels(argv, /*passive_openmp_wait=*/true);
  proxflow::SetProgramHelp(
      "experiments on the core library, in process.\n\n"
      "  proxflow-lab train               in-process training, evaluation, "
      "checkpoint, scatter plot\n"
      "  proxflow-lab repro manifold      the paper's W1/W2 ablation on the "
      "pinwheel (Sinkhorn, straightness, drift)\n"
      "  proxflow-lab repro mnist         the MNIST ablation measured by the "
      "project's classifier (--eval_interval: coverage curve)\n"
      "  proxflow-lab bench train|sample|matmul|blas   speed figures "
      "(docs/PERFORMANCE.md)\n"
      "  proxflow-lab convert-checkpoint IN OUT   format-1 checkpoint to "
      "format 2 (trusted files only)\n\n"
      "Common: --threads T --device auto|cpu|cuda:N --precision "
      "auto|fp32|bf16 --mnist_dir DIR. Ctrl-C stops a repro study and keeps "
      "the report of what finished.");
  std::vector<std::string> original(argv, argv + argc);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> words(args.begin() + 1, args.end());
  auto threads =
      proxflow::core::ConfigureTorchThreads(absl::GetFlag(FLAGS_threads));
  if (!threads.ok()) return Fail(threads.status());
  std::fprintf(
      stderr,
      "proxflow-lab: LibTorch %s, %d threads, OpenBLAS %s kernels "
      "(chosen by %s), OpenMP wait %s, proxflow kernels %s%s\n",
      proxflow::core::TorchVersion().c_str(), *threads,
      blas.core.empty() ? "no" : blas.core.c_str(), blas.chosen_by.c_str(),
      blas.openmp_wait.c_str(),
      proxflow::core::kernels::IsaName(proxflow::core::kernels::Isa::kBest),
      std::getenv("PROXFLOW_KERNEL_ISA") != nullptr ? " (PROXFLOW_KERNEL_ISA)"
                                                    : "");
  if (words == std::vector<std::string>{"train"}) return Train();
  if (words == std::vector<std::string>{"bench", "train"}) {
    proxflow::lab::BenchTrainCommand command;
    command.preset = absl::GetFlag(FLAGS_preset);
    command.iterations = absl::GetFlag(FLAGS_iterations) > 0
                             ? absl::GetFlag(FLAGS_iterations)
                             : 200;
    command.repeats = absl::GetFlag(FLAGS_repeats);
    command.warmup = absl::GetFlag(FLAGS_warmup);
    command.device = absl::GetFlag(FLAGS_device);
    command.precision = absl::GetFlag(FLAGS_precision);
    command.mnist_dir = MnistDir();
    command.threads = *threads;
    const absl::Status status = proxflow::lab::RunBenchTrain(command);
    return status.ok() ? 0 : Fail(status);
  }
  if (words == std::vector<std::string>{"bench", "sample"}) {
    proxflow::lab::BenchSampleCommand command;
    command.preset = absl::GetFlag(FLAGS_preset);
    command.batches.clear();
    for (absl::string_view part :
         absl::StrSplit(absl::GetFlag(FLAGS_batches), ',')) {
      int b = 0;
      if (!absl::SimpleAtoi(part, &b)) {
        return Fail(absl::InvalidArgumentError(
            "--batches: each batch size must be an integer, got \"" +
            std::string(part) + "\""));
      }
      command.batches.push_back(b);
    }
    command.steps = absl::GetFlag(FLAGS_steps);
    command.repeats = absl::GetFlag(FLAGS_repeats);
    command.device = absl::GetFlag(FLAGS_device);
    command.precision = absl::GetFlag(FLAGS_precision);
    command.mnist_dir = MnistDir();
    const absl::Status status = proxflow::lab::RunBenchSample(command);
    return status.ok() ? 0 : Fail(status);
  }
  if (words == std::vector<std::string>{"bench", "blas"}) {
    // cpu_runs_core: whether this CPU executes those kernels (a forced
    // OPENBLAS_CORETYPE may name ones it lacks; compare_reference.sh asks).
    std::printf(
        "{\"openblas_core\": \"%s\", \"chosen_by\": \"%s\", "
        "\"openmp_wait\": \"%s\", \"cpu_runs_core\": %s}\n",
        blas.core.c_str(), blas.chosen_by.c_str(), blas.openmp_wait.c_str(),
        proxflow::CpuRunsBlasCore(blas.core, proxflow::DetectCpuFeatures())
            ? "true"
            : "false");
    return 0;
  }
  if (words == std::vector<std::string>{"bench", "matmul"}) {
    const absl::Status status = proxflow::lab::RunBenchMatmul(
        absl::GetFlag(FLAGS_device), absl::GetFlag(FLAGS_n));
    return status.ok() ? 0 : Fail(status);
  }
  if (words.size() == 3 && words[0] == "convert-checkpoint") {
    const absl::Status status = ConvertCheckpoint(words[1], words[2]);
    return status.ok() ? 0 : Fail(status);
  }
  original[0] = "proxflow-lab";
  if (words == std::vector<std::string>{"repro", "manifold"})
    return ReproManifold(absl::StrJoin(original, " "));
  if (words == std::vector<std::string>{"repro", "mnist"})
    return ReproMnist(absl::StrJoin(original, " "));
  std::fprintf(
      stderr,
      "usage: proxflow-lab train | repro manifold|mnist | bench "
      "train|sample|matmul | convert-checkpoint IN OUT [flags] (see --help)\n");
  return 2;
}
