// proxflow-sample-bench: what streaming samples over gRPC costs, per preset
// (toy-2d; mnist when --mnist_dir or PROXFLOW_MNIST_DIR names the data).
//
//   proxflow-sample-bench [--threads 2] [--repeats 5] [--device cpu]
//                         [--toy_samples 16384] [--mnist_samples 256]
//
// For a checkpoint trained --train_iterations iterations (weights do not
// change the cost), in one run:
// 1. throughput: one request of N samples (training solver and steps, default
//    encoding: PNG for mnist, float32 for toy) streamed over loopback from an
//    in-process server, images/s at the client; side by side with the
//    in-process core integration rate (core::FlowModel sampling the same
//    seeds in batches of the server's --max_batch rows, no encoding),
//    alternated repeat by repeat. Medians of --repeats (the ratio: median of
//    the per-repeat ratios).
// 2. time to first image (call start → first image_done) of single-sample
//    requests, p50 and p99, for 1 and 8 concurrent clients (each sends
//    --ttfi_requests requests back to back), and their images/s.
// 3. the gain from micro-batching: 8 clients of single-sample requests,
//    images/s with --max_batch vs a server with max_batch 1.
// Prints one JSON object.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/checkpoint_upload.h"
#include "core/base/blas_kernels.h"
#include "core/base/program_help.h"
#include "core/base/status_macros.h"
#include "core/device.h"
#include "core/flow_model.h"
#include "core/options_resolver.h"
#include "core/trainer.h"
#include "proto/rpc/status_conversion.h"
#include "proxflow/v1/registry.grpc.pb.h"
#include "proxflow/v1/sampling_service.grpc.pb.h"
#include "server/core_backend.h"
#include "server/server.h"
#include "tools/bench/bench_util.h"

ABSL_FLAG(int, threads, 2, "LibTorch intra-op threads");
ABSL_FLAG(int, repeats, 9, "repeats (medians are reported)");
ABSL_FLAG(std::string, device, "cpu", "cpu | cuda | cuda:N");
ABSL_FLAG(
    std::string, mnist_dir, "",
    "MNIST IDX directory (default: $PROXFLOW_MNIST_DIR); skipped if none");
ABSL_FLAG(int, toy_samples, 16384, "samples per throughput request (toy-2d)");
ABSL_FLAG(int, mnist_samples, 256, "samples per throughput request (mnist)");
ABSL_FLAG(int, ttfi_requests, 30, "single-sample requests per client");
ABSL_FLAG(int, max_batch, 64, "the server's --sample_max_batch");
ABSL_FLAG(int, train_iterations, 2, "iterations before the checkpoint");

namespace {

namespace pb = proxflow::v1;
namespace core = proxflow::core;
namespace server = proxflow::server;
using proxflow::bench::Clock;
using proxflow::bench::Median;
using proxflow::bench::SecondsSince;

absl::StatusOr<std::string> TrainedCheckpoint(const pb::TrainingConfig& config,
                                              const std::string& device) {
  PROXFLOW_ASSIGN_OR_RETURN(core::TrainOptions options,
                            core::ResolveTrainOptions(config));
  PROXFLOW_ASSIGN_OR_RETURN(std::unique_ptr<core::Trainer> trainer,
                            core::Trainer::Create(options, {device, ""}));
  for (int i = 0; i < absl::GetFlag(FLAGS_train_iterations); ++i)
    PROXFLOW_RETURN_IF_ERROR(trainer->Step().status());
  return trainer->SerializeCheckpoint();
}

std::vector<uint64_t> Seeds(uint64_t first, int n) {
  std::vector<uint64_t> s(n);
  for (int i = 0; i < n; ++i) s[i] = first + i;
  return s;
}

// In-process: the same seeds in batches of `batch` rows; images/s.
absl::StatusOr<double> InProcessRate(core::FlowModel& model, int n, int batch) {
  const std::vector<uint64_t> seeds = Seeds(1, n);
  const core::Solver solver = model.options().flow.sample_solver;
  const int steps = model.options().flow.steps;
  const auto start = Clock::now();
  for (int i = 0; i < n; i += batch) {
    const std::vector<uint64_t> part(seeds.begin() + i,
                                     seeds.begin() + std::min(n, i + batch));
    PROXFLOW_RETURN_IF_ERROR(model.Sample(part, solver, steps).status());
  }
  return n / SecondsSince(start);
}

// A server with real backends and the checkpoint uploaded as "bench".
struct LiveServer {
  std::unique_ptr<server::TrainingBackend> training =
      server::MakeCoreTrainingBackend();
  std::unique_ptr<server::SamplingBackend> sampling =
      server::MakeCoreSamplingBackend();
  std::unique_ptr<server::Server> server;
  std::unique_ptr<pb::SamplingService::Stub> stub;
  std::string dir;
  ~LiveServer() {
    server.reset();
    std::filesystem::remove_all(dir);
  }
};

absl::StatusOr<std::unique_ptr<LiveServer>> StartServer(
    const std::string& checkpoint, int max_batch) {
  auto live = std::make_unique<LiveServer>();
  char pattern[] = "/tmp/proxflow-sample-bench-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return absl::InternalError("mkdtemp");
  live->dir = pattern;
  server::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = live->dir;
  options.devices = {absl::GetFlag(FLAGS_device)};
  options.sampling.max_batch = max_batch;
  options.sample_limits.max_samples = 1 << 16;
  PROXFLOW_ASSIGN_OR_RETURN(live->server,
                            server::Server::Start(options, live->training.get(),
                                                  live->sampling.get()));
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", live->server->port()),
                          grpc::InsecureChannelCredentials());
  live->stub = pb::SamplingService::NewStub(channel);
  PROXFLOW_RETURN_IF_ERROR(
      proxflow::client::UploadCheckpointBytes(channel, "bench", checkpoint)
          .status());
  return live;
}

