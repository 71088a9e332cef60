// JobProgressView: what `train --follow` and `jobs watch` print for a job's
// events. On a terminal, one progress bar redrawn in place (step/total, %,
// it/s, ETA, latest divergence and kinetic energy) with state changes and
// checkpoints printed above it; elsewhere (logs, pipes) plain lines, a progress
// line per 10% of the run or per 30 s. Thread-compatible.
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
// 0.456"
std::string ProgressText(const proxflow::v1::JobProgress& progress,
                         int64_t batch_size);

class JobProgressView {
 public:
  // `batch_size` turns samples/s into iterations/s.
  JobProgressView(std::ostream& out, bool tty, int64_t batch_size);

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
  proxflow::v1::JobProgress latest_;
  bool have_progress_ = false;
  bool bar_visible_ = false;
  int last_decile_ = -1;
  absl::Time last_plain_ = absl::InfinitePast();
};

}  // namespace proxflow::cli

#endif  // PROXFLOW_CLIENT_CLI_JOB_PROGRESS_H_
