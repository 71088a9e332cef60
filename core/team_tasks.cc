#include "core/team_tasks.h"

#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <vector>

namespace proxflow::core {

void RunTeamTasks(int64_t count, const std::function<void(int64_t)>& task) {
  if (count <= 0) return;
  if (omp_in_parallel()) {
    // A nested team would have one thread (nesting is off): run in order.
    for (int64_t i = 0; i < count; ++i) task(i);
    return;
  }
  const at::ThreadLocalState state;  // the caller's grad mode and the rest
  std::vector<std::exception_ptr> errors(static_cast<size_t>(count));
  // Tasks are claimed, not assigned: a thread the OS has not scheduled yet (a
  // busy neighbour on its core, a slow wake-up) leaves its task to the others.
  std::atomic<int64_t> next{0};
  const int team = static_cast<int>(std::max<int64_t>(2, count));
#pragma omp parallel num_threads(team)
  {
    at::ThreadLocalStateGuard guard(state);
    for (int64_t i = next++; i < count; i = next++) {
      try {
        task(i);
      } catch (...) {
        errors[static_cast<size_t>(i)] = std::current_exception();
      }
    }
  }
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
}

void RunBeside(const std::function<void()>& on_caller,
               const std::function<void()>& beside) {
  if (omp_in_parallel()) {
    beside();
    on_caller();
    return;
  }
  const at::ThreadLocalState state;
  std::exception_ptr errors[2];  // on_caller's, beside's
  // `beside` is claimed, not assigned: when the second thread has not started
  // by the time on_caller returns (a busy neighbour on its core), the calling
  // thread runs it instead of waiting for the OS to schedule the other.
  std::atomic<bool> claimed{false};
  const auto run_beside = [&] {
    if (claimed.exchange(true)) return;
    try {
      beside();
    } catch (...) {
      errors[1] = std::current_exception();
    }
  };
#pragma omp parallel num_threads(2)
  {
    at::ThreadLocalStateGuard guard(state);
    // Thread 0 of a team is the thread that opened it.
    if (omp_get_thread_num() == 0) {
      try {
        on_caller();
      } catch (...) {
        errors[0] = std::current_exception();
      }
    }
    run_beside();
  }
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
}

Span EvenSpan(int64_t count, int64_t parts, int64_t part) {
  const int64_t base = count / parts;
  const int64_t extra = count % parts;
  return {part * base + std::min(part, extra), base + (part < extra ? 1 : 0)};
}

void RunRowSpans(int64_t rows, int64_t min_rows,
                 const std::function<void(int64_t begin, int64_t size)>& span) {
  if (rows <= 0) return;
  const int64_t spans = std::clamp<int64_t>(
      rows / std::max<int64_t>(min_rows, 1), 1, at::get_num_threads());
  if (spans == 1) {
    span(0, rows);
    return;
  }
  RunTeamTasks(spans, [&](int64_t part) {
    const Span s = EvenSpan(rows, spans, part);
    span(s.begin, s.size);
  });
}

}  // namespace proxflow::core
