// TrainingClient: typed calls of proxflow.v1.TrainingService. Torch-free.
// Thread-safe (stateless over a shared Connection).
#ifndef PROXFLOW_CLIENT_TRAINING_CLIENT_H_
#define PROXFLOW_CLIENT_TRAINING_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/connection.h"
#include "proxflow/v1/training_service.grpc.pb.h"

namespace proxflow::client {

struct SubmitOptions {
  bool validate_only = false;
  // Idempotency key; empty: a fresh one (NewRequestId), so a retried submit can
  // never create a second job.
  std::string request_id;
};

struct WatchOptions {
  int64_t after_sequence = 0;  // replay events after this one (0: all)
  bool full_history = false;   // every progress event, none coalesced
  // How long a watch keeps reconnecting while the server does not answer (a
  // restart, a SIGTERM drain, a network outage) before it gives up.
  absl::Duration reconnect_budget = absl::Minutes(5);
};

// One reconnect of a watch, reported before its wait.
struct ReconnectNotice {
  absl::Status cause;        // why the stream ended (UNAVAILABLE, ...)
  int attempt = 0;           // consecutive failures since the server answered
  absl::Duration delay;      // the wait before the next attempt
  absl::Duration remaining;  // of the reconnect budget, after that wait
};

class TrainingClient {
 public:
  explicit TrainingClient(const Connection& connection);

  absl::StatusOr<proxflow::v1::SubmitJobResponse> Submit(
      const proxflow::v1::TrainingConfig& config,
      const SubmitOptions& options = {}) const;
  absl::StatusOr<proxflow::v1::Job> Get(const std::string& job_id) const;
  // Every job in `states` (all when empty), oldest first, over all pages.
  absl::StatusOr<std::vector<proxflow::v1::Job>> List(
      const std::vector<proxflow::v1::JobState>& states = {}) const;
  absl::StatusOr<proxflow::v1::Job> Cancel(const std::string& job_id) const;

  // Streams the job's events to `on_event` in sequence order until the job is
  // terminal and every event was delivered, then returns the job (GetJob). A
  // dropped stream (UNAVAILABLE: server restart, SIGTERM drain, network) is
  // reopened after the last sequence delivered, so no event is lost or
  // repeated; `on_reconnect` (optional) hears of each reconnect before its
  // wait. Gives up when options.reconnect_budget has passed since the first
  // failure after the server last answered (the retry policy's backoff between
  // attempts, capped at its max_backoff). An error returned by `on_event` stops
  // the watch with that error.
  using EventHandler =
      std::function<absl::Status(const proxflow::v1::JobEvent&)>;
  using ReconnectHandler = std::function<void(const ReconnectNotice&)>;
  absl::StatusOr<proxflow::v1::Job> Watch(
      const std::string& job_id, const WatchOptions& options,
      const EventHandler& on_event,
      const ReconnectHandler& on_reconnect = nullptr) const;

 private:
  const Connection& connection_;
  std::unique_ptr<proxflow::v1::TrainingService::Stub> stub_;
};

// 32 random hex digits prefixed "cli-": a valid request_id.
std::string NewRequestId();

// True for SUCCEEDED, FAILED and CANCELLED.
bool IsTerminal(proxflow::v1::JobState state);

}  // namespace proxflow::client

#endif  // PROXFLOW_CLIENT_TRAINING_CLIENT_H_
