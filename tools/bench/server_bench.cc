// proxflow-server-bench: what the training service costs, measured side by
// side in one process.
//
//   proxflow-server-bench [--threads 2] [--iterations 600] [--repeats 3]
//                         [--submit_jobs 1000]
//
// 1. Accepted jobs/s: --submit_jobs SubmitJob calls in a row over loopback
//    gRPC to an in-process server (real SQLite, real resolver), while its
//    worker trains the queue.
// 2. Training throughput: the toy-2d preset for --iterations iterations, in
//    process (core::Trainer::Run, no hooks) and as a server job (start to end
//    time of the job, progress events and the final checkpoint included),
//    interleaved, --repeats times; medians and their ratio.
// Prints one JSON object.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "core/base/blas_kernels.h"
#include "core/base/program_help.h"
#include "core/base/status_macros.h"
#include "core/device.h"
#include "core/options_resolver.h"
#include "core/trainer.h"
#include "google/protobuf/util/time_util.h"
#include "proto/rpc/status_conversion.h"
#include "proxflow/v1/training_service.grpc.pb.h"
#include "server/core_backend.h"
#include "server/server.h"
#include "tools/bench/bench_util.h"

ABSL_FLAG(int, threads, 2, "LibTorch intra-op threads");
ABSL_FLAG(int, iterations, 600, "training iterations per timed run");
ABSL_FLAG(int, repeats, 3, "interleaved repeats (medians are reported)");
ABSL_FLAG(int, submit_jobs, 1000, "SubmitJob calls timed for jobs/s");

namespace {

namespace pb = proxflow::v1;
namespace core = proxflow::core;
using google::protobuf::util::TimeUtil;
using proxflow::bench::Clock;
using proxflow::bench::Median;

pb::TrainingConfig BenchConfig(int iterations) {
  pb::TrainingConfig c;
  c.set_preset("toy-2d");
  c.set_iterations(iterations);
  c.set_eval_interval(0);
  c.set_checkpoint_interval(0);
  return c;
}

absl::StatusOr<double> InProcessRate(int iterations) {
  PROXFLOW_ASSIGN_OR_RETURN(core::TrainOptions options,
                            core::ResolveTrainOptions(BenchConfig(iterations)));
  PROXFLOW_ASSIGN_OR_RETURN(auto trainer,
                            core::Trainer::Create(options, {"cpu", ""}));
  const auto start = Clock::now();
  PROXFLOW_ASSIGN_OR_RETURN(core::RunResult result, trainer->Run({}, nullptr));
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  return result.iteration / s;
}

absl::StatusOr<pb::Job> RunServerJob(pb::TrainingService::Stub& stub,
                                     const pb::TrainingConfig& config) {
  pb::SubmitJobRequest request;
  *request.mutable_config() = config;
  pb::SubmitJobResponse response;
  {
    grpc::ClientContext context;
    PROXFLOW_RETURN_IF_ERROR(proxflow::rpc::FromGrpcStatus(
        stub.SubmitJob(&context, request, &response)));
  }
  grpc::ClientContext context;
  pb::WatchJobRequest watch;
  watch.set_job_id(response.job().id());
  auto reader = stub.WatchJob(&context, watch);
  pb::JobEvent event;
  while (reader->Read(&event)) {
  }
  PROXFLOW_RETURN_IF_ERROR(proxflow::rpc::FromGrpcStatus(reader->Finish()));
  grpc::ClientContext get_context;
  pb::GetJobRequest get;
  get.set_job_id(response.job().id());
  pb::Job job;
  PROXFLOW_RETURN_IF_ERROR(
      proxflow::rpc::FromGrpcStatus(stub.GetJob(&get_context, get, &job)));
  return job;
}

absl::Status Main() {
  const int threads = absl::GetFlag(FLAGS_threads);
  const int iterations = absl::GetFlag(FLAGS_iterations);
  const int repeats = absl::GetFlag(FLAGS_repeats);
  const int submit_jobs = absl::GetFlag(FLAGS_submit_jobs);
  PROXFLOW_RETURN_IF_ERROR(core::ConfigureTorchThreads(threads).status());
  const std::string dir =
      (std::filesystem::temp_directory_path() / "proxflow-server-bench")
          .string();
  std::filesystem::remove_all(dir);
  auto backend = proxflow::server::MakeCoreTrainingBackend();
  auto sampling = proxflow::server::MakeCoreSamplingBackend();
  proxflow::server::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir;
  options.queue_limit = submit_jobs + 10;
  PROXFLOW_ASSIGN_OR_RETURN(
      auto server,
      proxflow::server::Server::Start(options, backend.get(), sampling.get()));
  auto stub = pb::TrainingService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", server->port()),
                          grpc::InsecureChannelCredentials()));

  // Throughput first, on an idle server.
  std::vector<double> in_process, in_server;
  for (int r = 0; r < repeats; ++r) {
    PROXFLOW_ASSIGN_OR_RETURN(double rate, InProcessRate(iterations));
    in_process.push_back(rate);
    PROXFLOW_ASSIGN_OR_RETURN(pb::Job job,
                              RunServerJob(*stub, BenchConfig(iterations)));
    if (job.state() != pb::JOB_STATE_SUCCEEDED)
      return absl::InternalError("bench job did not succeed: " +
                                 job.failure_reason());
    const double seconds = static_cast<double>(TimeUtil::DurationToMicroseconds(
                               job.end_time() - job.start_time())) /
                           1e6;
    in_server.push_back(iterations / seconds);
  }

  // Accepted jobs/s: tiny jobs, submitted back to back.
  const auto start = Clock::now();
  for (int i = 0; i < submit_jobs; ++i) {
    pb::SubmitJobRequest request;
    *request.mutable_config() = BenchConfig(1);
    request.set_request_id(absl::StrCat("bench-", i));
    pb::SubmitJobResponse response;
    grpc::ClientContext context;
    PROXFLOW_RETURN_IF_ERROR(proxflow::rpc::FromGrpcStatus(
        stub->SubmitJob(&context, request, &response)));
  }
  const double submit_seconds =
      std::chrono::duration<double>(Clock::now() - start).count();
  server->Shutdown(absl::Seconds(1));
  std::filesystem::remove_all(dir);

  std::printf(
      "{\"preset\": \"toy-2d\", \"threads\": %d, \"iterations\": %d, "
      "\"repeats\": %d, \"in_process_it_per_s_median\": %.3f, "
      "\"server_it_per_s_median\": %.3f, \"ratio\": %.4f, "
      "\"submit_jobs\": %d, \"accepted_jobs_per_s\": %.1f}\n",
      threads, iterations, repeats, Median(in_process), Median(in_server),
      Median(in_server) / Median(in_process), submit_jobs,
      submit_jobs / submit_seconds);
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  proxflow::SelectBlasKernels(
      argv,
      /*passive_openmp_wait=*/true);  // may re-execute; see blas_kernels.h
  proxflow::SetProgramHelp(
      "training through the service against the core library in process "
      "(docs/PERFORMANCE.md)\n\n  proxflow-server-bench [flags]");
  absl::ParseCommandLine(argc, argv);
  return proxflow::bench::ExitCode("proxflow-server-bench", Main());
}
