// proxflow-lab: experiments on the core library, in process.
//
//   proxflow-lab train [--preset toy-2d] [--toy pinwheel] [--iterations N]
//   [--seed S]
//                      [--batch_size B] [--threads T] [--device
//                      auto|cpu|cuda:N]
//                      [--critic_lr X] [--generator_lr X] [--mnist_dir DIR]
//                      [--out_dir DIR] [--samples N]
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "core/device.h"
#include "tools/lab/lab_train.h"

ABSL_FLAG(std::string, preset, "toy-2d",
          "preset: toy-2d, manifold-7d, manifold-12d, mnist");
ABSL_FLAG(std::string, toy, "",
          "toy set for toy presets (e.g. pinwheel, eight_gaussians)");
ABSL_FLAG(int64_t, iterations, 0, "generator iterations (0: the preset's)");
ABSL_FLAG(int64_t, seed, 0, "seed of every random stream");
ABSL_FLAG(int32_t, batch_size, 0, "batch size (0: the preset's)");
ABSL_FLAG(int32_t, threads, 0, "LibTorch intra-op threads (0: all cores)");
ABSL_FLAG(std::string, device, "auto", "auto, cpu, cuda or cuda:N");
ABSL_FLAG(std::string, mnist_dir, "",
          "MNIST directory (default: $PROXFLOW_MNIST_DIR)");
ABSL_FLAG(std::string, out_dir, "lab-output",
          "where the checkpoint and plot are written");
ABSL_FLAG(int32_t, samples, 2000, "points in the plot and the MMD estimate");
ABSL_FLAG(double, critic_lr, 0, "critic learning rate (0: the preset's)");
ABSL_FLAG(double, generator_lr, 0, "generator learning rate (0: the preset's)");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "proxflow-lab train [flags]: in-process training on a preset");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2 || std::string(args[1]) != "train") {
    std::fprintf(stderr, "usage: proxflow-lab train [flags] (see --help)\n");
    return 2;
  }
  auto threads =
      proxflow::core::ConfigureTorchThreads(absl::GetFlag(FLAGS_threads));
  if (!threads.ok()) {
    std::fprintf(stderr, "proxflow-lab: %s\n",
                 std::string(threads.status().message()).c_str());
    return 2;
  }
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
      std::fprintf(stderr, "proxflow-lab: --toy: unknown toy set \"%s\"\n",
                   absl::GetFlag(FLAGS_toy).c_str());
      return 2;
    }
    config.mutable_dataset()->set_toy(shape);
  }
  std::string mnist_dir = absl::GetFlag(FLAGS_mnist_dir);
  if (mnist_dir.empty() && std::getenv("PROXFLOW_MNIST_DIR") != nullptr) {
    mnist_dir = std::getenv("PROXFLOW_MNIST_DIR");
  }
  if (!mnist_dir.empty()) config.mutable_dataset()->set_mnist_dir(mnist_dir);
  command.device = absl::GetFlag(FLAGS_device);
  command.out_dir = absl::GetFlag(FLAGS_out_dir);
  command.samples = absl::GetFlag(FLAGS_samples);
  std::printf("proxflow-lab: LibTorch %s, %d threads\n",
              proxflow::core::TorchVersion().c_str(), *threads);
  const absl::Status status = proxflow::lab::RunTrain(command);
  if (!status.ok()) {
    std::fprintf(stderr, "proxflow-lab: %s\n",
                 std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
