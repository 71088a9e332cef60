// JobStore: durable jobs and their events (SQLite).
//
// Owned by the server; thread-safe (every method is one Database transaction).
// A job row and the events that describe its change are written in the same
// transaction, so after a crash the stored job and its event log agree.
#ifndef PROXFLOW_SERVER_STORAGE_JOB_STORE_H_
#define PROXFLOW_SERVER_STORAGE_JOB_STORE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proxflow/v1/job.pb.h"
#include "server/storage/database.h"

namespace proxflow::server {

bool IsTerminalState(proxflow::v1::JobState state);

// SQL list of the states in which a job is unfinished and still needs its
// dataset: "(QUEUED,RUNNING,CANCELLING,RESTARTING)" as numbers.
std::string UnfinishedStatesSql();

class JobStore {
 public:
  explicit JobStore(Database* db) : db_(db) {}

  // Stores a new job and its first events. `dataset` is the uploaded dataset
  // the job trains on (empty for built-in data): INVALID_ARGUMENT naming
  // training.dataset.uploaded_name when no such dataset exists at that moment.
  // ALREADY_EXISTS when job.request_id() is already taken.
  absl::Status Insert(const proxflow::v1::Job& job,
                      absl::string_view body_sha256, absl::string_view dataset,
                      const std::vector<proxflow::v1::JobEvent>& events);

  // Replaces a stored job and appends `events`, all or nothing. NOT_FOUND when
  // the job was never inserted.
  absl::Status Update(const proxflow::v1::Job& job,
                      const std::vector<proxflow::v1::JobEvent>& events);

  absl::StatusOr<std::optional<proxflow::v1::Job>> Get(
      absl::string_view job_id);

  struct RequestMatch {
    proxflow::v1::Job job;
    std::string body_sha256;
  };
  absl::StatusOr<std::optional<RequestMatch>> FindByRequestId(
      absl::string_view request_id);

  struct Page {
    std::vector<proxflow::v1::Job> jobs;
    int64_t next_after = 0;  // 0 on the last page
  };
  // Jobs in submission order after position `after` (0: from the start),
  // filtered by `states` (empty: all).
  absl::StatusOr<Page> List(int64_t after, int limit,
                            const std::vector<proxflow::v1::JobState>& states);

  // Jobs not in a terminal state, in submission order.
  absl::StatusOr<std::vector<proxflow::v1::Job>> ListUnfinished();
  // How many jobs are in each state (states without jobs are absent).
  absl::StatusOr<std::map<proxflow::v1::JobState, int64_t>> CountByState();

  // Up to `limit` events with sequence > after_sequence, in order.
  absl::StatusOr<std::vector<proxflow::v1::JobEvent>> Events(
      absl::string_view job_id, int64_t after_sequence, int limit);

 private:
  Database* const db_;
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_STORAGE_JOB_STORE_H_
