// proxflow-server: hosts training jobs, datasets, the checkpoint registry and
// sampling over gRPC.
//
//   proxflow-server --listen 127.0.0.1:50051 --data_dir ./proxflow-data
//
// SIGTERM or SIGINT: health NOT_SERVING, stop accepting, checkpoint running
// jobs, exit 0; the next start resumes them.
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/blas_kernels.h"
#include "core/base/file_util.h"
#include "core/base/program_help.h"
#include "core/device.h"
#include "server/core_backend.h"
#include "server/server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "host:port to serve gRPC on (port 0 picks a free port)");
ABSL_FLAG(
    std::string, metrics_listen, "127.0.0.1:9464",
    "host:port to serve Prometheus metrics on (/metrics; port 0 picks one); "
    "empty serves none");
ABSL_FLAG(std::string, data_dir, "./proxflow-data",
          "directory of the database, checkpoints and datasets");
ABSL_FLAG(std::string, datasets_root, "",
          "directory of the datasets this server offers by name (DIR/mnist: "
          "MNIST's IDX files); remote configs name datasets, never paths");
ABSL_FLAG(int, max_concurrent_jobs, 1, "jobs trained at the same time, >= 1");
ABSL_FLAG(int, queue_limit, 64, "queued jobs at most; more are refused, >= 1");
ABSL_FLAG(int, threads, 0,
          "LibTorch intra-op threads for training (0: all cores)");
ABSL_FLAG(std::string, device, "auto",
          "auto (every CUDA device, else CPU) | cpu | cuda | cuda:N");
ABSL_FLAG(absl::Duration, heartbeat_interval, absl::Seconds(10),
          "WatchJob heartbeat period when nothing else is sent");
ABSL_FLAG(absl::Duration, progress_min_interval, absl::Milliseconds(200),
          "progress events at most this often per job");
ABSL_FLAG(int64_t, max_checkpoint_bytes, int64_t{1} << 30,
          "Largest checkpoint UploadCheckpoint accepts, in bytes.");
ABSL_FLAG(int64_t, max_dataset_bytes, int64_t{1} << 30,
          "largest dataset upload accepted, in bytes");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "on SIGTERM, how long RPCs in progress may take to finish");
ABSL_FLAG(int64_t, max_network_parameters, 50'000'000,
          "generator + critic parameters of one training job at most");
ABSL_FLAG(int64_t, max_batch_size, 8192,
          "batch_size and eval_batch_size of one training job at most");
ABSL_FLAG(int64_t, max_pool_bytes, int64_t{1} << 30,
          "dataset or source pool of one training job at most (bytes)");
ABSL_FLAG(int64_t, max_activation_elements, int64_t{1} << 28,
          "batch x (generator depth x width + dimension) x steps of one "
          "training job at most");
ABSL_FLAG(int, max_concurrent_streams, 128,
          "HTTP/2 streams open at once per client connection (more wait in "
          "the client)");
ABSL_FLAG(int, max_samples, 1024, "samples per Sample request at most");
ABSL_FLAG(int, max_steps, 1000, "integration steps per Sample request at most");
ABSL_FLAG(int, max_trajectory_frames, 16,
          "trajectory frames per sample at most");
ABSL_FLAG(int, sample_max_batch, 64,
          "rows integrated together (micro-batch size), >= 1");
ABSL_FLAG(absl::Duration, sample_max_delay, absl::Milliseconds(2),
          "how long a sample request may wait for others to batch with");
ABSL_FLAG(int, sample_max_queued, 64,
          "sample requests waiting at most; more get RESOURCE_EXHAUSTED");
ABSL_FLAG(int64_t, sample_cache_bytes, int64_t{1} << 30,
          "bytes of model weights kept loaded for sampling, per device");
ABSL_FLAG(int64_t, sample_max_pending_bytes, 8 << 20,
          "unread bytes per sample stream before its work is held back");
ABSL_FLAG(int, sample_encoder_threads, 1,
          "threads encoding samples (PNG, sha256), >= 1");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain: serve TLS (with --tls_key)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM roots: require client certificates signed by them (mutual TLS)");
ABSL_FLAG(std::string, auth_tokens_file, "",
          "bearer tokens: lines \"sha256:<hex of the token> NAME "
          "sampler|trainer|admin\"; re-read on SIGHUP. Empty: no "
          "authentication");
ABSL_FLAG(std::string, port_file, "",
          "if set, the bound port is written there once the server is ready");

