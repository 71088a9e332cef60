// What `train --follow` and `jobs watch` print: the progress text, the
// evaluation line with the class monitor's metrics first, printed once per
// new evaluation in plain and terminal output alike.
#include "client/cli/job_progress.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace proxflow::cli {
namespace {

namespace pb = ::proxflow::v1;

pb::JobProgress Progress(int64_t step, int64_t eval_step) {
  pb::JobProgress p;
  p.set_step(step);
  p.set_max_step(1000);
  (*p.mutable_metrics())["divergence"] = 0.5;
  if (eval_step > 0) {
    p.set_eval_step(eval_step);
    auto& e = *p.mutable_eval_metrics();
    e["straightness"] = 0.98;
    e["frechet"] = 142.25;
    e["class_entropy"] = 1.5;
    e["largest_class_share"] = 0.31;
    e["class_coverage"] = 7;
    e["divergence"] = 0.25;
  }
  return p;
}

pb::JobEvent Event(const pb::JobProgress& p) {
  pb::JobEvent e;
  e.set_job_id("job-1");
  *e.mutable_progress() = p;
  return e;
}

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1))
    ++n;
  return n;
}

TEST(EvalText, ClassMetricsFirstThenTheRestByName) {
  EXPECT_EQ(EvalText(Progress(500, 500)),
            "eval@500  class_coverage 7  largest_class_share 0.31  "
            "class_entropy 1.5  frechet 142.2  divergence 0.25  "
            "straightness 0.98");
  EXPECT_EQ(EvalText(Progress(500, 0)), "") << "no evaluation yet";
}

TEST(ProgressText, ShowsTheLatestClassCoverageOverTheRunsClasses) {
  EXPECT_EQ(ProgressText(Progress(600, 500), 0),
            "600/1000  60%  divergence 0.5  classes 7/10");
  EXPECT_EQ(ProgressText(Progress(600, 500), 0, 3),
            "600/1000  60%  divergence 0.5  classes 7/3");
  EXPECT_EQ(ProgressText(Progress(600, 0), 0), "600/1000  60%  divergence 0.5");
}

TEST(JobProgressView, PrintsEachEvaluationOnceInPlainOutput) {
  std::ostringstream out;
  JobProgressView view(out, /*tty=*/false, 0);
  view.OnEvent(Event(Progress(100, 0)));
  view.OnEvent(Event(Progress(500, 500)));
  view.OnEvent(Event(Progress(510, 500)));  // the same evaluation again
  view.OnEvent(Event(Progress(1000, 1000)));
  const std::string text = out.str();
  EXPECT_EQ(Count(text, "eval@500  class_coverage 7"), 1) << text;
  EXPECT_EQ(Count(text, "eval@1000  class_coverage 7"), 1) << text;
  EXPECT_EQ(Count(text, "eval@"), 2) << text;
}

TEST(JobProgressView, PrintsTheEvaluationAboveTheBarOnATerminal) {
  std::ostringstream out;
  JobProgressView view(out, /*tty=*/true, 0);
  view.OnEvent(Event(Progress(100, 0)));
  view.OnEvent(Event(Progress(500, 500)));
  view.OnEvent(Event(Progress(600, 500)));
  const std::string text = out.str();
  EXPECT_EQ(Count(text, "eval@500"), 1) << text;
  // The line ends with a newline and the bar is redrawn below it.
  const size_t line = text.find("eval@500");
  ASSERT_NE(line, std::string::npos);
  const size_t newline = text.find('\n', line);
  ASSERT_NE(newline, std::string::npos);
  EXPECT_NE(text.find("classes 7/10", newline), std::string::npos) << text;
}

}  // namespace
}  // namespace proxflow::cli
