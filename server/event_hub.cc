#include "server/event_hub.h"

#include <algorithm>
#include <utility>

namespace proxflow::server {

void EventHub::Subscription::Fire(bool heartbeat) {
  absl::MutexLock lock(&mu_);
  if (active_) callback_(heartbeat);
}

std::shared_ptr<EventHub::Subscription> EventHub::Subscribe(std::string job_id,
                                                            Callback callback) {
  auto sub = std::make_shared<Subscription>(job_id, std::move(callback));
  absl::MutexLock lock(&mu_);
  by_job_[job_id].push_back(sub);
  return sub;
}

void EventHub::Unsubscribe(const std::shared_ptr<Subscription>& sub) {
  {
    absl::MutexLock lock(&sub->mu_);  // waits out a running callback
    sub->active_ = false;
  }
  absl::MutexLock lock(&mu_);
  auto it = by_job_.find(sub->job_id_);
  if (it == by_job_.end()) return;
  auto& subs = it->second;
  subs.erase(std::remove(subs.begin(), subs.end(), sub), subs.end());
  if (subs.empty()) by_job_.erase(it);
}

void EventHub::Notify(absl::string_view job_id) {
  std::vector<std::shared_ptr<Subscription>> subs;
  {
    absl::MutexLock lock(&mu_);
    auto it = by_job_.find(job_id);
    if (it != by_job_.end()) subs = it->second;
  }
  // Outside mu_: callbacks may subscribe or unsubscribe.
  for (const auto& sub : subs) sub->Fire(false);
}

void EventHub::Heartbeat() {
  std::vector<std::shared_ptr<Subscription>> subs;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [job, list] : by_job_)
      subs.insert(subs.end(), list.begin(), list.end());
  }
  for (const auto& sub : subs) sub->Fire(true);
}

}  // namespace proxflow::server
