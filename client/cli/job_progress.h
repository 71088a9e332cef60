// JobProgressView: what `train --follow` and `jobs watch` print for a job's
// events. On a terminal, one progress bar redrawn in place (step/total, %,
// it/s, ETA, latest divergence and kinetic energy) with state changes and
// checkpoints printed above it; elsewhere (logs, pipes) plain lines, a progress
// line per 10% of the run or per 30 s. Each new evaluation prints an
// "eval@STEP" line with all its metrics (MNIST: class coverage first, so that a
// collapse onto a few digits shows while it happens). Thread-compatible.
#ifndef PROXFLOW_CLIENT_CLI_JOB_PROGRESS_H_
#define PROXFLOW_CLIENT_CLI_JOB_PROGRESS_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "proxflow/v1/job.pb.h"

namespace proxflow::cli {

// "1200/3000  40%  27.1 it/s  ETA 1m06s  divergence 0.0123  kinetic_energy
// 0.456", then from the latest evaluation of labelled images "  classes 7/10"
// (classes holding half a uniform share; /N is the run's class count when
// `classes` > 0, else 10).
std::string ProgressText(const proxflow::v1::JobProgress& progress,
                         int64_t batch_size, int classes = 0);

// "eval@1500  class_coverage 7  largest_class_share 0.31  class_entropy 1.9
// frechet 142  divergence 0.012  ...": the class monitor's metrics first, then
// the rest by name. Empty when `progress` carries no evaluation.
std::string EvalText(const proxflow::v1::JobProgress& progress);

class JobProgressView {
 public:
  // `batch_size` turns samples/s into iterations/s; `classes` is the run's
  // class count (dataset.mnist_labels; 0: all ten) for "classes 7/10".
  JobProgressView(std::ostream& out, bool tty, int64_t batch_size,
                  int classes = 0);

  void OnEvent(const proxflow::v1::JobEvent& event);
  void OnReconnect(const absl::Status& cause);
  // Ends the bar and prints the job's outcome.
  void Done(const proxflow::v1::Job& job);

 private:
  void Line(const std::string& text);  // a line above the bar
  void DrawBar();

  std::ostream& out_;
  const bool tty_;
  const int64_t batch_size_;
  const int classes_;
  proxflow::v1::JobProgress latest_;
  bool have_progress_ = false;
  bool bar_visible_ = false;
  int last_decile_ = -1;
  int64_t last_eval_step_ = 0;  // the latest evaluation printed
  absl::Time last_plain_ = absl::InfinitePast();
};

}  // namespace proxflow::cli

#endif  // PROXFLOW_CLIENT_CLI_JOB_PROGRESS_H_
