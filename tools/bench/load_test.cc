// proxflow-load-test: a bounded load against a running proxflow-server on
// loopback (issue "security and robustness": load test). Torch-free; it only
// speaks gRPC.
//
//   proxflow-load-test --target 127.0.0.1:PORT --server_pid PID
//                      [--seconds 60] [--streams 32] [--jobs 4]
//
// 1. Setup: trains a small toy-2d model (60 iterations) to sample from.
// 2. For --seconds: --streams sampling clients in a loop (every 8th reads
//    slowly, 50 ms between messages; every 8th cancels after 1 to 3
//    messages; the rest read at full speed), --jobs training jobs submitted at
//    the start (400 iterations each), and a health check every 100 ms. Each
//    sampling client connects first and its requests wait for a connection
//    (wait_for_ready), so a dropped client connection costs a reconnect, not
//    a burst of fail-fast UNAVAILABLEs.
// 3. Cancels the jobs still running, then prints one JSON object: requests,
//    errors by kind (an error is unexpected unless it is the CANCELLED a
//    cancelling client asked for), sampling latency p50/p99/max, health
//    latency p50/p99/max and failures, the server's peak resident memory
//    (VmHWM of /proc/PID/status) and its resident memory before and after.
// Exit status 1 when any error was unexpected or a health check failed.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/proc_status.h"
#include "core/base/program_help.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "proxflow/v1/sampling_service.grpc.pb.h"
#include "proxflow/v1/training_service.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "server address");
ABSL_FLAG(int, server_pid, 0, "the server's pid, for its memory (0: not read)");
ABSL_FLAG(int, seconds, 60, "duration of the load");
ABSL_FLAG(int, streams, 32, "concurrent sampling clients");
ABSL_FLAG(int, jobs, 4, "training jobs submitted at the start");

namespace {

namespace pb = proxflow::v1;
using Clock = std::chrono::steady_clock;

std::chrono::system_clock::time_point In(int seconds) {
  return std::chrono::system_clock::now() + std::chrono::seconds(seconds);
}

// "VmRSS" or "VmHWM" of the server (--server_pid) in KiB; 0 without a pid.
int64_t ProcKib(int pid, absl::string_view field) {
  return pid > 0 ? proxflow::ProcStatusKib(pid, field) : 0;
}

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * v.size()));
  return v[i];
}

struct Stats {
  std::mutex mu;
  std::vector<double> sample_ms;  // completed requests (OK)
  std::map<std::string, int64_t> outcomes;
  int64_t unexpected = 0;
  std::vector<std::string> unexpected_examples;
  void Record(const std::string& kind, const grpc::Status& s, bool expected,
              double ms) {
    std::lock_guard<std::mutex> lock(mu);
    outcomes[absl::StrCat(kind, ":", s.error_code())]++;
    if (s.ok() && absl::StartsWith(kind, "sample")) sample_ms.push_back(ms);
    if (!expected) {
      ++unexpected;
      if (unexpected_examples.size() < 5)
        unexpected_examples.push_back(absl::StrCat(
            kind, " code ", s.error_code(), ": ", s.error_message()));
    }
  }
};

std::string TrainSetupModel(pb::TrainingService::Stub& training) {
  pb::SubmitJobRequest request;
  request.mutable_config()->set_preset("toy-2d");
  request.mutable_config()->set_model("load-test");
  request.mutable_config()->set_iterations(60);
  request.mutable_config()->set_checkpoint_interval(60);
  request.mutable_config()->set_eval_interval(0);
  grpc::ClientContext context;
  context.set_deadline(In(60));
  pb::SubmitJobResponse response;
  const grpc::Status s = training.SubmitJob(&context, request, &response);
  if (!s.ok()) {
    std::fprintf(stderr, "setup: SubmitJob: %s\n", s.error_message().c_str());
    return "";
  }
  grpc::ClientContext watch_context;
  watch_context.set_deadline(In(600));
  pb::WatchJobRequest watch;
  watch.set_job_id(response.job().id());
  auto reader = training.WatchJob(&watch_context, watch);
  pb::JobEvent e;
  pb::JobState last = pb::JOB_STATE_UNSPECIFIED;
  while (reader->Read(&e))
    if (e.has_state_change()) last = e.state_change().to();
  reader->Finish();
  if (last != pb::JOB_STATE_SUCCEEDED) {
    std::fprintf(stderr, "setup: the model job ended %s\n",
                 pb::JobState_Name(last).c_str());
    return "";
  }
  return "load-test@latest";
}

}  // namespace

