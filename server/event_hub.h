// EventHub: wakes the streams watching a job when it has new events.
//
// Owned by the job manager. Thread-safe. Callbacks run on the notifying
// thread (a training worker, or the heartbeat ticker) and must not block; they
// never run after Unsubscribe() returned.
#ifndef PROXFLOW_SERVER_EVENT_HUB_H_
#define PROXFLOW_SERVER_EVENT_HUB_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace proxflow::server {

class EventHub {
 public:
  // `heartbeat` is true for the periodic tick, false for new events.
  using Callback = std::function<void(bool heartbeat)>;

  class Subscription {
   public:
    Subscription(std::string job_id, Callback callback)
        : job_id_(std::move(job_id)), callback_(std::move(callback)) {}

   private:
    friend class EventHub;
    void Fire(bool heartbeat) ABSL_LOCKS_EXCLUDED(mu_);

    const std::string job_id_;
    absl::Mutex mu_;
    bool active_ ABSL_GUARDED_BY(mu_) = true;
    const Callback callback_;
  };

  std::shared_ptr<Subscription> Subscribe(std::string job_id, Callback callback)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Waits for a callback in progress on another thread, then drops it.
  void Unsubscribe(const std::shared_ptr<Subscription>& subscription)
      ABSL_LOCKS_EXCLUDED(mu_);

  void Notify(absl::string_view job_id) ABSL_LOCKS_EXCLUDED(mu_);
  void Heartbeat() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::vector<std::shared_ptr<Subscription>>>
      by_job_ ABSL_GUARDED_BY(mu_);
};

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_EVENT_HUB_H_
