#include "client/training_client.h"

#include <grpcpp/client_context.h>

#include <optional>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/unary.h"

namespace proxflow::client {

namespace pb = proxflow::v1;

TrainingClient::TrainingClient(const Connection& connection)
    : connection_(connection),
      stub_(pb::TrainingService::NewStub(connection.channel())) {}

absl::StatusOr<pb::SubmitJobResponse> TrainingClient::Submit(
    const pb::TrainingConfig& config, const SubmitOptions& options) const {
  pb::SubmitJobRequest request;
  *request.mutable_config() = config;
  request.set_validate_only(options.validate_only);
  request.set_request_id(options.request_id.empty() ? NewRequestId()
                                                    : options.request_id);
  // The request id makes a retry return the first job instead of a second one.
  return CallUnary<pb::SubmitJobResponse>(connection_, [&](auto* c, auto* r) {
    return stub_->SubmitJob(c, request, r);
  });
}

absl::StatusOr<pb::Job> TrainingClient::Get(const std::string& job_id) const {
  pb::GetJobRequest request;
  request.set_job_id(job_id);
  return CallUnary<pb::Job>(connection_, [&](auto* c, auto* r) {
    return stub_->GetJob(c, request, r);
  });
}

absl::StatusOr<std::vector<pb::Job>> TrainingClient::List(
    const std::vector<pb::JobState>& states) const {
  pb::ListJobsRequest request;
  for (pb::JobState s : states) request.add_states(s);
  return CollectPages<pb::Job, pb::ListJobsResponse>(
      connection_, request,
      [&](auto* c, const auto& q, auto* r) { return stub_->ListJobs(c, q, r); },
      [](auto* r) { return r->mutable_jobs(); });
}

absl::StatusOr<pb::Job> TrainingClient::Cancel(
    const std::string& job_id) const {
  pb::CancelJobRequest request;
  request.set_job_id(job_id);
  return CallUnary<pb::Job>(connection_, [&](auto* c, auto* r) {
    return stub_->CancelJob(c, request, r);
  });
}

absl::StatusOr<pb::Job> TrainingClient::Watch(
    const std::string& job_id, const WatchOptions& options,
    const EventHandler& on_event, const ReconnectHandler& on_reconnect) const {
  int64_t last = options.after_sequence;
  int failures = 0;
  // Set at the first failure after the server last answered.
  absl::Time give_up_at = absl::InfiniteFuture();
  while (true) {
    pb::WatchJobRequest request;
    request.set_job_id(job_id);
    request.set_after_sequence(last);
    request.set_full_history(options.full_history);
    grpc::ClientContext context;
    connection_.PrepareStream(&context);
    auto reader = stub_->WatchJob(&context, request);
    pb::JobEvent event;
    absl::Status handler_status;
    bool answered = false;
    while (reader->Read(&event)) {
      answered = true;  // the server is back: a fresh reconnect budget
      // Heartbeats repeat the last sequence; replays never go backwards.
      if (!event.has_heartbeat() && event.sequence() <= last) continue;
      handler_status = on_event(event);
      if (!handler_status.ok()) break;
      if (!event.has_heartbeat()) last = event.sequence();
    }
    if (!handler_status.ok()) {
      context.TryCancel();
      reader->Finish().ok();  // the call ends CANCELLED; our error wins
      return handler_status;
    }
    const absl::Status status = rpc::FromGrpcStatus(reader->Finish());
    if (status.ok()) return Get(job_id);
    if (answered) {
      failures = 0;
      give_up_at = absl::InfiniteFuture();
    }
    if (give_up_at == absl::InfiniteFuture())
      give_up_at = connection_.Now() + options.reconnect_budget;
    const std::optional<absl::Duration> delay =
        connection_.RetryDelayWithin(status, failures, give_up_at);
    if (!delay.has_value()) return status;
    if (on_reconnect) {
      on_reconnect({status, failures, *delay,
                    give_up_at - (connection_.Now() + *delay)});
    }
    connection_.Wait(*delay);
  }
}

std::string NewRequestId() {
  absl::BitGen gen;
  return absl::StrFormat("cli-%016x%016x", absl::Uniform<uint64_t>(gen),
                         absl::Uniform<uint64_t>(gen));
}

bool IsTerminal(pb::JobState state) {
  return state == pb::JOB_STATE_SUCCEEDED || state == pb::JOB_STATE_FAILED ||
         state == pb::JOB_STATE_CANCELLED;
}

}  // namespace proxflow::client
