// Independent tasks on the threads of one OpenMP team, each single-threaded
// inside: LibTorch's at::parallel_for and OpenBLAS run serially inside an
// active parallel region, so what a task computes does not depend on how many
// threads LibTorch has. The batch-invariant sampler (core/sampling_run.cc) and
// the trainer's data-parallel step (core/sharded_backward.h) run on it.
// Internal to core.
#ifndef PROXFLOW_CORE_TEAM_TASKS_H_
#define PROXFLOW_CORE_TEAM_TASKS_H_

#include <cstdint>
#include <functional>

namespace proxflow::core {

// Runs task(0), ..., task(count - 1) on a team of max(2, count) threads (so
// that even a single task runs inside an active parallel region), each with
// the caller's LibTorch thread-local state (grad mode, inference mode,
// dispatch keys). Each thread claims the next unclaimed task until none is
// left, so which thread runs a task varies; what it computes must not depend
// on that. Returns when every task has ended;
// then rethrows the exception of the lowest-numbered task that threw, if any.
// Called inside an active parallel region (a task of an enclosing team), runs
// the tasks in order on the calling thread instead. Thread-safe.
void RunTeamTasks(int64_t count, const std::function<void(int64_t)>& task);

// Runs `on_caller` on the calling thread while `beside` runs on a second
// thread of a team of two (both with the caller's LibTorch thread-local
// state), or on the calling thread after `on_caller` when the second thread
// has not started it by then (a busy neighbour on its core); returns when
// both have ended, then rethrows on_caller's exception, if any, else
// beside's. What beside computes must not depend on which thread runs it. What
// matters for a task that builds an autograd graph: LibTorch numbers a graph's
// nodes from a counter of the thread that creates them, and the backward pass
// orders its work by those numbers, so a graph whose nodes come from two
// threads is summed in an order that depends on the two counters (on the
// process's history); `on_caller` is the one to extend a graph the caller
// builds on. Called inside an active parallel region, runs `beside` and then
// `on_caller` on the calling thread.
void RunBeside(const std::function<void()>& on_caller,
               const std::function<void()>& beside);

// Part `part` of `count` items cut into `parts` contiguous spans whose sizes
// differ by at most one, the first (count % parts) one larger.
struct Span {
  int64_t begin = 0;
  int64_t size = 0;
};
Span EvenSpan(int64_t count, int64_t parts, int64_t part);

// Rows [0, rows) cut by EvenSpan into one span per LibTorch thread (fewer
// when a span would hold fewer than `min_rows`), each span(begin, size) a
// task of RunTeamTasks; on the calling thread when there is one span. For
// work whose rows are independent, so that any cut gives the same bytes.
// at::parallel_for is no substitute in core: its OpenMP body is a header
// template, serial in files compiled without -fopenmp (all but
// team_tasks.cc).
void RunRowSpans(int64_t rows, int64_t min_rows,
                 const std::function<void(int64_t begin, int64_t size)>& span);

}  // namespace proxflow::core

#endif  // PROXFLOW_CORE_TEAM_TASKS_H_
