#include "server/storage/job_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/status_macros.h"
#include "server/storage/stored_proto.h"

namespace proxflow::server {
namespace {

namespace pb = proxflow::v1;

absl::Status AppendEvents(Connection& c,
                          const std::vector<pb::JobEvent>& events) {
  for (const pb::JobEvent& e : events) {
    PROXFLOW_ASSIGN_OR_RETURN(
        Statement s,
        c.Prepare("INSERT INTO job_events(job_id, sequence, event) "
                  "VALUES (?, ?, ?)"));
    PROXFLOW_RETURN_IF_ERROR(s.Bind(1, e.job_id())
                                 .Bind(2, e.sequence())
                                 .BindBlob(3, e.SerializeAsString())
                                 .Run());
  }
  return absl::OkStatus();
}

// Parses the job blob in `column` of every row; with `seqs`, also collects
// column 0 (the jobs.seq of each row).
absl::StatusOr<std::vector<pb::Job>> CollectJobs(
    Statement& s, int column, std::vector<int64_t>* seqs = nullptr) {
  std::vector<pb::Job> jobs;
  while (true) {
    PROXFLOW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    PROXFLOW_ASSIGN_OR_RETURN(
        pb::Job job, ParseStored<pb::Job>(s.ColumnBlob(column), "job"));
    jobs.push_back(std::move(job));
    if (seqs != nullptr) seqs->push_back(s.ColumnInt64(0));
  }
  return jobs;
}

}  // namespace

std::string UnfinishedStatesSql() {
  return absl::StrCat("(", pb::JOB_STATE_QUEUED, ",", pb::JOB_STATE_RUNNING,
                      ",", pb::JOB_STATE_CANCELLING, ",",
                      pb::JOB_STATE_RESTARTING, ")");
}

bool IsTerminalState(pb::JobState state) {
  return state == pb::JOB_STATE_CANCELLED || state == pb::JOB_STATE_SUCCEEDED ||
         state == pb::JOB_STATE_FAILED;
}

absl::Status JobStore::Insert(const pb::Job& job, absl::string_view body_sha256,
                              absl::string_view dataset,
                              const std::vector<pb::JobEvent>& events) {
  return db_->Write([&](Connection& c) -> absl::Status {
    if (!dataset.empty()) {
      PROXFLOW_ASSIGN_OR_RETURN(
          Statement q, c.Prepare("SELECT 1 FROM datasets WHERE name = ?"));
      PROXFLOW_ASSIGN_OR_RETURN(bool exists, q.Bind(1, dataset).Step());
      if (!exists) {
        return absl::InvalidArgumentError(absl::StrCat(
            "training.dataset.uploaded_name names no uploaded dataset, got \"",
            dataset, "\""));
      }
    }
    if (!job.request_id().empty()) {
      PROXFLOW_ASSIGN_OR_RETURN(
          Statement q, c.Prepare("SELECT id FROM jobs WHERE request_id = ?"));
      PROXFLOW_ASSIGN_OR_RETURN(bool taken, q.Bind(1, job.request_id()).Step());
      if (taken) {
        return absl::AlreadyExistsError(
            absl::StrCat("request_id \"", job.request_id(),
                         "\" is already used by job ", q.ColumnText(0)));
      }
    }
    PROXFLOW_ASSIGN_OR_RETURN(
        Statement s,
        c.Prepare("INSERT INTO jobs(id, state, dataset, request_id, "
                  "body_sha256, job) VALUES (?, ?, ?, ?, ?, ?)"));
    s.Bind(1, job.id()).Bind(2, int64_t{job.state()});
    dataset.empty() ? s.BindNull(3) : s.Bind(3, dataset);
    job.request_id().empty() ? s.BindNull(4) : s.Bind(4, job.request_id());
    PROXFLOW_RETURN_IF_ERROR(
        s.Bind(5, body_sha256).BindBlob(6, job.SerializeAsString()).Run());
    return AppendEvents(c, events);
  });
}

absl::Status JobStore::Update(const pb::Job& job,
                              const std::vector<pb::JobEvent>& events) {
  return db_->Write([&](Connection& c) -> absl::Status {
    PROXFLOW_ASSIGN_OR_RETURN(
        Statement s,
        c.Prepare("UPDATE jobs SET state = ?, job = ? WHERE id = ?"));
    PROXFLOW_RETURN_IF_ERROR(s.Bind(1, int64_t{job.state()})
                                 .BindBlob(2, job.SerializeAsString())
                                 .Bind(3, job.id())
                                 .Run());
    if (c.Changes() != 1)
      return absl::NotFoundError(absl::StrCat("job ", job.id(), " not found"));
    return AppendEvents(c, events);
  });
}

absl::StatusOr<std::optional<pb::Job>> JobStore::Get(absl::string_view job_id) {
  std::optional<pb::Job> out;
  PROXFLOW_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    PROXFLOW_ASSIGN_OR_RETURN(Statement s,
                              c.Prepare("SELECT job FROM jobs WHERE id = ?"));
    s.Bind(1, job_id);
    PROXFLOW_ASSIGN_OR_RETURN(std::vector<pb::Job> jobs, CollectJobs(s, 0));
    if (!jobs.empty()) out = std::move(jobs.front());
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::optional<JobStore::RequestMatch>> JobStore::FindByRequestId(
    absl::string_view request_id) {
  std::optional<RequestMatch> out;
  PROXFLOW_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    PROXFLOW_ASSIGN_OR_RETURN(
        Statement s,
        c.Prepare("SELECT job, body_sha256 FROM jobs WHERE request_id = ?"));
    PROXFLOW_ASSIGN_OR_RETURN(bool row, s.Bind(1, request_id).Step());
    if (!row) return absl::OkStatus();
    PROXFLOW_ASSIGN_OR_RETURN(pb::Job job,
                              ParseStored<pb::Job>(s.ColumnBlob(0), "job"));
    out = RequestMatch{std::move(job), s.ColumnText(1)};
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<JobStore::Page> JobStore::List(
    int64_t after, int limit, const std::vector<pb::JobState>& states) {
  Page page;
  PROXFLOW_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    std::string sql = "SELECT seq, job FROM jobs WHERE seq > ?";
    if (!states.empty()) {
      std::vector<int> codes(states.begin(), states.end());
      absl::StrAppend(&sql, " AND state IN (", absl::StrJoin(codes, ","), ")");
    }
    absl::StrAppend(&sql, " ORDER BY seq LIMIT ?");
    PROXFLOW_ASSIGN_OR_RETURN(Statement s, c.Prepare(sql));
    s.Bind(1, after).Bind(2, int64_t{limit} + 1);
    std::vector<int64_t> seqs;
    PROXFLOW_ASSIGN_OR_RETURN(page.jobs, CollectJobs(s, 1, &seqs));
    // One row more than asked tells whether another page follows.
    if (static_cast<int>(page.jobs.size()) > limit) {
      page.jobs.pop_back();
      page.next_after = seqs[limit - 1];
    }
    return absl::OkStatus();
  }));
  return page;
}