int main(int argc, char** argv) {
  proxflow::SetProgramHelp(
      "sampling streams, training jobs and health checks against a running "
      "proxflow-server (bench/load_test.sh)\n\n  proxflow-load-test [flags]");
  absl::ParseCommandLine(argc, argv);
  const int seconds = absl::GetFlag(FLAGS_seconds);
  const int streams = absl::GetFlag(FLAGS_streams);
  const int pid = absl::GetFlag(FLAGS_server_pid);
  // One channel per client so that streams do not share one HTTP/2
  // connection's concurrency limit by accident.
  const auto channel = [&](int i) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", i);  // a distinct subchannel per client
    return grpc::CreateCustomChannel(absl::GetFlag(FLAGS_target),
                                     grpc::InsecureChannelCredentials(), args);
  };
  auto training = pb::TrainingService::NewStub(channel(-1));
  const std::string model = TrainSetupModel(*training);
  if (model.empty()) return 1;
  const int64_t rss_before = ProcKib(pid, "VmRSS");

  Stats stats;
  int64_t rss_max = rss_before;  // written by the health thread only
  std::vector<std::thread> threads;
  const Clock::time_point end = Clock::now() + std::chrono::seconds(seconds);

  // Training jobs.
  std::vector<std::string> jobs;
  for (int j = 0; j < absl::GetFlag(FLAGS_jobs); ++j) {
    pb::SubmitJobRequest request;
    request.mutable_config()->set_preset("toy-2d");
    request.mutable_config()->set_model(absl::StrCat("load-job-", j));
    request.mutable_config()->set_iterations(400);
    request.mutable_config()->set_checkpoint_interval(100);
    grpc::ClientContext context;
    context.set_deadline(In(30));
    pb::SubmitJobResponse response;
    const grpc::Status s = training->SubmitJob(&context, request, &response);
    stats.Record("submit", s, s.ok(), 0);
    if (s.ok()) jobs.push_back(response.job().id());
  }

  // Sampling clients.
  for (int i = 0; i < streams; ++i) {
    threads.emplace_back([&, i] {
      const bool slow = i % 8 == 6, cancelling = i % 8 == 7;
      const std::string kind = slow         ? "sample_slow"
                               : cancelling ? "sample_cancel"
                                            : "sample";
      const auto sampling_channel = channel(i);
      // Connect before the clock counts, and let requests wait for a
      // connection (wait_for_ready) instead of failing fast while a dropped
      // client connection is re-established: a client that spins through
      // UNAVAILABLE in its reconnect backoff measures its own loop, not the
      // server. A server that stays unreachable still fails the run: its
      // requests end DEADLINE_EXCEEDED.
      if (!sampling_channel->WaitForConnected(In(30))) {
        stats.Record(
            "connect",
            grpc::Status(grpc::UNAVAILABLE, "no connection within 30 s"), false,
            0);
        return;
      }
      auto stub = pb::SamplingService::NewStub(sampling_channel);
      std::mt19937 rng(1000 + i);
      while (Clock::now() < end) {
        pb::SampleRequest request;
        request.set_model_ref(model);
        request.set_num_samples(16 + static_cast<int>(rng() % 241));
        grpc::ClientContext context;
        context.set_deadline(In(120));
        context.set_wait_for_ready(true);
        const Clock::time_point start = Clock::now();
        auto reader = stub->Sample(&context, request);
        pb::SampleEvent event;
        bool cancelled = false;
        // A cancelling client gives up after 1 to 3 messages.
        int messages_left = 1 + static_cast<int>(rng() % 3);
        while (reader->Read(&event)) {
          if (cancelling && --messages_left == 0) {
            context.TryCancel();
            cancelled = true;
            break;
          }
          if (slow) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        const grpc::Status s = reader->Finish();
        const double ms =
            std::chrono::duration<double, std::milli>(Clock::now() - start)
                .count();
        // CANCELLED is expected when asked for; so is OK when the request
        // finished before the cancel arrived.
        const bool expected =
            s.ok() || (cancelled && s.error_code() == grpc::CANCELLED);
        stats.Record(kind, s, expected, ms);
      }
    });
  }

  // Health checks and memory.
  std::vector<double> health_ms;
  int64_t health_failures = 0;
  std::thread health([&] {
    auto stub = grpc::health::v1::Health::NewStub(channel(1000));
    while (Clock::now() < end) {
      grpc::ClientContext context;
      context.set_deadline(In(2));
      grpc::health::v1::HealthCheckRequest request;
      grpc::health::v1::HealthCheckResponse response;
      const Clock::time_point start = Clock::now();
      const grpc::Status s = stub->Check(&context, request, &response);
      health_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - start)
              .count());
      if (!s.ok() ||
          response.status() != grpc::health::v1::HealthCheckResponse::SERVING)
        ++health_failures;
      rss_max = std::max(rss_max, ProcKib(pid, "VmRSS"));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  health.join();
  for (auto& t : threads) t.join();

  // Jobs: where they got to; cancel those still going.
  std::map<std::string, int> job_states;
  for (const std::string& id : jobs) {
    grpc::ClientContext context;
    context.set_deadline(In(30));
    pb::GetJobRequest get;
    get.set_job_id(id);
    pb::Job job;
    const grpc::Status s = training->GetJob(&context, get, &job);
    stats.Record("get_job", s, s.ok(), 0);
    job_states[absl::StrCat(pb::JobState_Name(job.state()), "@",
                            job.progress().step())]++;
    if (job.state() == pb::JOB_STATE_RUNNING ||
        job.state() == pb::JOB_STATE_QUEUED) {
      grpc::ClientContext cancel_context;
      cancel_context.set_deadline(In(30));
      pb::CancelJobRequest cancel;
      cancel.set_job_id(id);
      pb::Job cancelled;
      const grpc::Status c =
          training->CancelJob(&cancel_context, cancel, &cancelled);
      stats.Record("cancel_job", c, c.ok(), 0);
    }
  }

  std::vector<std::string> outcomes, examples, states;
  int64_t requests = 0;
  for (const auto& [k, n] : stats.outcomes) {
    outcomes.push_back(absl::StrCat("\"", k, "\": ", n));
    if (k.rfind("sample", 0) == 0) requests += n;
  }
  for (const auto& e : stats.unexpected_examples)
    examples.push_back(absl::StrCat("\"", e, "\""));
  for (const auto& [k, n] : job_states)
    states.push_back(absl::StrCat("\"", k, "\": ", n));
  std::printf(
      "{\"seconds\": %d, \"streams\": %d, \"jobs\": %zu, "
      "\"sampling_requests\": %lld, \"sampling_ok\": %zu, "
      "\"outcomes\": {%s}, \"unexpected_errors\": %lld, "
      "\"unexpected_examples\": [%s], "
      "\"sample_latency_ms\": {\"p50\": %.1f, \"p99\": %.1f, \"max\": %.1f}, "
      "\"health_checks\": %zu, \"health_failures\": %lld, "
      "\"health_latency_ms\": {\"p50\": %.2f, \"p99\": %.2f, \"max\": %.2f}, "
      "\"job_states_at_end\": {%s}, "
      "\"server_rss_kib\": {\"before\": %lld, \"max_seen\": %lld, "
      "\"after\": %lld, \"peak_vmhwm\": %lld}}\n",
      seconds, streams, jobs.size(), static_cast<long long>(requests),
      stats.sample_ms.size(), absl::StrJoin(outcomes, ", ").c_str(),
      static_cast<long long>(stats.unexpected),
      absl::StrJoin(examples, ", ").c_str(), Quantile(stats.sample_ms, 0.5),
      Quantile(stats.sample_ms, 0.99), Quantile(stats.sample_ms, 1.0),
      health_ms.size(), static_cast<long long>(health_failures),
      Quantile(health_ms, 0.5), Quantile(health_ms, 0.99),
      Quantile(health_ms, 1.0), absl::StrJoin(states, ", ").c_str(),
      static_cast<long long>(rss_before), static_cast<long long>(rss_max),
      static_cast<long long>(ProcKib(pid, "VmRSS")),
      static_cast<long long>(ProcKib(pid, "VmHWM")));
  return stats.unexpected == 0 && health_failures == 0 ? 0 : 1;
}
