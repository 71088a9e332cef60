#include "server/watch_job_reactor.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "proto/rpc/status_conversion.h"
#include "server/now_timestamp.h"

namespace proxflow::server {
namespace {

namespace pb = proxflow::v1;

// Events read from the store per batch: the most a stream ever holds.
constexpr int kBatch = 64;

// Drops every progress event that is followed by a newer progress event with
// no state change in between; the survivor counts what it replaced.
std::deque<pb::JobEvent> Coalesce(std::vector<pb::JobEvent> events) {
  std::deque<pb::JobEvent> out;
  for (pb::JobEvent& e : events) {
    if (e.has_progress() && !out.empty() && out.back().has_progress()) {
      e.set_coalesced(e.coalesced() + out.back().coalesced() + 1);
      out.pop_back();
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

WatchJobReactor::WatchJobReactor(JobManager* manager, std::string job_id,
                                 int64_t after_sequence, bool full_history)
    : manager_(manager),
      job_id_(std::move(job_id)),
      full_history_(full_history),
      sent_(after_sequence) {}

WatchJobReactor* WatchJobReactor::Start(JobManager* manager,
                                        const pb::WatchJobRequest& request) {
  auto* reactor =
      new WatchJobReactor(manager, request.job_id(), request.after_sequence(),
                          request.full_history());
  if (request.after_sequence() < 0) {
    absl::MutexLock lock(&reactor->mu_);
    reactor->FinishLocked(
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                     absl::StrCat("after_sequence must be >= 0, got ",
                                  request.after_sequence())));
    return reactor;
  }
  {
    // Under mu_: a notification that fires at once waits for the assignment,
    // so OnDone() always sees the subscription it must cancel.
    absl::MutexLock lock(&reactor->mu_);
    reactor->subscription_ = manager->hub().Subscribe(
        request.job_id(),
        [reactor](bool heartbeat) { reactor->Pump(heartbeat); });
  }
  reactor->Pump(false);
  return reactor;
}

void WatchJobReactor::Pump(bool heartbeat) {
  absl::MutexLock lock(&mu_);
  PumpLocked(heartbeat);
}

void WatchJobReactor::PumpLocked(bool heartbeat) {
  if (finished_ || writing_) return;
  if (cancelled_) return FinishLocked(grpc::Status::CANCELLED);
  if (manager_->draining()) {
    return FinishLocked(grpc::Status(
        grpc::StatusCode::UNAVAILABLE,
        absl::StrCat("server is shutting down; reconnect with after_sequence ",
                     sent_)));
  }
  if (pending_.empty()) {
    absl::StatusOr<JobManager::EventBatch> batch =
        manager_->Events(job_id_, sent_, kBatch);
    if (!batch.ok()) return FinishLocked(rpc::ToGrpcStatus(batch.status()));
    // A full batch means the client is at least kBatch events behind.
    const bool behind = static_cast<int>(batch->events.size()) == kBatch;
    pending_ = behind && !full_history_
                   ? Coalesce(std::move(batch->events))
                   : std::deque<pb::JobEvent>(
                         std::make_move_iterator(batch->events.begin()),
                         std::make_move_iterator(batch->events.end()));
    if (pending_.empty()) {
      if (batch->terminal && sent_ >= batch->last_sequence)
        return FinishLocked(grpc::Status::OK);
      if (!heartbeat) return;
      in_flight_.Clear();
      in_flight_.set_job_id(job_id_);
      in_flight_.set_sequence(sent_);
      *in_flight_.mutable_time() = NowTimestamp();
      in_flight_.mutable_heartbeat();
      writing_ = true;
      StartWrite(&in_flight_);
      return;
    }
  }
  in_flight_ = std::move(pending_.front());
  pending_.pop_front();
  sent_ = in_flight_.sequence();
  writing_ = true;
  StartWrite(&in_flight_);
}

void WatchJobReactor::FinishLocked(const grpc::Status& status) {
  if (finished_) return;
  finished_ = true;
  Finish(status);
}

void WatchJobReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  writing_ = false;
  if (!ok) return FinishLocked(grpc::Status::CANCELLED);  // the call is gone
  PumpLocked(false);
}

void WatchJobReactor::OnCancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  // With a write in flight, OnWriteDone(false) finishes the call.
  if (!writing_) FinishLocked(grpc::Status::CANCELLED);
}

void WatchJobReactor::OnDone() {
  std::shared_ptr<EventHub::Subscription> subscription;
  {
    absl::MutexLock lock(&mu_);
    subscription = subscription_;
  }
  // Waits out a notification running on another thread; none follows.
  if (subscription != nullptr) manager_->hub().Unsubscribe(subscription);
  delete this;
}

}  // namespace proxflow::server