namespace {

namespace core = proxflow::core;

int Fail(const std::string& message) {
  std::fprintf(stderr, "proxflow-server: %s\n", message.c_str());
  return 1;
}

// The devices jobs are leased on, from --device.
absl::StatusOr<std::vector<std::string>> ResolveDevices(
    const std::string& flag) {
  if (flag == "auto") {
    const int n = core::CudaDeviceCount();
    if (n == 0) return std::vector<std::string>{"cpu"};
    std::vector<std::string> devices;
    for (int i = 0; i < n; ++i) devices.push_back(absl::StrCat("cuda:", i));
    return devices;
  }
  absl::StatusOr<core::DeviceSpec> spec = core::ResolveDevice(flag);
  if (!spec.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--device: ", spec.status().message()));
  }
  return std::vector<std::string>{spec->ToString()};
}

bool IsLoopback(const std::string& listen) {
  return absl::StartsWith(listen, "127.") ||
         absl::StartsWith(listen, "localhost:") ||
         absl::StartsWith(listen, "[::1]:");
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread starts: may re-execute with better BLAS kernels.
  const proxflow::BlasKernels blas =
      proxflow::SelectBlasKernels(argv, /*passive_openmp_wait=*/true);
  proxflow::SetProgramHelp(
      "training jobs, the checkpoint registry, datasets and "
      "sampling over gRPC (docs/SERVER.md).\n\n"
      "  proxflow-server [--listen 127.0.0.1:50051] [--data_dir DIR] "
      "[--datasets_root DIR] "
      "[--device auto] [--threads N] [--metrics_listen HOST:PORT] ...");
  absl::ParseCommandLine(argc, argv);

  // Block the stop signals before any thread starts, so that only the
  // sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);  // reloads the tokens file
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  proxflow::server::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  options.auth_tokens_file = absl::GetFlag(FLAGS_auth_tokens_file);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.datasets_root = absl::GetFlag(FLAGS_datasets_root);
  options.max_concurrent_jobs = absl::GetFlag(FLAGS_max_concurrent_jobs);
  options.queue_limit = absl::GetFlag(FLAGS_queue_limit);
  options.heartbeat_interval = absl::GetFlag(FLAGS_heartbeat_interval);
  options.progress_min_interval = absl::GetFlag(FLAGS_progress_min_interval);
  options.max_dataset_bytes = absl::GetFlag(FLAGS_max_dataset_bytes);
  options.max_checkpoint_bytes = absl::GetFlag(FLAGS_max_checkpoint_bytes);
  options.job_limits.max_network_parameters =
      absl::GetFlag(FLAGS_max_network_parameters);
  options.job_limits.max_batch_size = absl::GetFlag(FLAGS_max_batch_size);
  options.job_limits.max_pool_bytes = absl::GetFlag(FLAGS_max_pool_bytes);
  options.job_limits.max_activation_elements =
      absl::GetFlag(FLAGS_max_activation_elements);
  options.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  for (const auto& [flag, value] :
       {std::pair<const char*, int64_t>{
            "max_network_parameters",
            options.job_limits.max_network_parameters},
        {"max_batch_size", options.job_limits.max_batch_size},
        {"max_pool_bytes", options.job_limits.max_pool_bytes},
        {"max_activation_elements", options.job_limits.max_activation_elements},
        {"max_concurrent_streams", options.max_concurrent_streams}}) {
    if (value < 1)
      return Fail(absl::StrCat("--", flag, " must be >= 1, got ", value));
  }
  options.sample_limits.max_samples = absl::GetFlag(FLAGS_max_samples);
  options.sample_limits.max_steps = absl::GetFlag(FLAGS_max_steps);
  options.sample_limits.max_trajectory_frames =
      absl::GetFlag(FLAGS_max_trajectory_frames);
  options.sampling.max_batch = absl::GetFlag(FLAGS_sample_max_batch);
  options.sampling.max_delay = absl::GetFlag(FLAGS_sample_max_delay);
  options.sampling.max_queued = absl::GetFlag(FLAGS_sample_max_queued);
  options.sampling.cache_bytes = absl::GetFlag(FLAGS_sample_cache_bytes);
  options.sampling.max_pending_bytes =
      absl::GetFlag(FLAGS_sample_max_pending_bytes);
  options.sampling.encoder_threads =
      absl::GetFlag(FLAGS_sample_encoder_threads);
  if (options.sample_limits.max_samples < 1)
    return Fail(absl::StrCat("--max_samples must be >= 1, got ",
                             options.sample_limits.max_samples));
  if (options.sample_limits.max_steps < 1)
    return Fail(absl::StrCat("--max_steps must be >= 1, got ",
                             options.sample_limits.max_steps));
  if (options.sample_limits.max_trajectory_frames < 0)
    return Fail(absl::StrCat("--max_trajectory_frames must be >= 0, got ",
                             options.sample_limits.max_trajectory_frames));
  if (options.max_concurrent_jobs < 1)
    return Fail(absl::StrCat("--max_concurrent_jobs must be >= 1, got ",
                             options.max_concurrent_jobs));
  if (options.queue_limit < 1)
    return Fail(
        absl::StrCat("--queue_limit must be >= 1, got ", options.queue_limit));
  if (options.heartbeat_interval <= absl::ZeroDuration())
    return Fail("--heartbeat_interval must be > 0");
  if (options.max_dataset_bytes < 1)
    return Fail("--max_dataset_bytes must be >= 1");
  if (options.max_checkpoint_bytes < 1)
    return Fail("--max_checkpoint_bytes must be >= 1");
  absl::StatusOr<std::vector<std::string>> devices =
      ResolveDevices(absl::GetFlag(FLAGS_device));
  if (!devices.ok()) return Fail(std::string(devices.status().message()));
  options.devices = *devices;
  absl::StatusOr<int> threads =
      core::ConfigureTorchThreads(absl::GetFlag(FLAGS_threads));
  if (!threads.ok())
    return Fail(absl::StrCat("--threads: ", threads.status().message()));
  if (!IsLoopback(options.listen)) {
    if (options.auth_tokens_file.empty()) {
      std::fprintf(stderr,
                   "proxflow-server: WARNING: listening on %s, beyond "
                   "loopback, WITHOUT authentication: anyone who can reach it "
                   "can submit and cancel jobs, upload and delete data "
                   "(--auth_tokens_file).\n",
                   options.listen.c_str());
    }
    if (options.tls_cert_file.empty()) {
      std::fprintf(stderr,
                   "proxflow-server: WARNING: listening on %s, beyond "
                   "loopback, WITHOUT TLS: requests, tokens and checkpoints "
                   "cross the network in clear (--tls_cert, --tls_key).\n",
                   options.listen.c_str());
    }
  }

  auto backend = proxflow::server::MakeCoreTrainingBackend();
  auto sampling = proxflow::server::MakeCoreSamplingBackend();
  absl::StatusOr<std::unique_ptr<proxflow::server::Server>> server =
      proxflow::server::Server::Start(options, backend.get(), sampling.get());
  if (!server.ok()) return Fail(std::string(server.status().message()));
  const int port = (*server)->port();
  if (!(*server)->metrics_url().empty()) {
    std::fprintf(stderr, "proxflow-server: metrics on %s\n",
                 (*server)->metrics_url().c_str());
  }
  std::fprintf(stderr,
               "proxflow-server: serving on port %d (data %s, devices %s, "
               "%d torch threads, LibTorch %s, OpenBLAS %s kernels chosen by "
               "%s, OpenMP wait %s)\n",
               port, options.data_dir.c_str(),
               absl::StrJoin(options.devices, ",").c_str(), *threads,
               core::TorchVersion().c_str(),
               blas.core.empty() ? "no" : blas.core.c_str(),
               blas.chosen_by.c_str(), blas.openmp_wait.c_str());
  std::fprintf(stderr, "proxflow-server: built-in datasets: %s\n",
               (*server)->builtin_datasets().Describe().c_str());
  std::fprintf(stderr, "proxflow-server: TLS %s, authentication %s\n",
               options.tls_cert_file.empty() ? "off"
               : options.tls_client_ca_file.empty()
                   ? "on"
                   : "on (client certificates required)",
               options.auth_tokens_file.empty()
                   ? "off"
                   : "bearer tokens (SIGHUP reloads)");
  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  if (!port_file.empty()) {
    absl::Status s =
        proxflow::WriteFileAtomically(port_file, absl::StrCat(port, "\n"));
    if (!s.ok()) return Fail(std::string(s.message()));
  }

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) == 0 &&
         signal_number == SIGHUP) {
    const absl::Status reloaded = (*server)->ReloadTokens();
    if (reloaded.ok()) {
      std::fprintf(stderr, "proxflow-server: SIGHUP: tokens reloaded\n");
    } else {
      std::fprintf(stderr,
                   "proxflow-server: SIGHUP: tokens NOT reloaded, the previous "
                   "ones stay in force: %s\n",
                   std::string(reloaded.message()).c_str());
    }
  }
  std::fprintf(stderr, "proxflow-server: signal %d: draining\n", signal_number);
  (*server)->Shutdown(absl::GetFlag(FLAGS_shutdown_grace));
  std::fprintf(stderr, "proxflow-server: stopped\n");
  return 0;
}
