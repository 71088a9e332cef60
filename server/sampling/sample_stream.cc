#include "server/sampling/sample_stream.h"

namespace proxflow::server {

void SampleStream::Push(std::vector<proxflow::v1::SampleEvent> events) {
  bool wake = false;
  {
    absl::MutexLock lock(&mu_);
    if (final_.has_value()) return;
    for (auto& e : events) {
      const auto size = static_cast<int64_t>(e.ByteSizeLong());
      pending_bytes_ += size;
      events_.emplace_back(std::move(e), size);
    }
    wake = waiting_;
    waiting_ = false;
  }
  WakeIfWaiting(wake);
}

void SampleStream::Close(absl::Status status) {
  bool wake = false;
  {
    absl::MutexLock lock(&mu_);
    if (final_.has_value()) return;
    final_ = std::move(status);
    wake = waiting_;
    waiting_ = false;
  }
  WakeIfWaiting(wake);
}

SampleStream::PopResult SampleStream::Pop(proxflow::v1::SampleEvent* event,
                                          absl::Status* status) {
  absl::MutexLock lock(&mu_);
  if (!events_.empty()) {
    *event = std::move(events_.front().first);
    pending_bytes_ -= events_.front().second;
    events_.pop_front();
    return PopResult::kEvent;
  }
  if (final_.has_value()) {
    *status = *final_;
    return PopResult::kClosed;
  }
  waiting_ = true;
  return PopResult::kEmpty;
}

void SampleStream::Cancel() {
  std::function<void()> hook;
  {
    absl::MutexLock lock(&mu_);
    if (cancelled_.exchange(true)) return;
    hook = std::move(cancel_hook_);
  }
  if (hook) hook();
}

void SampleStream::SetCancelHook(std::function<void()> hook) {
  {
    absl::MutexLock lock(&mu_);
    if (!cancelled_.load()) {
      cancel_hook_ = std::move(hook);
      return;
    }
  }
  hook();
}

int64_t SampleStream::pending_bytes() const {
  absl::MutexLock lock(&mu_);
  return pending_bytes_;
}

void SampleStream::WakeIfWaiting(bool waiting) {
  if (waiting && waker_) waker_();
}

}  // namespace proxflow::server