struct CallFigures {
  double seconds = 0;
  double first_image = 0;  // seconds to the first image_done
  int images = 0;
};

absl::StatusOr<CallFigures> Call(pb::SamplingService::Stub& stub,
                                 const std::vector<uint64_t>& seeds) {
  pb::SampleRequest request;
  request.set_model_ref("bench@latest");
  request.mutable_seeds()->Add(seeds.begin(), seeds.end());
  grpc::ClientContext context;
  CallFigures out;
  const auto start = Clock::now();
  auto reader = stub.Sample(&context, request);
  pb::SampleEvent e;
  while (reader->Read(&e)) {
    if (!e.has_image_done()) continue;
    if (out.images == 0) out.first_image = SecondsSince(start);
    out.images += e.image_done().item().count();
  }
  PROXFLOW_RETURN_IF_ERROR(proxflow::rpc::FromGrpcStatus(reader->Finish()));
  out.seconds = SecondsSince(start);
  return out;
}

struct ClientsFigures {
  double p50 = 0, p99 = 0, images_per_second = 0;
};

// `clients` threads, each --ttfi_requests single-sample requests in a row.
absl::StatusOr<ClientsFigures> Clients(LiveServer& live, int clients) {
  const int requests = absl::GetFlag(FLAGS_ttfi_requests);
  std::vector<std::vector<double>> ttfi(clients);
  std::vector<absl::Status> status(clients);
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      for (int i = 0; i < requests && status[c].ok(); ++i) {
        absl::StatusOr<CallFigures> f =
            Call(*live.stub, {static_cast<uint64_t>(c * 100000 + i)});
        if (!f.ok()) {
          status[c] = f.status();
        } else {
          ttfi[c].push_back(f->first_image);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = SecondsSince(start);
  std::vector<double> all;
  for (int c = 0; c < clients; ++c) {
    PROXFLOW_RETURN_IF_ERROR(status[c]);
    all.insert(all.end(), ttfi[c].begin(), ttfi[c].end());
  }
  std::sort(all.begin(), all.end());
  ClientsFigures out;
  out.p50 = all[all.size() / 2];
  out.p99 = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  out.images_per_second = all.size() / seconds;
  return out;
}

absl::StatusOr<std::string> MeasurePreset(const std::string& preset,
                                          const pb::TrainingConfig& config,
                                          int samples) {
  const std::string device = absl::GetFlag(FLAGS_device);
  const int max_batch = absl::GetFlag(FLAGS_max_batch);
  PROXFLOW_ASSIGN_OR_RETURN(std::string checkpoint,
                            TrainedCheckpoint(config, device));
  PROXFLOW_ASSIGN_OR_RETURN(std::unique_ptr<core::FlowModel> model,
                            core::FlowModel::Load(checkpoint, device));
  PROXFLOW_ASSIGN_OR_RETURN(std::unique_ptr<LiveServer> live,
                            StartServer(checkpoint, max_batch));
  PROXFLOW_RETURN_IF_ERROR(Call(*live->stub, {1}).status());  // load, warm
  // Alternated, so that drift in the machine's speed hits both alike.
  std::vector<double> in_process_rates, rates, ratios;
  for (int r = 0; r < absl::GetFlag(FLAGS_repeats); ++r) {
    PROXFLOW_ASSIGN_OR_RETURN(double local,
                              InProcessRate(*model, samples, max_batch));
    PROXFLOW_ASSIGN_OR_RETURN(CallFigures f,
                              Call(*live->stub, Seeds(1, samples)));
    in_process_rates.push_back(local);
    rates.push_back(f.images / f.seconds);
    ratios.push_back(rates.back() / local);
  }
  model.reset();
  const double in_process = Median(in_process_rates);
  const double ratio = Median(ratios);
  const double loopback = Median(rates);
  PROXFLOW_ASSIGN_OR_RETURN(ClientsFigures one, Clients(*live, 1));
  PROXFLOW_ASSIGN_OR_RETURN(ClientsFigures eight, Clients(*live, 8));
  live.reset();

  PROXFLOW_ASSIGN_OR_RETURN(std::unique_ptr<LiveServer> unbatched,
                            StartServer(checkpoint, 1));
  PROXFLOW_RETURN_IF_ERROR(Call(*unbatched->stub, {1}).status());
  PROXFLOW_ASSIGN_OR_RETURN(ClientsFigures eight_unbatched,
                            Clients(*unbatched, 8));
  return absl::StrFormat(
      "\"%s\": {\"samples_per_request\": %d, \"max_batch\": %d, "
      "\"in_process_images_per_s\": %.1f, \"loopback_images_per_s\": %.1f, "
      "\"loopback_over_in_process\": %.3f, "
      "\"ttfi_1_client_p50_ms\": %.2f, \"ttfi_1_client_p99_ms\": %.2f, "
      "\"ttfi_8_clients_p50_ms\": %.2f, \"ttfi_8_clients_p99_ms\": %.2f, "
      "\"single_sample_requests_1_client_images_per_s\": %.1f, "
      "\"single_sample_requests_8_clients_images_per_s\": %.1f, "
      "\"single_sample_requests_8_clients_unbatched_images_per_s\": %.1f, "
      "\"micro_batching_gain\": %.2f}",
      preset, samples, max_batch, in_process, loopback, ratio, 1e3 * one.p50,
      1e3 * one.p99, 1e3 * eight.p50, 1e3 * eight.p99, one.images_per_second,
      eight.images_per_second, eight_unbatched.images_per_second,
      eight.images_per_second / eight_unbatched.images_per_second);
}

absl::Status Run() {
  PROXFLOW_RETURN_IF_ERROR(
      core::ConfigureTorchThreads(absl::GetFlag(FLAGS_threads)).status());
  std::vector<std::string> parts;
  pb::TrainingConfig toy;
  toy.set_preset("toy-2d");
  PROXFLOW_ASSIGN_OR_RETURN(
      std::string toy_json,
      MeasurePreset("toy-2d", toy, absl::GetFlag(FLAGS_toy_samples)));
  parts.push_back(toy_json);
  const std::string mnist_dir =
      proxflow::bench::MnistDir(absl::GetFlag(FLAGS_mnist_dir));
  if (!mnist_dir.empty()) {
    pb::TrainingConfig mnist;
    mnist.set_preset("mnist");
    mnist.mutable_dataset()->set_mnist_dir(mnist_dir);
    mnist.set_eval_batch_size(64);
    PROXFLOW_ASSIGN_OR_RETURN(
        std::string mnist_json,
        MeasurePreset("mnist", mnist, absl::GetFlag(FLAGS_mnist_samples)));
    parts.push_back(mnist_json);
  }
  std::printf("{\"device\": \"%s\", \"threads\": %d, \"repeats\": %d, %s}\n",
              absl::GetFlag(FLAGS_device).c_str(), absl::GetFlag(FLAGS_threads),
              absl::GetFlag(FLAGS_repeats), absl::StrJoin(parts, ", ").c_str());
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  proxflow::SelectBlasKernels(
      argv,
      /*passive_openmp_wait=*/true);  // may re-execute; see blas_kernels.h
  proxflow::SetProgramHelp(
      "sampling throughput and latency through the service against in-process "
      "sampling (docs/PERFORMANCE.md)\n\n  proxflow-sample-bench [flags]");
  absl::ParseCommandLine(argc, argv);
  return proxflow::bench::ExitCode("proxflow-sample-bench", Run());
}