absl::StatusOr<std::vector<pb::Job>> JobStore::ListUnfinished() {
  std::vector<pb::Job> jobs;
  PROXFLOW_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    PROXFLOW_ASSIGN_OR_RETURN(
        Statement s,
        c.Prepare(absl::StrCat("SELECT seq, job FROM jobs WHERE state IN ",
                               UnfinishedStatesSql(), " ORDER BY seq")));
    PROXFLOW_ASSIGN_OR_RETURN(jobs, CollectJobs(s, 1));
    return absl::OkStatus();
  }));
  return jobs;
}

absl::StatusOr<std::map<pb::JobState, int64_t>> JobStore::CountByState() {
  std::map<pb::JobState, int64_t> counts;
  PROXFLOW_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    PROXFLOW_ASSIGN_OR_RETURN(
        Statement s,
        c.Prepare("SELECT state, COUNT(*) FROM jobs GROUP BY state"));
    while (true) {
      PROXFLOW_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      counts[static_cast<pb::JobState>(s.ColumnInt64(0))] = s.ColumnInt64(1);
    }
    return absl::OkStatus();
  }));
  return counts;
}

absl::StatusOr<std::vector<pb::JobEvent>> JobStore::Events(
    absl::string_view job_id, int64_t after_sequence, int limit) {
  std::vector<pb::JobEvent> events;
  PROXFLOW_RETURN_IF_ERROR(db_->Read([&](Connection& c) -> absl::Status {
    PROXFLOW_ASSIGN_OR_RETURN(
        Statement s,
        c.Prepare("SELECT event FROM job_events WHERE job_id = ? AND "
                  "sequence > ? ORDER BY sequence LIMIT ?"));
    s.Bind(1, job_id).Bind(2, after_sequence).Bind(3, int64_t{limit});
    while (true) {
      PROXFLOW_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      PROXFLOW_ASSIGN_OR_RETURN(
          pb::JobEvent e, ParseStored<pb::JobEvent>(s.ColumnBlob(0), "event"));
      events.push_back(std::move(e));
    }
    return absl::OkStatus();
  }));
  return events;
}

}  // namespace proxflow::server
